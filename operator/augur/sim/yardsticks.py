"""The honest yardsticks of ``facts.md`` §2 beyond ``hpa`` and ``oracle``: ``oracle_floor`` and ``hpa_matched``.

``oracle_floor`` is perfect foresight at 100 % utilization, the true cost floor (the ``oracle`` plans
for the target utilization, so it is not one). ``hpa_matched`` is what a user would do instead of
installing Augur: keep the HPA and lower its target utilization until it spends as many replica-hours
as Augur; the lowering is found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from augur.sim.protocol import FloatArray, Setup, ready_series, run_hpa, run_oracle

BISECTION_STEPS = 16
"""Halvings of the target-utilization interval (``u`` found to within 2e-5 of its starting width)."""
LOWEST_UTILIZATION = 0.01
"""Bisection gives up below this target utilization (the policy then spends more than 100 x its need)."""


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


def with_utilization(setup: Setup, target_utilization: float) -> Setup:
    """The same setup planning for another target utilization (through the policy spec)."""
    return setup.variant(target_utilization=target_utilization)


def run_oracle_floor(demand: FloatArray, setup: Setup) -> list[int]:
    """``oracle`` at ``u = 1``: the fewest replicas that never under-provision, given the lead time."""
    return run_oracle(demand, with_utilization(setup, 1.0))


def replica_hours(desired: list[int], setup: Setup, mask: npt.NDArray[np.bool_]) -> float:
    """``Σ ready × Δ / 3600`` over the evaluated steps."""
    ready = ready_series(desired, setup.lead_steps)
    return float(ready[mask].sum()) * setup.interval_seconds / 3600.0


def run_hpa_matched(demand: FloatArray, setup: Setup, mask: npt.NDArray[np.bool_], goal: float) -> Matched:
    """``hpa`` with its target utilization lowered by bisection until its replica-hours equal ``goal``.

    Replica-hours fall as the target utilization rises (in steps: replica counts are whole numbers), so
    equality is rarely exact: the result is the run at the highest target utilization found whose
    replica-hours are at least ``goal`` (the HPA never gets less to spend than the policy it is compared
    with), after ``BISECTION_STEPS`` halvings of ``[low, u]``, where ``low`` starts at ``u / 2`` and halves
    until it spends at least ``goal`` (down to ``LOWEST_UTILIZATION``).
    """
    u = setup.params.target_utilization
    evaluations = 1
    desired = run_hpa(demand, setup)
    spent = replica_hours(desired, setup, mask)
    if spent >= goal:
        return Matched(desired, u, spent, goal, evaluations, spent == goal)
    high = u
    low = u / 2
    while True:
        evaluations += 1
        candidate = run_hpa(demand, with_utilization(setup, low))
        candidate_spent = replica_hours(candidate, setup, mask)
        if candidate_spent >= goal:
            desired, spent = candidate, candidate_spent
            break
        high = low
        if low <= LOWEST_UTILIZATION:
            return Matched(candidate, low, candidate_spent, goal, evaluations, False)
        low = max(LOWEST_UTILIZATION, low / 2)
    best = low
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        evaluations += 1
        candidate = run_hpa(demand, with_utilization(setup, middle))
        candidate_spent = replica_hours(candidate, setup, mask)
        if candidate_spent >= goal:
            low, best, desired, spent = middle, middle, candidate, candidate_spent
        else:
            high = middle
    return Matched(desired, best, spent, goal, evaluations, True)
