"""The reactive HPA formula (``facts.md`` §1): the guard Augur never goes below by default, and the
recommendation of :func:`augur.scaling.decision.decide_reactive` (the backtester's ``hpa`` yardstick).
Step limits and stabilization live in :mod:`augur.scaling.decision`, shared by both."""

from __future__ import annotations

import math

HPA_TOLERANCE = 0.1


def replicas_for(demand: float, capacity: float, target_utilization: float) -> int:
    """``ceil(demand / (capacity x u))``: replicas that serve ``demand`` at the target utilization."""
    return math.ceil(demand / (capacity * target_utilization))


def hpa_recommendation(
    demand: float, ready: int, current: int, capacity: float, target_utilization: float, min_replicas: int
) -> int:
    """What the HPA asks now: ``current`` inside the 10 % tolerance band, else the formula."""
    if ready > 0:
        ratio = demand / (ready * capacity * target_utilization)
        if abs(ratio - 1.0) <= HPA_TOLERANCE:
            return current
    return max(min_replicas, replicas_for(demand, capacity, target_utilization))
