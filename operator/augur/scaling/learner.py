"""Online cost/SLO learner: picks the safety quantile per workload from observed outcomes.

Every candidate quantile is an expert. After each interval the learner charges every expert what its
provisioning would have cost given the demand that arrived (replica-hours plus under-provisioned
minutes, at the policy's cost weights) and follows the expert with the lowest discounted cost. The
state is a handful of floats, small enough for a ``WorkloadProfile`` status.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from augur.scaling.reactive import replicas_for

QUANTILES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99)


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

    def as_dict(self) -> dict[str, object]:
        return {"quantiles": list(self.quantiles), "costs": [round(c, 6) for c in self.costs], "chosen": self.chosen}


def initial_state(start: float = 0.9, quantiles: tuple[float, ...] = QUANTILES, decay: float = 0.995) -> LearnerState:
    return LearnerState(quantiles, tuple(0.0 for _ in quantiles), start, decay)


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
) -> LearnerState:
    """Charge each quantile for the demand that arrived; ``forecasts[i]`` was its forecast for it."""
    costs = []
    for previous, value in zip(state.costs, forecasts, strict=True):
        replicas = replicas_for(max(value, 0.0), capacity, target_utilization)
        costs.append(state.decay * previous + interval_cost(replicas, demand, capacity, interval_seconds, weights))
    best = min(range(len(costs)), key=lambda i: (costs[i], abs(state.quantiles[i] - state.chosen)))
    return replace(state, costs=tuple(costs), chosen=state.quantiles[best])
