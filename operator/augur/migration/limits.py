"""Rate limits, the per-workload cool-down, and the hysteresis counters.

Counts come from the moves already made (or planned in a dry run) inside the window, which the operator
reads back from the ``Migration`` objects, so they survive a restart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from augur.migration.params import RebalanceParams
from augur.migration.snapshot import PastMove


@dataclass(frozen=True)
class Readings:
    """Consecutive readings above the threshold: now (``above``) and as forecast (``forecast_above``)."""

    above: int = 0
    forecast_above: int = 0

    def observe(self, above_now: bool, forecast_above_now: bool) -> Readings:
        return Readings(self.above + 1 if above_now else 0, self.forecast_above + 1 if forecast_above_now else 0)


@dataclass
class Budget:
    """What is left of the rate limits in this run (mutated as moves are chosen; one run's accumulator)."""

    params: RebalanceParams
    now: datetime
    total: int = 0
    per_node: Counter[str] = field(default_factory=Counter)
    per_owner: Counter[str] = field(default_factory=Counter)
    left: dict[str, dict[str, datetime]] = field(default_factory=dict)
    """Owner → node → latest move of one of its pods off that node within the cool-down."""
    arrived: dict[str, dict[str, datetime]] = field(default_factory=dict)
    """Owner → node → latest move of one of its pods onto that node within the cool-down."""
    planned: dict[str, datetime] = field(default_factory=dict)
    """Owner → latest dry-run plan within the cool-down."""
    run: int = 0

    @classmethod
    def from_recent(cls, recent: tuple[PastMove, ...], params: RebalanceParams, now: datetime) -> Budget:
        budget = cls(params, now)
        since = now - timedelta(seconds=params.window)
        cooling = now - timedelta(seconds=params.cooldown)
        for m in recent:
            if m.owner and m.at > cooling:
                budget._remember(m.owner, m.source, m.target, m.at)
                if m.planned:
                    budget.planned[m.owner] = max(m.at, budget.planned.get(m.owner, m.at))
            if m.at >= since:
                budget.total += 1
                budget.per_owner[m.owner] += 1
                budget.per_node[m.source] += 1
                if m.target:
                    budget.per_node[m.target] += 1
        return budget

    def exhausted(self) -> str:
        """Why no further move may be proposed in this run, empty when one may."""
        p = self.params
        if self.run >= p.max_per_run:
            return f"{p.max_per_run} moves proposed in this run (maxMovesPerRun)"
        if self.total >= p.max_moves:
            return f"{self.total} moves within the last {p.window:g}s (maxMoves {p.max_moves})"
        return ""

    def _remember(self, owner: str, source: str, target: str, at: datetime) -> None:
        for table, node in ((self.left, source), (self.arrived, target)):
            if node:
                per = table.setdefault(owner, {})
                per[node] = max(at, per.get(node, at))

    def owner_blocked(self, owner: str) -> str:
        """Why no pod of ``owner`` may move now (its rate limit), empty when one may."""
        p = self.params
        if self.per_owner[owner] >= p.max_per_workload:
            return f"{owner} already moved {self.per_owner[owner]} time(s) within {p.window:g}s (maxMovesPerWorkload)"
        if owner in self.planned:
            return f"{owner} is cooling down after a plan at {self.planned[owner]:%H:%M:%S} (cooldown {p.cooldown:g}s)"
        return ""

    def source_blocked(self, owner: str, node: str) -> str:
        """Cool-down: why a pod of ``owner`` may not leave ``node`` (one of its pods was moved onto it within
        the cool-down), empty when it may."""
        at = self.arrived.get(owner, {}).get(node)
        if at is None:
            return ""
        return (
            f"{owner} is cooling down on {node}: a pod moved there at {at:%H:%M:%S} is not moved off it within "
            f"{self.params.cooldown:g}s (cooldown)"
        )

    def target_ok(self, owner: str, node: str) -> bool:
        """Cool-down: False when a pod of ``owner`` was moved off ``node`` within the cool-down (no move back)."""
        return node not in self.left.get(owner, {})

    def node_ok(self, node: str) -> bool:
        return self.per_node[node] < self.params.max_per_node

    def take(self, owner: str, source: str, target: str) -> None:
        self.total += 1
        self.run += 1
        self.per_owner[owner] += 1
        self.per_node[source] += 1
        self.per_node[target] += 1
        self._remember(owner, source, target, self.now)
