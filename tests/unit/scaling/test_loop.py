"""The live loop of one workload (pure): warm-up, fits installed and caught up, decisions, fallbacks,
and learned state surviving a restart."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from augur.api.v1alpha1 import ScalingPolicySpec
from augur.forecast.demand import DemandWindow, Dropped
from augur.scaling.decision import Observed, ScalingParams, decide_reactive
from augur.scaling.fitjob import run_fit
from augur.scaling.loop import MIN_FIT_POINTS, DemandLoop, LoopConfig
from augur.scaling.state import plain, restore, snapshot

STEP = 300.0
T0 = 1_700_000_100.0 // STEP * STEP


def demand(ts: np.ndarray) -> np.ndarray:
    return 400 + 300 * np.sin(2 * np.pi * ts / 86400.0)


def window(start: float, n: int) -> DemandWindow:
    ts = start + STEP * np.arange(n)
    return DemandWindow(start, STEP, demand(ts), Dropped())


def config(**policy: object) -> LoopConfig:
    spec = ScalingPolicySpec.model_validate({"maxReplicas": 50, "history": "2d", "leadTime": "10m", **policy})
    return LoopConfig.from_policy(spec, capacity=50.0, step_seconds=STEP)


_FITS: dict[int, object] = {}


def fitted(n: int = 576, **policy: object) -> tuple[DemandLoop, float]:
    """A loop with a fitted model (the fit on the same data is computed once per test run)."""
    loop = DemandLoop(config(**policy))
    loop.ingest(window(T0, n))
    now = loop.last_ts + 10
    job = loop.fit_job()
    if n not in _FITS:
        _FITS[n] = run_fit(job)
    loop.install(_FITS[n], job, now)  # type: ignore[arg-type]
    return loop, now


def cycles(loop: DemandLoop, now: float, n: int) -> float:
    """``n`` cycles of deciding (5 replicas, all ready) and one new point; returns the next ``now``."""
    for _ in range(n):
        loop.decide(now, 5, 5)
        loop.ingest(window(loop.last_ts + STEP, 1))
        now = loop.last_ts + 10
    return now


def test_reactive_until_enough_points_then_a_fit_is_due() -> None:
    loop = DemandLoop(config())
    loop.ingest(window(T0, MIN_FIT_POINTS - 1))
    now = loop.last_ts + 10
    assert not loop.refit_due(now)
    first = loop.decide(now, current=3, ready=3)
    assert first.kind == "Reactive" and "warming up" in first.reason
    assert first.replicas == decide_reactive(loop.observed(now, 3, 3), loop.config.params).replicas
    loop.ingest(window(loop.last_ts + STEP, 1))
    assert loop.refit_due(loop.last_ts + 10)


def test_a_fitted_loop_decides_predictively_and_explains() -> None:
    loop, now = fitted()
    assert loop.model_end == loop.last_ts
    d = loop.decide(now, current=5, ready=5)
    assert d.kind == "Predictive" and d.decision is not None and d.outlook is not None
    assert d.decision_peak_at is not None and d.decision_peak_at > loop.last_ts
    assert d.outlook.horizon_seconds >= 3600 and d.outlook.peak_upper >= d.outlook.peak_p50
    assert loop.ledger.pending and loop.predictions  # the learner and the error tracker wait for the outcome


def test_history_is_bounded_and_increments_must_be_contiguous() -> None:
    loop = DemandLoop(config())
    loop.ingest(window(T0, 1000))
    assert loop.history.size == loop.config.history_points == 576
    assert loop.history_start == T0 + (1000 - 576) * STEP
    with pytest.raises(ValueError, match="expected"):
        loop.ingest(window(loop.last_ts + 2 * STEP, 1))


def test_install_catches_the_model_up_with_points_that_arrived_during_the_fit() -> None:
    loop = DemandLoop(config())
    loop.ingest(window(T0, 576))
    job = loop.fit_job()
    loop.ingest(window(loop.last_ts + STEP, 3))  # arrived while the fit ran
    result = run_fit(job)
    loop.install(result, job, loop.last_ts)
    assert loop.model_end == loop.last_ts
    expected = result
    for value in loop.history[-3:]:
        expected = expected.update(float(value))
    np.testing.assert_allclose(loop.forecaster.point(3), expected.point(3))


def test_learner_and_error_learn_from_the_outcomes() -> None:
    loop, now = fitted()
    before = loop.learner.costs
    cycles(loop, now, 8)
    assert loop.learner.costs != before
    assert loop.rolling_error is not None and loop.rolling_error < 0.5


def test_predictive_false_uses_the_reactive_formula_with_the_same_limits() -> None:
    loop, now = fitted(predictive=False)
    d = loop.decide(now, current=2, ready=2)
    observed = Observed(2, 2, float(loop.history[-1]), loop.config.interval_seconds)
    assert d.kind == "Reactive" and "predictive: false" in d.reason
    assert d.replicas == decide_reactive(observed, loop.config.params).replicas
    assert d.outlook is not None  # forecasts are still computed and reported


def test_min_replicas_fallback_respects_step_limits() -> None:
    loop = DemandLoop(config(metricsOutageFallback="MinReplicas", behavior={"scaleDown": {"maxStepPercent": 10}}))
    d = loop.fallback(T0, 40, 40, "NoData")
    assert d.replicas == 40 - 2 * 4  # two 15 s periods per 30 s cadence, 4 pods each


def test_zero_min_replicas_never_reached_on_missing_data() -> None:
    loop = DemandLoop(config(minReplicas=0, allowScaleToZero=True, metricsOutageFallback="MinReplicas"))
    assert loop.fallback(T0, 2, 2, "NoData").replicas == 1
    assert loop.fallback(T0, 0, 0, "NoData").replicas == 1


@pytest.mark.parametrize(
    ("fallback", "current", "expected"),
    [("Hold", 7, 7), ("Hold", 0, 3), ("MinReplicas", 30, 3), ("MinReplicas", 3, 3), ("MinReplicas", 0, 3)],
)
def test_fallback_never_goes_below_one_or_min_replicas(fallback: str, current: int, expected: int) -> None:
    loop = DemandLoop(config(metricsOutageFallback=fallback, minReplicas=3))
    loop.ingest(window(T0, 10))
    d = loop.fallback(loop.last_ts + 10_000, current, current, "PrometheusUnavailable: down")
    assert d.kind == "Fallback" and d.replicas == expected
    assert fallback in d.reason


def test_reactive_fallback_uses_fresh_demand_else_holds() -> None:
    loop = DemandLoop(config(metricsOutageFallback="Reactive"))
    loop.ingest(window(T0, 10))
    fresh = loop.fallback(loop.last_ts + 60, 1, 1, "StaleData")
    need = ScalingParams(50.0).clamp(math.ceil(float(loop.history[-1]) / 40.0))
    assert fresh.replicas >= min(need, 1 + 4) and "Reactive" in fresh.reason
    held = loop.fallback(loop.last_ts + 3600, 6, 6, "StaleData")
    assert held.replicas == 6 and "Hold" in held.reason


def test_learned_state_survives_a_restart_without_double_learning() -> None:
    loop, now = fitted()
    now = cycles(loop, now, 3)
    saved = json.loads(json.dumps(snapshot(loop)))
    anomaly_points = loop.anomaly.state().n

    again = DemandLoop(config())
    message = restore(again, saved, again.next_read(now + STEP))
    assert message.startswith(f"restored model {loop.forecaster.model_name}")
    # the history is re-read from Prometheus: the model catches up only with what it has not seen
    again.ingest(window(again.next_read(now + STEP), 576))
    assert again.anomaly.state().n == anomaly_points + 1
    loop.ingest(window(loop.last_ts + STEP, 1))
    assert again.model_end == loop.model_end
    np.testing.assert_allclose(again.forecaster.point(4), loop.forecaster.point(4))
    assert again.learner == loop.learner
    assert again.decide(now + STEP, 5, 5).kind == "Predictive"


def test_restore_refuses_state_from_another_step_or_older_than_history() -> None:
    loop, _ = fitted()
    saved = snapshot(loop)
    other = DemandLoop(LoopConfig.from_policy(ScalingPolicySpec(max_replicas=9), 50.0, 60.0))
    assert "another demand step" in restore(other, saved, None)
    late = DemandLoop(config())
    assert "older than the history" in restore(late, saved, loop.last_ts + 10 * 86400)
    assert late.forecaster is None


def test_an_unreadable_anomaly_state_restores_the_rest_and_says_so() -> None:
    # A saved detector this release cannot read (here a scale without its count of shapes written) must
    # not stop the profile: the rest is restored, the detector starts fresh, and the message says so.
    loop, _ = fitted()
    saved = snapshot(loop)
    assert saved["anomaly"]["scales"][0]["means"]
    broken = {**saved, "anomaly": {**saved["anomaly"], "scales": [{"means": [1.0]}]}}
    again = DemandLoop(config())
    message = restore(again, broken, None)
    assert message.startswith("restored model") and "no anomaly detector (KeyError('written')" in message
    assert again.anomaly.state().n == 0 and again.learner == loop.learner


@pytest.mark.parametrize(
    ("part", "damage", "says"),
    [
        ("learner", {"learner": {"quantiles": "x"}}, "no learner (ValueError"),
        ("learner", {"learner": ["a list"]}, "no learner (TypeError"),
        ("pending", {"pending": {"1.000": [[1.0], "many", None]}}, "no pending forecasts (ValueError"),
        ("pending", {"error": [0.0]}, "no pending forecasts (IndexError"),
        ("model", {"fitPoints": "many"}, "no model (ValueError"),
        ("model", {"lastFitAt": "soon"}, "no model (ValueError"),
        ("model", {"forecaster": {"model": "nonsense"}}, "no model ("),
    ],
)
def test_every_unreadable_saved_part_leaves_its_fresh_value_and_the_rest_restored(
    part: str, damage: dict[str, object], says: str
) -> None:
    # Hand-edited or older saved state must never fail the whole restore (the reconcile would raise on
    # every retry): each part that cannot be read is left fresh, the message names it, the rest loads.
    loop, now = fitted()
    loop.decide(now, 5, 5)
    saved = json.loads(json.dumps(snapshot(loop)))
    again = DemandLoop(config())
    message = restore(again, {**saved, **damage}, None)
    assert message.startswith("restored") and says in message
    assert ("learner (quantile" in message) == (part != "learner")
    assert (again.forecaster is not None) == (part != "model")
    assert loop.ledger.pending and (again.ledger.pending == loop.ledger.pending) == (part != "pending")
    assert again.anomaly.state().n == loop.anomaly.state().n and again.seen_until == loop.last_ts


def test_a_saved_state_unreadable_at_the_top_starts_fresh() -> None:
    loop, _ = fitted()
    saved = snapshot(loop)
    again = DemandLoop(config())
    message = restore(again, {**saved, "stepSeconds": "five"}, None)
    assert message.startswith("saved state unreadable (ValueError") and again.forecaster is None
    message = restore(again, {**saved, "seenUntil": [1]}, None)
    assert message.startswith("saved state unreadable (TypeError") and again.seen_until is None
    assert restore(again, [saved], None).startswith("saved state unreadable (AttributeError")  # type: ignore[arg-type]


def test_feed_gaps_carry_the_last_value_and_feeds_reach_the_fit() -> None:
    spec = ScalingPolicySpec.model_validate({"maxReplicas": 50, "history": "2d", "leadTime": "10m"})
    loop = DemandLoop(LoopConfig.from_policy(spec, 50.0, STEP, feeds=("price",)))
    feeds = np.full((100, 1), np.nan)
    feeds[10:, 0] = 5.0
    feeds[50, 0] = np.nan
    loop.ingest(window(T0, 100), feeds)
    assert loop.feeds[:10, 0].tolist() == [0.0] * 10 and loop.feeds[50, 0] == 5.0
    job = loop.fit_job()
    assert job.exog is not None and job.exog.shape == (100, 1)
    loop.install(run_fit(job), job, loop.last_ts)
    loop.ingest(window(loop.last_ts + STEP, 1), np.array([[6.0]]))
    assert loop.model_end == loop.last_ts and loop.feeds[-1, 0] == 6.0
    saved = snapshot(loop)
    other = DemandLoop(config())
    assert "spec.feeds changed" in restore(other, saved, None) and other.forecaster is None


def test_learner_budget_and_cost_weights_come_from_the_policy() -> None:
    loop = DemandLoop(config(headroomBudget=0.2, costWeights={"underProvisionedMinute": 3}))
    assert loop.learner is not None and loop.learner.budget == 0.2
    assert loop.config.params.cost_weights.under_provisioned_minute == 3
    loop.reconfigure(config(headroomBudget=0.5))
    assert loop.learner.budget == 0.5, "a changed budget applies to the restored learner too"
    loop.reconfigure(config(learnHeadroom=False))
    assert loop.learner is None


def test_plain_gives_what_asdict_gives_without_its_copies() -> None:
    from dataclasses import asdict

    loop, _ = fitted()
    state = loop.anomaly.state()
    assert state.scales and state.scales[0].means  # the shape memory is filled
    assert json.dumps(plain(state)) == json.dumps(asdict(state))
    assert json.dumps(snapshot(loop)["anomaly"]) == json.dumps(asdict(state))


def test_a_long_first_read_scores_only_its_last_points_and_learns_the_rest() -> None:
    # The first read of 3 days goes through the anomaly detector unscored except its last points; the
    # detector ends as if every point had been scored one at a time, and so does what it reports next.
    bulk, stepwise = DemandLoop(config(history="3d")), DemandLoop(config(history="3d"))
    n = 864
    assert bulk.anomaly.settle_points < n
    bulk.ingest(window(T0, n))
    for i in range(n):
        stepwise.ingest(window(T0 + i * STEP, 1))
    assert bulk.anomaly_score == pytest.approx(stepwise.anomaly_score, abs=1e-9)
    a, b = bulk.anomaly.state(), stepwise.anomaly.state()
    assert [(s.shapes, s.means) for s in a.scales] == [(s.shapes, s.means) for s in b.scales] and a.n == b.n == n
    for i in range(n, n + 20):
        bulk.ingest(window(T0 + i * STEP, 1))
        stepwise.ingest(window(T0 + i * STEP, 1))
        assert bulk.anomaly_score == pytest.approx(stepwise.anomaly_score, abs=1e-9)


def test_the_learner_is_scored_against_reactive_asks_kept_like_the_backtester_s() -> None:
    # The decision with data up to ``last`` is the backtester's step ``last + 1``: its ask is kept under
    # that key and its forecasts target ``lead`` steps later, where the lowest ask of the window scores it.
    loop, now = fitted()
    lead = loop.config.lead_steps
    keys, targets = [], []
    for _ in range(lead + 2):
        d = loop.decide(now, 5, 5)
        assert d.decision is not None and d.decision.reactive_replicas is not None
        keys.append(loop.last_ts + STEP)
        targets.append(loop.last_ts + (lead + 1) * STEP)
        assert loop.ledger.asks[keys[-1]] == d.decision.reactive_replicas
        assert loop.ledger.pending[targets[-1]][1:] == (d.decision.guard_replicas, d.decision.reactive_replicas)
        loop.ingest(window(loop.last_ts + STEP, 1))
        now = loop.last_ts + 10
    assert targets[0] == keys[0] + lead * STEP and targets[0] not in loop.ledger.pending  # settled
    assert set(loop.ledger.asks) <= set(keys)


def test_reactive_asks_survive_a_restart_and_an_older_state_has_none() -> None:
    loop, now = fitted()
    now = cycles(loop, now, 3)
    saved = json.loads(json.dumps(snapshot(loop)))
    again = DemandLoop(config())
    restore(again, saved, None)
    assert again.ledger.asks == loop.ledger.asks and loop.ledger.asks
    older = DemandLoop(config())
    restore(older, {k: v for k, v in saved.items() if k != "reactiveAsks"}, None)
    assert older.ledger.pending == loop.ledger.pending and older.ledger.asks == {}
