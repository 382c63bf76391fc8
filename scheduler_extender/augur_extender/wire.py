"""The kube-scheduler extender wire format (``k8s.io/kube-scheduler/extender/v1``).

The Go structs carry no JSON tags, so keys are the Go field names (PascalCase); embedded Pod and Node
objects keep Kubernetes camelCase. Requests are parsed with orjson by hand (a full ``NodeList`` can be
megabytes); the pydantic models document the replies (``response_model``) and type the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

MAX_EXTENDER_PRIORITY = 10


class HostPriority(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Host: str
    Score: int = Field(ge=0, le=MAX_EXTENDER_PRIORITY)


class ExtenderFilterResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Nodes: dict[str, Any] | None = None
    """``v1.NodeList`` of the nodes that pass (when ``nodeCacheCapable`` is false)."""
    NodeNames: list[str] | None = None
    """Names of the nodes that pass (when ``nodeCacheCapable`` is true)."""
    FailedNodes: dict[str, str] = {}
    FailedAndUnresolvableNodes: dict[str, str] = {}
    Error: str = ""


class ErrorReply(BaseModel):
    detail: str


class BadRequestError(ValueError):
    """The body is not a valid ``ExtenderArgs``."""


@dataclass(frozen=True)
class ExtenderArgs:
    pod: dict[str, Any]
    node_names: list[str] | None
    """Set when the scheduler runs the extender with ``nodeCacheCapable: true``."""
    node_items: list[dict[str, Any]] | None
    """The ``Nodes.items`` objects when ``nodeCacheCapable`` is false."""

    @property
    def cache_capable(self) -> bool:
        return self.node_names is not None

    def names(self) -> list[str]:
        if self.node_names is not None:
            return self.node_names
        return [str((n.get("metadata") or {}).get("name") or "") for n in self.node_items or []]


def parse_extender_args(body: bytes) -> ExtenderArgs:
    """Parse and shape-check a request body; raise :class:`BadRequestError` with every problem found."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"malformed JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise BadRequestError("body must be a JSON object with Pod and Nodes or NodeNames")
    problems: list[str] = []
    pod = raw.get("Pod")
    if not isinstance(pod, dict):
        problems.append("Pod: must be an object")
    names = raw.get("NodeNames")
    if names is not None and not (isinstance(names, list) and set(map(type, names)) <= {str}):
        problems.append("NodeNames: must be a list of strings or null")
    nodes = raw.get("Nodes")
    items = nodes.get("items") if isinstance(nodes, dict) else None
    if nodes is not None and not (isinstance(items, list) and all(isinstance(n, dict) for n in items)):
        problems.append("Nodes: must be a NodeList object with items, or null")
    if names is None and nodes is None:
        problems.append("one of Nodes or NodeNames must be set")
    if problems:
        raise BadRequestError("; ".join(problems))
    return ExtenderArgs(pod=pod, node_names=names, node_items=items if names is None else None)  # type: ignore[arg-type]
