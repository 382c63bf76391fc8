"""The cost learner moves the quantile towards what the cost weights favour."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from augur.scaling.learner import QUANTILES, CostWeights, initial_state, interval_cost, observe

# A forecast of N(100, 20) at the learner's quantile levels; capacity 10 at u = 0.8.
FORECASTS = tuple(100 + 20 * NormalDist().inv_cdf(q) for q in QUANTILES)


def _run(weights: CostWeights, seed: int = 0) -> tuple[float, dict[float, float]]:
    rng = np.random.default_rng(seed)
    state = initial_state(0.9, decay=1.0, budget=None)
    fixed = dict.fromkeys(state.quantiles, 0.0)
    for _ in range(2000):
        demand = 100 + rng.normal(0, 40)
        state = observe(state, FORECASTS, demand, 10.0, 0.8, 300.0, weights)
        for q, f in zip(state.quantiles, FORECASTS, strict=True):
            fixed[q] += interval_cost(int(np.ceil(f / 8)), demand, 10.0, 300.0, weights)
    return state.chosen, fixed


def test_learner_ends_on_the_best_fixed_quantile_in_hindsight() -> None:
    for weights in (CostWeights(1.0, 10.0), CostWeights(10.0, 0.01)):
        chosen, fixed = _run(weights)
        assert fixed[chosen] == min(fixed.values())


def test_expensive_shortfalls_push_the_quantile_up_cheap_ones_down() -> None:
    assert _run(CostWeights(replica_hour=1.0, under_provisioned_minute=10.0))[0] >= 0.9
    assert _run(CostWeights(replica_hour=10.0, under_provisioned_minute=0.01))[0] <= 0.6


def test_interval_cost() -> None:
    w = CostWeights(replica_hour=2.0, under_provisioned_minute=3.0)
    assert interval_cost(4, 30.0, 10.0, 300.0, w) == 4 * 300 / 3600 * 2.0
    assert interval_cost(2, 30.0, 10.0, 300.0, w) == 2 * 300 / 3600 * 2.0 + 5 * 3.0


def test_budget_bounds_the_headroom_bought_and_the_floor_is_charged() -> None:
    rng = np.random.default_rng(3)
    weights = CostWeights(replica_hour=1.0, under_provisioned_minute=10.0)
    free = initial_state(0.9, decay=1.0, budget=None)
    capped = initial_state(0.9, decay=1.0, budget=0.05)
    for _ in range(1000):
        demand = 100 + rng.normal(0, 40)
        reactive = int(np.ceil(100 / 8))  # the reactive formula asks for the mean demand
        free = observe(free, FORECASTS, demand, 10.0, 0.8, 300.0, weights, reactive, reactive)
        capped = observe(capped, FORECASTS, demand, 10.0, 0.8, 300.0, weights, reactive, reactive)
    assert free.chosen >= 0.9, "shortfalls worth ten replica-hours a minute buy lots of headroom"
    spend = dict(zip(capped.quantiles, capped.spend, strict=True))
    assert spend[capped.chosen] <= 1.05 * capped.baseline
    assert capped.chosen < free.chosen
    affordable = [q for q in capped.quantiles if spend[q] <= 1.05 * capped.baseline]
    costs = dict(zip(capped.quantiles, capped.costs, strict=True))
    assert costs[capped.chosen] == min(costs[q] for q in affordable)
    # Quantiles whose forecast needs fewer replicas than the floor are charged the floor.
    low = [q for q, f in zip(capped.quantiles, FORECASTS, strict=True) if np.ceil(f / 8) <= reactive]
    assert len({round(spend[q], 9) for q in low}) == 1
