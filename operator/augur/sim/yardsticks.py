"""The honest yardsticks of ``facts.md`` §2 beyond ``hpa`` and ``oracle``: ``oracle_floor`` and ``hpa_matched``.

``oracle_floor`` is perfect foresight at 100 % utilization, the true cost floor (the ``oracle`` plans
for the target utilization, so it is not one). ``hpa_matched`` is what a user would do instead of
installing Augur: keep the HPA and lower its target utilization until it spends as many replica-hours
as Augur; the lowering is found by bisection.

Replica-hours move in steps with the target utilization, and not always small ones: on one series an
HPA target 0.00002 lower added 11 % replica-hours (Twitter_volume_CRM, 0.71110 against 0.71112), and they
are not monotonic in it. So the run that spends at least the goal may spend
much more, and the bisection's bracket need not be the crossing nearest the goal. :attr:`Matched.at_goal`
reads the HPA's cost/under-provisioning curve at exactly the goal's replica-hours: over every run tried
(the bisection's and a fixed grid of targets), between the two that spend nearest the goal on either
side, interpolated linearly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from augur.constants import FloatArray
from augur.sim.protocol import Setup, compute_metrics, run_hpa, run_oracle

BISECTION_STEPS = 16
"""Halvings of the target-utilization interval (``u`` found to within 2e-5 of its starting width)."""
LOWEST_UTILIZATION = 0.01
"""Bisection gives up below this target utilization (the policy then spends more than 100 x its need)."""
GRID = tuple(round(0.30 + 0.02 * i, 2) for i in range(35))
"""Target utilizations 0.30, 0.32, ..., 0.98 tried besides the bisection's, for the curve at the goal: the
HPA's replica-hours are not monotonic in its target, so the bisection's bracket can be far from the goal
on one side (on ec2_cpu_utilization_c6585a it spends 10 % more, while the HPA at its own 0.8 spends
0.004 % less than Augur)."""


Mixable = TypeVar("Mixable", float, FloatArray)


def mix(first: Mixable, second: Mixable, share: float) -> Mixable:
    """``share`` of ``second`` and the rest of ``first``: the expected value of a coin flip between two
    runs (numbers, or step-by-step series), which is how :class:`AtGoal` reads the HPA between two runs."""
    return (1 - share) * first + share * second


@dataclass(frozen=True)
class Run:
    """One HPA run: its target utilization, replica-hours and under-provisioned steps."""

    target_utilization: float
    replica_hours: float
    under_provisioned_steps: int


@dataclass(frozen=True)
class AtGoal:
    """The HPA's curve at exactly the goal's replica-hours: the runs tried that spend nearest the goal,
    ``more`` (at least the goal) and ``less`` (less than it), interpolated with weight ``share`` on
    ``less`` (a coin flip between the two settings spends the goal on average); ``more`` is ``less`` and
    ``share`` is 1 when no run tried spends as much as the goal."""

    more: Run
    less: Run
    share: float
    more_desired: tuple[int, ...]
    less_desired: tuple[int, ...]

    @property
    def under_provisioned_steps(self) -> float:
        return mix(float(self.more.under_provisioned_steps), float(self.less.under_provisioned_steps), self.share)

    @property
    def replica_hours(self) -> float:
        return mix(self.more.replica_hours, self.less.replica_hours, self.share)


@dataclass(frozen=True)
class Matched:
    """The ``hpa_matched`` run: its decisions and the target utilization that produced them."""

    desired: list[int]
    target_utilization: float
    replica_hours: float
    goal_replica_hours: float
    evaluations: int
    reached: bool
    """``False`` when even the lowest target utilization tried stays below the goal, or when the HPA at
    the policy's own target already spends more (then no lowering is needed and none is made)."""
    under_provisioned_steps: int = 0
    """Of this run (it spends at least the goal when ``reached``)."""
    at_goal: AtGoal | None = None
    """The HPA's cost/under-provisioning curve read at the goal, from every run tried (the bisection's and
    :data:`GRID`'s); ``None`` when every run tried spends at least the goal."""

    @property
    def under_provisioned_steps_at_goal(self) -> float:
        """:attr:`at_goal`'s under-provisioned steps; this run's own count when there is none."""
        return float(self.under_provisioned_steps) if self.at_goal is None else self.at_goal.under_provisioned_steps

    def describe(self) -> str:
        """One line for the reports: the setting found, what it spends, and the curve at the goal."""
        text = (
            f"hpa_matched: the HPA rule at target utilization {self.target_utilization:.4f} "
            f"({self.replica_hours:.1f} replica-hours, {self.under_provisioned_steps} under-provisioned steps; "
            f"goal {self.goal_replica_hours:.1f})"
        )
        if not self.reached:
            text += "; not lowered: the HPA spends more at its own target, or less at the lowest tried"
        g = self.at_goal
        if g is None:
            return f"{text}; no setting tried spends as little as the goal"
        if g.more is g.less:
            less = g.less
            return (
                f"{text}; at the goal: u {less.target_utilization:.4f} spends {less.replica_hours:.1f} "
                f"with {less.under_provisioned_steps} steps"
            )
        return (
            f"{text}; at the goal: u {g.more.target_utilization:.4f} and {g.less.target_utilization:.4f} "
            f"mixed {1 - g.share:.2f} / {g.share:.2f}, {g.under_provisioned_steps:.1f} steps"
        )


def with_utilization(setup: Setup, target_utilization: float) -> Setup:
    """The same setup planning for another target utilization (through the policy spec)."""
    return setup.variant(target_utilization=target_utilization)


def run_oracle_floor(demand: FloatArray, setup: Setup) -> list[int]:
    """``oracle`` at ``u = 1``: the fewest replicas that never under-provision, given the lead time."""
    return run_oracle(demand, with_utilization(setup, 1.0))


def run_hpa_matched(demand: FloatArray, setup: Setup, mask: npt.NDArray[np.bool_], goal: float) -> Matched:
    """``hpa`` with its target utilization lowered by bisection until its replica-hours equal ``goal``.

    Replica-hours fall as the target utilization rises (in steps: replica counts are whole numbers, and
    not monotonically), so equality is rarely exact: the result is the run at the highest target
    utilization found whose replica-hours are at least ``goal`` (the HPA never gets less to spend than the
    policy it is compared with), after ``BISECTION_STEPS`` halvings of ``[low, u]``, where ``low`` starts
    at ``u / 2`` and halves until it spends at least ``goal`` (down to ``LOWEST_UTILIZATION``). With it
    comes the HPA's curve read at exactly ``goal`` (:attr:`Matched.at_goal`) over every run the bisection
    made and the runs at :data:`GRID`.
    """
    tried: dict[float, tuple[list[int], Run]] = {}

    def run(u: float) -> tuple[list[int], Run]:
        if u not in tried:
            desired = run_hpa(demand, with_utilization(setup, u))
            metrics = compute_metrics(demand, desired, setup, mask)
            tried[u] = desired, Run(u, metrics.replica_hours, metrics.under_provisioned_steps)
        return tried[u]

    desired, found, reached, evaluations = _bisect(run, setup.params.target_utilization, goal)
    for u in GRID:
        run(u)
    under = found.under_provisioned_steps
    at_goal = curve_at(list(tried.values()), goal)
    return Matched(desired, found.target_utilization, found.replica_hours, goal, evaluations, reached, under, at_goal)


def _bisect(run: Callable[[float], tuple[list[int], Run]], u: float, goal: float) -> tuple[list[int], Run, bool, int]:
    """The bisection: (decisions, run, reached, HPA runs made)."""
    desired, found = run(u)
    evaluations = 1
    if found.replica_hours >= goal:
        return desired, found, found.replica_hours == goal, evaluations
    high, low = u, u / 2
    while True:
        evaluations += 1
        candidate, tried = run(low)
        if tried.replica_hours >= goal:
            desired, found = candidate, tried
            break
        high = low
        if low <= LOWEST_UTILIZATION:
            return candidate, tried, False, evaluations
        low = max(LOWEST_UTILIZATION, low / 2)
    for _ in range(BISECTION_STEPS):
        evaluations += 1
        candidate, tried = run((low + high) / 2)
        if tried.replica_hours >= goal:
            low, desired, found = tried.target_utilization, candidate, tried
        else:
            high = tried.target_utilization
    return desired, found, True, evaluations


def curve_at(runs: list[tuple[list[int], Run]], goal: float) -> AtGoal | None:
    """The curve at ``goal`` replica-hours: between the run spending the least of those that spend at
    least ``goal`` and the run spending the most of those that spend less, interpolated linearly (a tie in
    replica-hours goes to the fewer under-provisioned steps, then the lower target); the latter alone
    when none spends as much, ``None`` when none spends less."""

    def nearest(side: list[tuple[list[int], Run]], sign: int) -> tuple[list[int], Run] | None:
        def key(r: tuple[list[int], Run]) -> tuple[float, int, float]:
            return sign * r[1].replica_hours, r[1].under_provisioned_steps, r[1].target_utilization

        return min(side, key=key, default=None)

    more = nearest([r for r in runs if r[1].replica_hours >= goal], 1)
    less = nearest([r for r in runs if r[1].replica_hours < goal], -1)
    if less is None:
        return None
    if more is None:
        return AtGoal(less[1], less[1], 1.0, tuple(less[0]), tuple(less[0]))
    share = (more[1].replica_hours - goal) / (more[1].replica_hours - less[1].replica_hours)
    return AtGoal(more[1], less[1], share, tuple(more[0]), tuple(less[0]))
