"""The scaling decision: forecast need, reactive guard, forecast scale-in, stabilization, step limits."""

from __future__ import annotations

import numpy as np

from augur.api.v1alpha1.scalingpolicy import ScalingPolicySpec
from augur.forecast.quantiles import QuantileForecast
from augur.scaling.decision import (
    Observed,
    ScalingParams,
    StepLimits,
    decide,
    decide_reactive,
    prewarm_replicas,
    settle,
    stabilization_steps,
)


def _forecast(p50: list[float], spread: float = 10.0) -> QuantileForecast:
    mid = np.asarray(p50, dtype=float)
    values = np.column_stack([mid - spread, mid, mid + spread, mid + 2 * spread])
    return QuantileForecast(tuple(range(1, len(p50) + 1)), 60.0, mid, (0.1, 0.5, 0.9, 0.99), values)


PARAMS = ScalingParams(capacity=10.0)  # 8 per replica at u = 0.8


def test_prewarms_for_the_peak_inside_the_lead_time() -> None:
    d = decide(_forecast([40, 60, 90]), Observed(5, 5, 40.0, 60.0), PARAMS)
    assert d.forecast_replicas == 13  # p90 of 100 / 8
    assert d.replicas == 13
    assert "p90" in d.reason and "100" in d.reason


def test_reactive_guard_wins_over_a_low_forecast() -> None:
    d = decide(_forecast([8, 8, 8], spread=1.0), Observed(10, 10, 120.0, 60.0), PARAMS)
    assert d.reactive_replicas == 15
    assert d.replicas == 15
    assert "reactive guard asks 15" in d.reason


def test_confident_forecast_may_scale_in_below_the_guard_when_allowed() -> None:
    allowed = ScalingParams(
        capacity=10.0,
        allow_forecast_scale_in=True,
        scale_in_confidence=0.99,
        limits=StepLimits(down_stabilization_seconds=0),
    )
    d = decide(_forecast([20, 20, 20], spread=1.0), Observed(10, 10, 48.0, 60.0), allowed)
    assert d.reactive_replicas == 6
    assert d.replicas == 3  # p99 = 22 -> 3 replicas, below the guard's 6


def test_scale_down_is_stabilized_by_recent_recommendations() -> None:
    d = decide(_forecast([8, 8, 8], spread=0.0), Observed(10, 10, 8.0, 60.0, (9, 7)), PARAMS)
    assert d.recommendation == 1
    assert d.replicas == 9
    assert "stabilization holds 9" in d.reason


def test_step_limits_and_bounds() -> None:
    limited = ScalingParams(capacity=10.0, max_replicas=50, limits=StepLimits(up_percent=10, up_pods=1))
    d = decide(_forecast([800, 800, 800]), Observed(10, 10, 80.0, 15.0), limited)
    assert d.replicas == 11
    assert "step limit" in d.reason
    d = decide(_forecast([8000]), Observed(40, 40, 8000.0, 600.0), ScalingParams(capacity=10.0, max_replicas=50))
    assert d.replicas == 50


def test_params_from_policy_spec() -> None:
    spec = ScalingPolicySpec.model_validate(
        {"maxReplicas": 30, "leadTime": "3m", "safetyQuantile": 0.95, "behavior": {"scaleUp": {"maxStepPods": 2}}}
    )
    params = ScalingParams.from_policy(spec, capacity=25.0)
    assert params.max_replicas == 30
    assert params.lead_time_seconds == 180.0
    assert params.safety_quantile == 0.95
    assert params.limits.up_pods == 2
    assert params.limits.down_stabilization_seconds == 300.0


def test_prewarming_buys_only_what_can_be_ready_and_holds_until_then() -> None:
    # One-minute steps, lead 2 min: replicas asked for now are ready from horizon 3 on.
    params = ScalingParams(capacity=10.0, target_utilization=0.8, lead_time_seconds=120.0)
    peak_soon = _forecast([190, 190, 70], spread=0.0)  # p90 = p50 here: 24 replicas, then 9
    # Scaling up for horizons 1-2 is useless (not ready in time): ask for horizon 3's need only.
    d = prewarm_replicas(peak_soon, 0.9, params, current=5)
    assert d[0] == 9
    # Already at 12: keep them through the nearer peak rather than scale in under it.
    assert prewarm_replicas(peak_soon, 0.9, params, current=12)[0] == 12
    # Demand falling: scale in, but only as far as the nearer horizons allow (80 / 8 = 10).
    falling = _forecast([80, 40, 40], spread=0.0)
    assert prewarm_replicas(falling, 0.9, params, current=12)[0] == 10
    decision = decide(falling, Observed(12, 12, None, 60.0), params)
    assert decision.forecast_replicas == 10


def test_reactive_decision_is_the_hpa_rule_with_the_shared_limits() -> None:
    # 120 / 8 = 15 replicas asked from 1: one 60 s interval allows 1 -> 5 -> 10 -> 20 -> 40 (4 periods).
    d = decide_reactive(Observed(1, 1, 120.0, 60.0), PARAMS)
    assert (d.recommendation, d.replicas) == (15, 15)
    # At 15 s one period: max(2 x 1, 1 + 4) = 5.
    d = decide_reactive(Observed(1, 1, 120.0, 15.0), PARAMS)
    assert d.replicas == 5 and "step limit 0..5" in d.reason
    # Inside the 10 % tolerance band: 9 / (1 x 8) = 1.125 is outside, 8.5 / 8 is inside.
    assert decide_reactive(Observed(1, 1, 8.5, 60.0), PARAMS).replicas == 1
    assert decide_reactive(Observed(1, 1, 9.0, 60.0), PARAMS).replicas == 2
    # Scale-down: the highest recommendation inside the window holds, never above the current count.
    d = decide_reactive(Observed(10, 10, 8.0, 60.0, (12, 7)), PARAMS)
    assert (d.recommendation, d.replicas) == (1, 10)


def test_settle_is_what_every_decision_does_after_its_recommendation() -> None:
    observed = Observed(10, 10, 8.0, 60.0, (9, 7))
    assert settle(1, observed, PARAMS) == 9
    assert settle(30, observed, ScalingParams(capacity=10.0, max_replicas=25)) == 25
    assert stabilization_steps(PARAMS, 60.0) == 4
    assert stabilization_steps(PARAMS, 600.0) == 0


def test_allows_agrees_with_bounds() -> None:
    limits = StepLimits(up_percent=50, up_pods=2, down_percent=10, down_pods=1)
    for interval in (15.0, 60.0, 300.0):
        for current in (0, 1, 3, 10, 40):
            low, high = limits.bounds(current, interval)
            for replicas in range(0, 2 * high + 3):
                assert limits.allows(current, replicas, interval) == (low <= replicas <= high)
