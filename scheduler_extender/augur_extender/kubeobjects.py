"""Read the few things the extender needs from Kubernetes objects (camelCase dicts)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from augur.constants import REGION_LABEL, ZONE_LABEL
from augur.placement import NodeInfo
from augur.placement.constants import DEFAULT_MAX_PODS

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
}
GIB = 2.0**30


def quantity(value: Any) -> float:
    """A resource quantity (``"500m"``, ``"2Gi"``, ``4``) as a float; ``ValueError`` when malformed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _QUANTITY.match(str(value).strip())
    if not m or m.group(2) not in _SUFFIX:
        raise ValueError(f"bad quantity {value!r}")
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def labels_of(obj: Any) -> dict[str, str]:
    labels = _get(obj, "metadata", "labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def node_info(obj: Any, zone_label: str = ZONE_LABEL, region_label: str = REGION_LABEL) -> NodeInfo:
    """A ``NodeInfo`` (no requests yet) from a Node object."""
    labels = labels_of(obj)
    alloc = _get(obj, "status", "allocatable") or {}
    return NodeInfo(
        name=str(_get(obj, "metadata", "name") or ""),
        zone=labels.get(zone_label, ""),
        region=labels.get(region_label, ""),
        cpu=_safe_quantity(alloc.get("cpu"), 0.0),
        memory=_safe_quantity(alloc.get("memory"), 0.0) / GIB,
        max_pods=_safe_quantity(alloc.get("pods"), DEFAULT_MAX_PODS),
        labels=labels,
    )


def _safe_quantity(value: Any, default: float) -> float:
    try:
        return default if value is None else quantity(value)
    except ValueError:
        return default


@dataclass(frozen=True)
class PodFacts:
    """What the cache keeps about a pod."""

    uid: str
    name: str
    namespace: str
    node: str
    """Assigned node, empty while pending."""
    cpu: float
    memory: float
    """GiB."""
    labels: Mapping[str, str] = field(default_factory=dict)
    terminal: bool = False


def pod_requests(pod: Any) -> tuple[float, float]:
    """Effective cores and GiB requested: the sum over containers, at least each init container's, plus overhead."""
    spec = _get(pod, "spec") or {}
    cpu, mem = _sum_requests(spec.get("containers") or [])
    for init in spec.get("initContainers") or []:
        icpu, imem = _sum_requests([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    overhead = spec.get("overhead") or {}
    cpu += _safe_quantity(overhead.get("cpu"), 0.0)
    mem += _safe_quantity(overhead.get("memory"), 0.0) / GIB
    return cpu, mem


def _sum_requests(containers: list[Any]) -> tuple[float, float]:
    cpu = mem = 0.0
    for c in containers:
        req = _get(c, "resources", "requests") or {}
        cpu += _safe_quantity(req.get("cpu"), 0.0)
        mem += _safe_quantity(req.get("memory"), 0.0) / GIB
    return cpu, mem


def pod_facts(pod: Any) -> PodFacts:
    meta = _get(pod, "metadata") or {}
    cpu, mem = pod_requests(pod)
    phase = _get(pod, "status", "phase")
    return PodFacts(
        uid=str(meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}"),
        name=str(meta.get("name") or ""),
        namespace=str(meta.get("namespace") or ""),
        node=str(_get(pod, "spec", "nodeName") or ""),
        cpu=cpu,
        memory=mem,
        labels=labels_of(pod),
        terminal=phase in ("Succeeded", "Failed"),
    )
