"""Read the few things the extender needs from Kubernetes objects (camelCase dicts); quantities and pod
requests are read by :mod:`augur.api.quantity`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from augur.api.meta import epoch_seconds
from augur.api.quantity import GIB, pod_requests, safe_quantity
from augur.constants import REGION_LABEL, ZONE_LABEL
from augur.placement import NodeInfo
from augur.placement.constants import DEFAULT_MAX_PODS
from augur.placement.gate import carries_plan_gate


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
        cpu=safe_quantity(alloc.get("cpu"), 0.0),
        memory=safe_quantity(alloc.get("memory"), 0.0) / GIB,
        max_pods=safe_quantity(alloc.get("pods"), DEFAULT_MAX_PODS),
        labels=labels,
    )


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
    gated: bool = False
    """Held at the plan gate (:data:`~augur.constants.PLAN_GATE` among its ``spec.schedulingGates``)."""
    created: float = 0.0
    """``metadata.creationTimestamp`` in epoch seconds (0 when absent): the same on every extender replica."""


def pod_facts(pod: Any) -> PodFacts:
    meta = _get(pod, "metadata") or {}
    cpu, mem = pod_requests(_get(pod, "spec"))
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
        gated=carries_plan_gate(_get(pod, "spec")),
        created=epoch_seconds(meta.get("creationTimestamp")) or 0.0,
    )
