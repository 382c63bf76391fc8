"""What the rebalancer sees: nodes, pods, workload rules, the topology and the moves already made.

Frozen dataclasses, built by the operator from the API server (``augur.operator.rebalancer``) or by a
benchmark from a generated scenario. :meth:`ClusterSnapshot.canonical` sorts nodes by name and pods by
``namespace/name``, so nothing the rebalancer decides depends on the order things were listed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from augur.placement.constants import DEFAULT_MAX_PODS
from augur.placement.model import WorkloadRules
from augur.placement.topology import TopologyModel


@dataclass(frozen=True)
class NodeState:
    """One node."""

    name: str
    zone: str = ""
    region: str = ""
    cpu: float = 1.0
    """Allocatable cores."""
    memory: float = 1.0
    """Allocatable GiB."""
    max_pods: float = DEFAULT_MAX_PODS
    """Allocatable pods (``status.allocatable.pods``, 110 when absent): kube-scheduler binds no more pods than
    this, so a node with that many pods is no target."""
    cpu_used: float | None = None
    """Measured CPU use in cores (Prometheus), when load comes from measurements."""
    schedulable: bool = True
    """False for cordoned nodes and nodes with a ``NoSchedule``/``NoExecute`` taint: never a target, and
    left out of the balance figures."""
    taints: frozenset[str] = frozenset()
    """Keys of the node's ``NoSchedule``/``NoExecute`` taints: a pod must tolerate them to move here."""
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PodState:
    """One running pod."""

    namespace: str
    name: str
    node: str
    owner: str
    """Key of the controller the pod belongs to (``namespace/Kind/name``; a ReplicaSet of a Deployment is
    folded into the Deployment); empty without a controller. Rate limits and cool-down are per owner."""
    workload: str | None = None
    """Key of the pod's ``WorkloadProfile`` (``namespace/name``), when one selects it."""
    cpu: float = 0.0
    """Requested cores."""
    memory: float = 0.0
    """Requested GiB."""
    cpu_used: float | None = None
    """Measured cores (Prometheus), when known."""
    cpu_forecast: float | None = None
    """Expected cores at the forecast peak within the lead time, when a forecast exists."""
    blocked: str = ""
    """Why the pod must never be moved (the movability rules), empty when it may be."""
    tolerates: frozenset[str] = frozenset()
    """Taint keys the pod tolerates (``*``: every taint)."""
    node_selector: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The pod's ``nodeSelector``: a target must carry these labels."""
    terminating: bool = False
    """Being deleted (``deletionTimestamp`` set): it still holds its requests and its pod slot on the node,
    as kube-scheduler counts them until it is gone, but adds no load of its own (with measured load, the
    node's measurement still holds its use until it stops) and no traffic to its workload's network cost.
    Without this, the pod a finished move evicted counted on its source until the kubelet removed it (up to
    its grace period), and the next run moved another pod off that node."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class PastMove:
    """A move made (or planned in a dry run) before: what rate limits and the cool-down count."""

    owner: str
    source: str
    target: str
    at: datetime
    planned: bool = False
    """A dry-run plan (not carried out): within the cool-down its owner is not moved at all, since its pods
    did not move and further plans would count the same imbalance again."""


@dataclass(frozen=True)
class ClusterSnapshot:
    """The cluster at one moment, as the rebalancer needs it."""

    nodes: tuple[NodeState, ...]
    pods: tuple[PodState, ...]
    rules: tuple[WorkloadRules, ...] = ()
    """Rules of every ``WorkloadProfile`` (dependencies with traffic, placement), via ``rules_from_api``."""
    topology: TopologyModel = field(default_factory=TopologyModel)
    recent: tuple[PastMove, ...] = ()
    """Moves within the rate-limit window and the cool-down."""
    busy: frozenset[str] = frozenset()
    """``namespace/name`` of pods with a Migration still in progress: not proposed again."""
    in_flight: int = 0
    """Approved Migrations still in progress. While any runs, no new move is proposed: moves go in waves, so
    a run never plans against loads that are about to change."""
    measured: bool = False
    """Load is measured use (``cpu_used``) rather than requests."""
    last_finished: datetime | None = None
    """When the latest approved Migration touching these nodes finished: with measured load, readings wait
    ``RebalanceParams.settle`` after it."""

    def canonical(self) -> ClusterSnapshot:
        """The same snapshot with nodes sorted by name, pods by ``namespace/name``, rules by key."""
        return replace(
            self,
            nodes=tuple(sorted(self.nodes, key=lambda n: n.name)),
            pods=tuple(sorted(self.pods, key=lambda p: (p.namespace, p.name))),
            rules=tuple(sorted(self.rules, key=lambda r: r.key)),
            recent=tuple(sorted(self.recent, key=lambda m: (m.at, m.owner, m.source, m.target))),
        )
