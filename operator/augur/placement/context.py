"""What a scoring component sees: the pod, its rules, the node table, the candidates and the occupancy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from augur.constants import FloatArray, IntArray
from augur.placement.model import NodeInfo, Occupancy, PeerPlacement, PodInfo, RuleBook, WorkloadRules
from augur.placement.table import NodeTable
from augur.placement.topology import TopologyModel

if TYPE_CHECKING:
    from augur.placement.plan import Plan


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything scoring needs about the cluster at one moment."""

    table: NodeTable
    occupancy: Occupancy = field(default_factory=Occupancy)
    rulebook: RuleBook = field(default_factory=RuleBook)
    positions: dict[str, tuple[IntArray, FloatArray]] = field(default_factory=dict, compare=False, repr=False)
    """Memo of :meth:`placed`; a cache that tracks occupancy incrementally may pre-fill it (it must agree
    with ``occupancy`` and ``table``)."""
    plan: Plan | None = field(default=None, compare=False, repr=False)
    """The pending-pod plan as the planner has it now (``None``: absent or stale, the ``plan`` component
    is then neutral). Attached by the caller; scoring only looks it up."""

    def placed(self, workload: str) -> tuple[IntArray, FloatArray]:
        """Node positions and pod counts of a workload's running pods (memoized: snapshots are immutable)."""
        hit = self.positions.get(workload)
        if hit is None:
            hit = self.positions[workload] = self.table.peer_weights(self.occupancy.nodes_of(workload))
        return hit

    @classmethod
    def build(
        cls,
        nodes: Sequence[NodeInfo],
        topology: TopologyModel | None = None,
        placements: Iterable[PeerPlacement] = (),
        rules: Iterable[WorkloadRules] = (),
    ) -> Snapshot:
        return cls(
            NodeTable.build(nodes, topology or TopologyModel()),
            Occupancy.from_placements(placements),
            RuleBook(rules),
        )


@dataclass(frozen=True, eq=False)
class ScoringContext:
    pod: PodInfo
    rules: WorkloadRules | None
    snapshot: Snapshot
    cand: IntArray
    """Positions (in the node table) of the nodes to score."""
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Intermediate results shared by the components of one call."""

    @property
    def table(self) -> NodeTable:
        return self.snapshot.table

    def constant(self, value: float) -> FloatArray:
        return np.full(len(self.cand), value, dtype=np.float64)

    def hosts(self, workloads: Iterable[str]) -> tuple[FloatArray, FloatArray]:
        """Pods of ``workloads`` on each candidate node and in each candidate's zone."""
        table = self.table
        on_node = np.zeros(len(table), dtype=np.float64)
        for w in workloads:
            idx, count = self.snapshot.placed(w)
            np.add.at(on_node, idx, count)
        in_zone = np.bincount(table.zone_idx, weights=on_node, minlength=len(table.zones)).astype(np.float64)
        return on_node[self.cand], in_zone[table.zone_idx[self.cand]]
