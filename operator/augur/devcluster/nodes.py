"""Fake nodes for kwok: labels, allocatable resources and the kwok taint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from augur.constants import REGION_LABEL, ZONE_LABEL

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
KWOK_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class NodeSpec:
    """One fake node."""

    name: str
    zone: str
    region: str
    cpu: str = "8"
    memory: str = "32Gi"
    pods: int = 110
    labels: dict[str, str] = field(default_factory=dict)


def default_nodes() -> tuple[NodeSpec, ...]:
    """Six nodes in three zones across two regions: enough to see placement decisions."""
    layout = (("east", "east-a"), ("east", "east-b"), ("west", "west-a"))
    return tuple(NodeSpec(name=f"kwok-{zone}-{i}", zone=zone, region=region) for region, zone in layout for i in (1, 2))


def generated_nodes(
    count: int, zones: int = 3, regions: int = 2, cpu: str = "32", memory: str = "128Gi"
) -> tuple[NodeSpec, ...]:
    """``count`` nodes spread round-robin over ``zones`` zones in ``regions`` regions (for benchmarks)."""
    out = []
    for i in range(count):
        z = i % zones
        region = f"region-{z % regions}"
        out.append(
            NodeSpec(name=f"kwok-node-{i:05d}", zone=f"{region}-zone-{z}", region=region, cpu=cpu, memory=memory)
        )
    return tuple(out)


def node_manifest(spec: NodeSpec) -> dict[str, Any]:
    resources = {"cpu": spec.cpu, "memory": spec.memory, "pods": str(spec.pods)}
    labels = {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "type": "kwok",
        ZONE_LABEL: spec.zone,
        REGION_LABEL: spec.region,
        **spec.labels,
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": labels, "annotations": {KWOK_ANNOTATION: "fake"}},
        "spec": {"taints": [KWOK_TAINT]},
        "status": {"allocatable": resources, "capacity": resources},
    }


NOT_READY_TAINTS = frozenset({"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
"""Taints the node lifecycle controller keeps on a node until it has seen it Ready."""


def ready_for_pods(node: Mapping[str, Any]) -> bool:
    """The node reports Ready *and* kube-controller-manager has removed its not-ready taint. kwok marks a
    node Ready at once, but the node lifecycle controller lifts ``node.kubernetes.io/not-ready`` only at its
    next look (every ``node-monitor-period``, 5 s); pods created in between can use only the nodes already
    free of it, and the scheduler packs them there. (The rebalancing benchmark's packed starts, with "2
    node(s) had untolerated taint(s)" in the FailedScheduling events, needed this and :func:`uncordoned`.)"""
    conditions = (node.get("status") or {}).get("conditions") or []
    taints = (node.get("spec") or {}).get("taints") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions) and not any(
        t.get("key") in NOT_READY_TAINTS for t in taints
    )


UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


def uncordoned(node: Mapping[str, Any]) -> bool:
    """``spec.unschedulable`` is off *and* the node lifecycle controller has removed the
    ``node.kubernetes.io/unschedulable`` taint it mirrors a cordon with: until then kube-scheduler's taint
    filter still keeps pods off the node."""
    spec = node.get("spec") or {}
    return not spec.get("unschedulable") and not any(
        t.get("key") == UNSCHEDULABLE_TAINT for t in spec.get("taints") or []
    )
