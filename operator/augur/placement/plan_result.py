"""What a :class:`~augur.placement.plan.Planner` hands over: the :class:`Plan` (read by the request path: its
free slots per node, whether it still holds for a snapshot, its age) and :class:`PlanSuperseded`, the signal that
a full plan was abandoned."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.constants import FloatArray
from augur.placement.context import Snapshot
from augur.placement.model import WorkloadRules
from augur.placement.plan_inputs import plan_signature


@dataclass(frozen=True, eq=False)
class Plan:
    workloads: tuple[str, ...]
    nodes: tuple[str, ...]
    """Node names in table order when the plan was made."""
    total: FloatArray
    """Workload x node: running plus planned pods when the plan was made."""
    made_at: float
    """The caller's clock (seconds) when the plan was made."""
    incremental: bool = False
    """Repaired from the previous plan rather than planned anew."""
    cpu_seconds: float = 0.0
    cost: float = 0.0
    """Network cost of running plus planned pods."""
    signature: tuple[WorkloadRules, ...] = ()
    """The rules it planned from (:func:`plan_signature`)."""
    reason: str = ""
    """Why it was planned anew (one of :data:`~augur.placement.plan_inputs.FULL_PLAN_REASONS`); ``""`` for a repair."""
    provisional: bool = False
    """The best plan so far of a full plan still under way (:attr:`~augur.placement.plan.Planner.publish`),
    not its result."""
    cut_short: bool = False
    """A full plan whose annealing runs stopped at
    :attr:`~augur.placement.plan_settings.PlanSettings.search_seconds`."""
    refreshed: bool = False
    """A provisional plan handed over again, repaired anew, because the one handed over last was
    :attr:`~augur.placement.plan_settings.PlanSettings.refresh_seconds` old."""

    def covers(self, snapshot: Snapshot) -> bool:
        """The plan is over the snapshot's node set (in the same positions)."""
        return snapshot.table.names_tuple == self.nodes

    def planned_from(self, snapshot: Snapshot) -> bool:
        """The plan was made from the snapshot's workloads: the same plannable workloads with the same replica
        counts, pod sizes, traffic and avoidances (pods may have started or stopped since). ``O(workloads)``,
        ``O(1)`` while the rule book is the same object."""
        return self.signature == plan_signature(snapshot.rulebook)

    def slots(self, workload: str | None, snapshot: Snapshot) -> FloatArray | None:
        """Free planned slots of ``workload`` per node of ``snapshot``'s table: planned total minus the pods
        running there now (``None`` when the plan does not cover the workload or the node set). ``O(nodes)``."""
        if workload is None or workload not in self.workloads or not self.covers(snapshot):
            return None
        free: FloatArray = self.total[self.workloads.index(workload)].copy()
        idx, count = snapshot.placed(workload)
        np.subtract.at(free, idx, count)
        return np.maximum(free, 0.0)

    def age(self, now: float) -> float:
        return max(0.0, now - self.made_at)


class PlanSuperseded(Exception):  # noqa: N818 -- a signal to its caller, not an error
    """A full plan was abandoned because its caller said it was superseded
    (:attr:`~augur.placement.plan.Planner.superseded`)."""

    def __init__(self, cpu_seconds: float = 0.0) -> None:
        super().__init__(f"full plan abandoned after {cpu_seconds:.3f} s of CPU: its workloads changed meanwhile")
        self.cpu_seconds = cpu_seconds
        """CPU the abandoned search had used."""
