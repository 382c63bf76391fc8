"""Online cost/SLO learner: picks the safety quantile per workload from observed outcomes.

Every candidate quantile is an expert. After each interval the learner charges every expert what its
provisioning would have cost given the demand that arrived (replica-hours plus under-provisioned
minutes, at the policy's cost weights) and follows the expert with the lowest discounted cost. The
state is a handful of floats, small enough for a ``WorkloadProfile`` status.

Each expert is charged for what the decision would really have provisioned: its forecast's replicas,
but never fewer than the guard floor in force when the decision was made (the reactive formula).
With a ``budget`` the learner only follows experts whose discounted replica-hours stay within
``(1 + budget)`` times those of the reactive formula alone (the cheapest-spending expert when none
does): the cost weights choose among the affordable quantiles, the budget bounds the headroom bought.
Without a budget, cost weights that make a shortfall minute worth many replica-hours buy headroom
without limit on noisy series.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from augur.scaling.reactive import replicas_for

QUANTILES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99)
BUDGET = 0.25
"""Default extra replica-hours over the reactive formula the learner may spend on headroom (the
``ScalingPolicy`` default ``headroomBudget``; chosen on the development series, see docs/forecasting.md)."""


@dataclass(frozen=True)
class CostWeights:
    """Cost of one replica-hour against one under-provisioned minute."""

    replica_hour: float = 1.0
    under_provisioned_minute: float = 10.0


@dataclass(frozen=True)
class LearnerState:
    quantiles: tuple[float, ...]
    costs: tuple[float, ...]
    """Discounted cost so far per quantile."""
    chosen: float
    decay: float = 0.995
    budget: float | None = BUDGET
    spend: tuple[float, ...] = ()
    """Discounted replica-hours so far per quantile."""
    baseline: float = 0.0
    """Discounted replica-hours of the reactive formula alone."""

    def as_dict(self) -> dict[str, object]:
        return {
            "quantiles": list(self.quantiles),
            "costs": [round(c, 6) for c in self.costs],
            "spend": [round(c, 6) for c in self.spend],
            "baseline": round(self.baseline, 6),
            "budget": self.budget,
            "chosen": self.chosen,
        }


HALF_LIFE_SECONDS = 86400.0
"""Default memory of the learner: an outcome a day old counts half."""


def decay_for(interval_seconds: float, half_life_seconds: float = HALF_LIFE_SECONDS) -> float:
    """Per-interval discount so that the learner's memory is the same in time at any step size."""
    return float(0.5 ** (interval_seconds / half_life_seconds))


def initial_state(
    start: float = 0.9,
    quantiles: tuple[float, ...] = QUANTILES,
    decay: float = 0.995,
    budget: float | None = BUDGET,
) -> LearnerState:
    zeros = tuple(0.0 for _ in quantiles)
    return LearnerState(quantiles, zeros, start, decay, budget, zeros, 0.0)


def interval_cost(
    replicas: int, demand: float, capacity: float, interval_seconds: float, weights: CostWeights
) -> float:
    """What provisioning ``replicas`` for ``demand`` cost over one interval."""
    cost = replicas * interval_seconds / 3600.0 * weights.replica_hour
    if demand > replicas * capacity:
        cost += interval_seconds / 60.0 * weights.under_provisioned_minute
    return cost


def observe(
    state: LearnerState,
    forecasts: tuple[float, ...],
    demand: float,
    capacity: float,
    target_utilization: float,
    interval_seconds: float,
    weights: CostWeights,
    floor: int = 0,
    reactive: int | None = None,
) -> LearnerState:
    """Charge each quantile for the demand that arrived; ``forecasts[i]`` was its forecast for it.

    ``floor`` is the guard's minimum when the decision was made (no expert provisions less);
    ``reactive`` what the reactive formula asked then, the yardstick of the budget.
    """
    hours = interval_seconds / 3600.0
    costs, spend = [], []
    for previous, spent, value in zip(state.costs, state.spend, forecasts, strict=True):
        replicas = max(floor, replicas_for(max(value, 0.0), capacity, target_utilization))
        costs.append(state.decay * previous + interval_cost(replicas, demand, capacity, interval_seconds, weights))
        spend.append(state.decay * spent + replicas * hours)
    baseline = state.decay * state.baseline + (floor if reactive is None else reactive) * hours
    candidates = list(range(len(costs)))
    if state.budget is not None and baseline > 0:
        affordable = [i for i in candidates if spend[i] <= (1.0 + state.budget) * baseline]
        candidates = affordable or [min(candidates, key=lambda i: spend[i])]
    best = min(candidates, key=lambda i: (costs[i], abs(state.quantiles[i] - state.chosen)))
    return replace(state, costs=tuple(costs), spend=tuple(spend), baseline=baseline, chosen=state.quantiles[best])
