"""The hpa and oracle yardsticks and the metrics on traces small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from augur.scaling.decision import StepLimits
from augur.sim.protocol import (
    RecentRecommendations,
    backtest_setup,
    compute_metrics,
    default_warmup_steps,
    evaluated_mask,
    policy_spec,
    ready_series,
    run_hpa,
    run_oracle,
)

# capacity 10 at u = 0.8 -> 8 per replica; step 60 s -> L = 2, down-scale window 5 steps.
SETUP = backtest_setup(60.0, capacity=10.0)
SPIKE = np.array([8, 8, 40, 40, 40, 8, 8, 8, 8, 8, 8, 8], dtype=float)


def test_hpa_follows_the_definition_step_by_step() -> None:
    desired = run_hpa(SPIKE, SETUP)
    assert desired == [1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 1, 1]
    assert ready_series(desired, SETUP.lead_steps).tolist() == [1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 1, 1]


def test_hpa_metrics_by_hand() -> None:
    desired = run_hpa(SPIKE, SETUP)
    m = compute_metrics(SPIKE, desired, SETUP, evaluated_mask(SPIKE, 0))
    assert m.under_provisioned_fraction == 3 / 12
    assert m.unserved_fraction == 90 / 192
    assert m.replica_hours == 32 * 60 / 3600
    assert m.mean_utilization == 192 / 320
    assert m.scale_events == 2


def test_oracle_looks_lead_steps_ahead_and_never_under_provisions() -> None:
    desired = run_oracle(SPIKE, SETUP)
    assert desired == [5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1]
    m = compute_metrics(SPIKE, desired, SETUP, evaluated_mask(SPIKE, 0))
    assert m.under_provisioned_fraction == 0.0
    assert m.unserved_fraction == 0.0
    assert m.scale_events == 1


def test_warmup_excludes_steps_from_metrics() -> None:
    desired = run_hpa(SPIKE, SETUP)
    m = compute_metrics(SPIKE, desired, SETUP, evaluated_mask(SPIKE, 5))
    # steps 5..11: no under-provisioning, ready 5,5,5,5,5,1,1 -> 27 replica-steps
    assert m.under_provisioned_fraction == 0.0
    assert m.replica_hours == 27 / 60
    assert m.scale_events == 1


def test_hpa_tolerance_band_holds_the_current_count() -> None:
    # 8.5 / (1 x 10 x 0.8) = 1.0625, inside 10 %: no change although ceil(8.5 / 8) = 2.
    demand = np.array([8, 8.5, 8.5, 8.5, 9.0, 9.0, 9.0], dtype=float)
    desired = run_hpa(demand, SETUP)
    assert desired[:5] == [1, 1, 1, 1, 1]
    # 9 / 8 = 1.125 is outside the band: the step after demand 9 asks for 2.
    assert desired[5] == 2


def test_hpa_holds_at_a_gap() -> None:
    demand = np.array([8, 40, np.nan, 8, 8, 8, 8, 8, 8], dtype=float)
    desired = run_hpa(demand, SETUP)
    assert desired[2] == 5
    assert desired[3] == desired[2]


def test_hpa_scale_up_limit_by_interval() -> None:
    # Default behaviour: max of +100 % and +4 pods per 15 s, repeated floor(step / 15 s) times (at least once).
    limits = SETUP.params.limits
    assert limits == StepLimits()
    assert limits.bounds(1, 15)[1] == 5
    assert limits.bounds(10, 15)[1] == 20
    assert limits.bounds(1, 60)[1] == 40
    assert limits.bounds(0, 10)[1] == 4


def test_hpa_scale_up_is_limited_at_short_steps() -> None:
    setup = backtest_setup(15.0, capacity=10.0)
    demand = np.array([8, 800, 800, 800, 800], dtype=float)
    assert run_hpa(demand, setup)[:4] == [1, 1, 5, 10]


def test_min_and_max_replicas_clamp_every_policy() -> None:
    setup = backtest_setup(60.0, 10.0, policy_spec(min_replicas=2, max_replicas=3))
    assert max(run_hpa(SPIKE, setup)) == 3
    assert min(run_oracle(SPIKE, setup)) == 2


def test_lead_time_rounds_up_to_steps() -> None:
    assert backtest_setup(300.0, 1.0).lead_steps == 1
    assert backtest_setup(60.0, 1.0, policy_spec(lead_time="121s")).lead_steps == 3
    assert backtest_setup(60.0, 1.0, policy_spec(lead_time="0s")).lead_steps == 0


@pytest.mark.parametrize(("steps", "season", "expected"), [(100, None, 20), (100, 30, 50), (100, 15, 30), (7, 1, 2)])
def test_default_warmup(steps: int, season: int | None, expected: int) -> None:
    assert default_warmup_steps(steps, season) == expected
    assert default_warmup_steps(steps, season) == math.floor(min(0.5 * steps, max(0.2 * steps, 2 * (season or 0))))


def test_hpa_stabilization_window_is_time_and_gaps_make_no_recommendation() -> None:
    # Window 300 s = 5 steps (this one and 4 before). Recommendations: t=1: 1, t=2..4: 5 (t=4 inside the
    # tolerance band of ready 1), t=5, 6: gaps (hold), t=7, 8: 1 but 5 was recommended at t=3/t=4, inside
    # the window; at t=9 the window (steps 5..9) holds only 1s: the count drops to 1.
    demand = np.array([8, 40, 40, 8, np.nan, np.nan, 8, 8, 8, 8], dtype=float)
    assert run_hpa(demand, SETUP) == [1, 1, 5, 5, 5, 5, 5, 5, 5, 1]


def test_recent_recommendations_keep_the_last_steps_in_time() -> None:
    recent = RecentRecommendations(2)
    recent.add(1, 7)
    recent.add(3, 4)
    assert recent.at(4) == (4,)  # step 1 is more than 2 steps before step 4
    recent.add(4, 2)
    assert recent.at(5) == (4, 2)
    assert RecentRecommendations(0).at(9) == ()


def test_a_trace_starting_in_a_gap_starts_at_min_replicas() -> None:
    from augur.sim.protocol import backtest_setup, initial_desired

    setup = backtest_setup(60.0, capacity=10.0)
    assert initial_desired(np.array([np.nan, 50.0]), setup) == setup.params.min_replicas
    assert initial_desired(np.array([50.0, np.nan]), setup) == 7  # ceil(50 / (10 * 0.8))
