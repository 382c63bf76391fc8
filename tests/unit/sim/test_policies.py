"""Walk-forward forecasting policies: refit schedule and the learner's budget bookkeeping."""

from __future__ import annotations

import numpy as np

from augur.sim.policies import WalkSettings, run_forecast_policy, run_forecast_variants
from augur.sim.progress import Progress
from augur.sim.protocol import backtest_setup, policy_spec


def _demand(n: int, period: int) -> np.ndarray:
    t = np.arange(n)
    return 100 + 40 * np.sin(2 * np.pi * t / period) + np.random.default_rng(0).normal(0, 3, n)


def test_refits_follow_the_policys_refit_interval_and_history_as_the_operator_does() -> None:
    # 30-minute steps, refitInterval 10d: every 480 steps once the history stopped doubling.
    demand = _demand(900, 48)
    setup = backtest_setup(1800.0, capacity=10.0, spec=policy_spec(refit_interval="10d"))
    run = run_forecast_policy("augur", demand, setup, WalkSettings(), 200, Progress("t", demand.size, None), 0)
    # Fits at 200 and 400 (history doubling), then 480 steps later: 880.
    assert len(run.models) == 3
    # history 5d holds 240 points: the history never doubles after the fit at 200, and it is refitted at 680.
    short = backtest_setup(1800.0, capacity=10.0, spec=policy_spec(refit_interval="10d", history="5d"))
    held = run_forecast_policy("augur", demand, short, WalkSettings(), 200, Progress("t", demand.size, None), 0)
    assert len(held.models) == 2
    assert len(run.desired) == demand.size
    assert run.learner_levels and min(run.learner_levels) < 0.5 < max(run.learner_levels)
    assert run.level_floors is not None and run.level_reactive is not None
    chosen = run.quantiles[np.isfinite(run.quantiles)]
    assert set(chosen.tolist()) <= {setup.params.safety_quantile, *run.learner_levels}


def test_variants_ride_along_on_the_same_forecasts() -> None:
    demand = _demand(700, 48)
    setup = backtest_setup(1800.0, capacity=10.0)
    variants = (setup.params, setup.variant(headroom_budget=0.0).params, setup.variant(learn_headroom=False).params)
    runs = run_forecast_variants(
        "augur", demand, setup, WalkSettings(), 200, Progress("t", demand.size, None), 0, variants
    )
    main, same, tight, fixed = runs
    assert same.desired == main.desired, "a variant with the same parameters decides the same"
    assert same.params == main.params == setup.params
    assert tight.params is not None and tight.params.headroom_budget == 0.0
    assert sum(tight.desired) <= sum(main.desired)
    assert fixed.learner_levels == () and set(fixed.quantiles[np.isfinite(fixed.quantiles)]) == {0.9}
    alone = run_forecast_policy(
        "augur", demand, setup.variant(learn_headroom=False), WalkSettings(), 200, Progress("t", demand.size, None), 0
    )
    assert alone.desired == fixed.desired, "riding along changes nothing"
