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
    last_move: dict[str, datetime] = field(default_factory=dict)
    run: int = 0

    @classmethod
    def from_recent(cls, recent: tuple[PastMove, ...], params: RebalanceParams, now: datetime) -> Budget:
        budget = cls(params, now)
        since = now - timedelta(seconds=params.window)
        for m in recent:
            if m.owner:
                budget.last_move[m.owner] = max(m.at, budget.last_move.get(m.owner, m.at))
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

    def owner_blocked(self, owner: str) -> str:
        """Why a pod of ``owner`` may not move now, empty when it may."""
        p = self.params
        if self.per_owner[owner] >= p.max_per_workload:
            return f"{owner} already moved {self.per_owner[owner]} time(s) within {p.window:g}s (maxMovesPerWorkload)"
        last = self.last_move.get(owner)
        if last is not None and (self.now - last).total_seconds() < p.cooldown:
            return f"{owner} is cooling down after a move at {last:%H:%M:%S} (cooldown {p.cooldown:g}s)"
        return ""

    def node_ok(self, node: str) -> bool:
        return self.per_node[node] < self.params.max_per_node

    def take(self, owner: str, source: str, target: str) -> None:
        self.total += 1
        self.run += 1
        self.per_owner[owner] += 1
        self.per_node[source] += 1
        self.per_node[target] += 1
        self.last_move[owner] = self.now
