"""Pure inputs of placement scoring: nodes, the pod to place, where peers run, and workload rules.

Everything here is a frozen dataclass so that the extender, the rebalancer and the simulator can
share snapshots safely. Workloads are identified by a *key*: ``namespace/name`` of their
``WorkloadProfile`` (or just ``name`` when there is no namespace, as in simulator scenarios).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from augur.constants import ZONE_LABEL
from augur.placement.constants import DEFAULT_MAX_PODS

EMPTY_LABELS: Mapping[str, str] = MappingProxyType({})


def workload_key(namespace: str, name: str) -> str:
    """The key of a workload: ``namespace/name``, or ``name`` when the namespace is empty."""
    return f"{namespace}/{name}" if namespace else name


@dataclass(frozen=True)
class NodeInfo:
    """One node: where it is, what it offers, what is already asked of it."""

    name: str
    zone: str = ""
    region: str = ""
    cpu: float = 1.0
    """Allocatable cores."""
    memory: float = 1.0
    """Allocatable GiB."""
    cpu_requested: float = 0.0
    """Cores requested by the pods already on the node."""
    memory_requested: float = 0.0
    """GiB requested by the pods already on the node."""
    max_pods: float = DEFAULT_MAX_PODS
    """Allocatable pods (``status.allocatable.pods``): kube-scheduler binds no more pods than this."""
    pods: float = 0.0
    """Pods already on the node (every pod that counts against ``max_pods``, not only profiled ones)."""
    cpu_utilization: float | None = None
    """Measured CPU utilization 0..1, when a metric provides it."""
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PodInfo:
    """The pod to place."""

    name: str
    namespace: str = ""
    workload: str | None = None
    """Key of the pod's workload (``namespace/name`` of its ``WorkloadProfile``), if it has one."""
    cpu: float = 0.0
    """Requested cores."""
    memory: float = 0.0
    """Requested GiB."""


@dataclass(frozen=True)
class PeerPlacement:
    """``count`` running pods of ``workload`` on ``node``."""

    workload: str
    node: str
    count: int = 1


@dataclass(frozen=True)
class Occupancy:
    """Where the pods of each workload run: workload key → node name → pod count."""

    by_workload: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def from_placements(cls, placements: Iterable[PeerPlacement]) -> Occupancy:
        counts: dict[str, dict[str, int]] = {}
        for p in placements:
            per_node = counts.setdefault(p.workload, {})
            per_node[p.node] = per_node.get(p.node, 0) + p.count
        return cls(counts)

    def nodes_of(self, workload: str) -> Mapping[str, int]:
        return self.by_workload.get(workload, EMPTY_COUNTS)

    def total(self, workload: str) -> int:
        return sum(self.nodes_of(workload).values())


EMPTY_COUNTS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True)
class DependencyRule:
    """Traffic from a workload to ``peer`` (a workload key), with an optional hard distance limit."""

    peer: str
    traffic: float = 1.0
    max_distance: int | None = None


@dataclass(frozen=True)
class WorkloadRules:
    """What a workload's ``WorkloadProfile`` says about placement."""

    key: str
    dependencies: tuple[DependencyRule, ...] = ()
    prefer_zones: frozenset[str] = frozenset()
    avoid_zones: frozenset[str] = frozenset()
    prefer_regions: frozenset[str] = frozenset()
    avoid_regions: frozenset[str] = frozenset()
    avoid_nodes: frozenset[str] = frozenset()
    colocate_with: frozenset[str] = frozenset()
    """Workload keys whose nodes earn a co-location bonus."""
    avoid_workloads: frozenset[str] = frozenset()
    """Workload keys whose nodes get a penalty (excluded when ``required_avoidance``)."""
    required_avoidance: bool = False
    spread_topology_key: str = ZONE_LABEL
    replicas: int | None = None
    """Expected number of replicas (``status.desiredReplicas`` of the profile), when known."""
    pod_cpu: float | None = None
    """Cores one replica requests, when known (else the pod being placed stands in)."""
    pod_memory: float | None = None
    """GiB one replica requests, when known."""


class RuleBook:
    """Every workload's rules, with the reverse dependency index needed to find a pod's peers."""

    __slots__ = ("_incoming", "_peers", "_rules", "memo")

    def __init__(self, rules: Iterable[WorkloadRules] = ()) -> None:
        self.memo: dict[str, object] = {}
        self._peers: dict[str, dict[str, float]] = {}
        """Results derived from the rules that later snapshots may reuse (the pending-pod plan)."""
        self._rules: dict[str, WorkloadRules] = {r.key: r for r in rules}
        self._incoming: dict[str, dict[str, float]] = {}
        for r in self._rules.values():
            for dep in r.dependencies:
                into = self._incoming.setdefault(dep.peer, {})
                into[r.key] = into.get(r.key, 0.0) + dep.traffic

    def get(self, key: str | None) -> WorkloadRules | None:
        return None if key is None else self._rules.get(key)

    def __len__(self) -> int:
        return len(self._rules)

    def keys(self) -> list[str]:
        return list(self._rules)

    def peers(self, key: str) -> dict[str, float]:
        """Peers of ``key`` with the traffic in both directions summed (out-going and in-coming); the
        returned mapping is shared, do not modify it."""
        hit = self._peers.get(key)
        if hit is None:
            hit = self._peers[key] = self._compute_peers(key)
        return hit

    def _compute_peers(self, key: str) -> dict[str, float]:
        traffic = dict(self._incoming.get(key, {}))
        rules = self._rules.get(key)
        for dep in rules.dependencies if rules else ():
            traffic[dep.peer] = traffic.get(dep.peer, 0.0) + dep.traffic
        traffic.pop(key, None)
        return {k: v for k, v in traffic.items() if v > 0}
