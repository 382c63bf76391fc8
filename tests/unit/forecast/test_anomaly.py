"""Streaming anomaly score: spikes stand out, steady series stay quiet, no look-ahead, state round-trip."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from augur.forecast.anomaly import (
    Alerting,
    AnomalyDetector,
    AnomalyParams,
    AnomalyState,
    Signals,
    combine,
    score_series,
    state_dict,
)


def _seasonal(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 20 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 2, n)


def test_scores_are_in_unit_interval_and_zero_during_warmup() -> None:
    params = AnomalyParams()
    scores = score_series(_seasonal(2000), params)
    assert scores.shape == (2000,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.all(scores[: params.warmup] == 0)


def test_spike_scores_high_and_steady_series_low() -> None:
    values = _seasonal(3000)
    steady = score_series(values)
    spiked = values.copy()
    spiked[2500] += 60
    scores = score_series(spiked)
    quiet = steady[500:]
    assert scores[2500] > 0.9
    assert scores[2500] > np.quantile(quiet, 0.999)
    assert np.median(quiet) < 0.3


def test_level_shift_is_detected_once_not_for_every_later_point() -> None:
    values = _seasonal(3000)
    values[2000:] += 80
    scores = score_series(values)
    assert scores[2000:2010].max() > 0.9
    assert np.mean(scores[2300:] > 0.9) < 0.01


def test_no_look_ahead() -> None:
    values = _seasonal(1500)
    changed = values.copy()
    changed[1000:] = np.random.default_rng(9).normal(500, 50, 500)
    a, b = score_series(values), score_series(changed)
    np.testing.assert_array_equal(a[:1000], b[:1000])
    assert not np.array_equal(a[1000:], b[1000:])


def test_state_round_trip_continues_identically() -> None:
    values = _seasonal(1200)
    values[900] += 50
    params = AnomalyParams(local_window=300)
    whole = AnomalyDetector(params)
    expected = [whole.update(float(v)) for v in values]
    first = AnomalyDetector(params)
    got = [first.update(float(v)) for v in values[:700]]
    stored = json.loads(json.dumps(state_dict(first.state())))
    resumed = AnomalyDetector.from_state(stored, params)
    got += [resumed.update(float(v), timestamp=float(i)) for i, v in enumerate(values[700:])]
    assert got == expected
    assert isinstance(resumed.state(), AnomalyState)
    assert AnomalyDetector.from_state(first.state(), params).state() == first.state()
    assert max(got[890:910]) > 0.9


def test_constant_series_stays_quiet_then_flags_a_change() -> None:
    values = np.full(1000, 5.0)
    values[900] = 6.0
    scores = score_series(values)
    assert scores[:900].max() < 0.1
    assert scores[900] > 0.9


def test_observe_then_alerting_is_update() -> None:
    # The NAB search replays cached signals through Alerting; that must equal the detector's scores.
    values = _seasonal(1500)
    values[1200:1210] += 40
    params = AnomalyParams(novelty_agreement=2, suppress_steps=30)
    expected = score_series(values, params)
    detector, alerting = AnomalyDetector(params), Alerting(params)
    got = [alerting.step(detector.observe(float(v)), i + 1) for i, v in enumerate(values)]
    np.testing.assert_array_equal(got, expected)


def test_alerting_warmup_fire_and_suppression() -> None:
    params = AnomalyParams(warmup=2, fire_level=0.9, suppress_steps=3, suppress_factor=0.5, novelty_weight=1.0)
    alerting = Alerting(params)
    strong, weak = Signals(0.95, (), 0.0), Signals(0.4, (), 0.0)
    assert alerting.step(strong, 1) == 0.0  # warm-up
    assert alerting.step(strong, 2) == 0.0
    assert alerting.step(strong, 3) == 0.95  # fires
    assert [alerting.step(s, n) for n, s in enumerate((strong, weak, strong), start=4)] == [0.475, 0.2, 0.475]
    assert alerting.step(strong, 7) == 0.95  # suppression over, fires again


def test_combine_range_break_and_novelty_agreement() -> None:
    p = AnomalyParams(novelty_weight=1.0, range_margin=0.03, range_score=0.99)
    assert combine(Signals(0.2, (0.5, 0.9, 0.1), 0.0), p) == 0.9
    assert combine(Signals(0.2, (0.5, 0.9, 0.1), 0.0), replace(p, novelty_agreement=2)) == 0.5
    assert combine(Signals(0.6, (0.5, 0.9, 0.1), 0.0), replace(p, novelty_agreement=3)) == 0.6
    assert combine(Signals(0.2, (), 0.02), p) == 0.2  # inside the margin
    assert combine(Signals(0.2, (), 0.05), p) == 0.99  # range break
    assert combine(Signals(0.995, (), 0.05), p) == 0.995


def test_excess_is_the_share_of_the_range_beyond_it() -> None:
    detector = AnomalyDetector(AnomalyParams())
    for v in (10.0, 20.0, 15.0):
        detector.observe(v)
    assert detector.observe(25.0).excess == 0.5  # 5 beyond a range of 10
    assert detector.observe(0.0).excess == pytest.approx(10 / 15)  # range is now 10..25
    assert detector.observe(12.0).excess == 0.0
    flat = AnomalyDetector(AnomalyParams())
    flat.observe(3.0)
    assert flat.observe(3.0).excess == 0.0
    assert flat.observe(3.5).excess == math.inf


def test_local_excess_uses_only_the_last_points() -> None:
    detector = AnomalyDetector(AnomalyParams(local_window=3))
    for v in (0.0, 100.0, 10.0, 12.0, 14.0):
        assert detector.observe(v).local_excess >= 0.0
    # The last 3 values span 10..14; 16 lies 2 beyond that, half the recent range, yet inside the global one.
    signals = detector.observe(16.0)
    assert signals.local_excess == 0.5
    assert signals.excess == 0.0
    assert AnomalyDetector(AnomalyParams()).observe(5.0).local_excess == 0.0


def test_learning_the_start_of_a_history_unscored_ends_in_the_same_state() -> None:
    values = _seasonal(2600, seed=4)
    values[700:760] += 60  # an anomaly in the part learned unscored
    values[2500] += 80  # and one after the history
    history, later = values[:2300], values[2300:]
    full, skim = AnomalyDetector(), AnomalyDetector()
    head = len(history) - skim.settle_points
    for v in history[:head]:
        full.update(float(v))
        skim.learn(float(v))
    for v in history[head:]:
        full.update(float(v))
        skim.update(float(v))
    a, b = full.state(), skim.state()
    assert [(s.shapes, s.means) for s in a.scales] == [(s.shapes, s.means) for s in b.scales]
    assert (a.n, a.level, a.short, a.long, a.low, a.high, a.recent_values) == (
        b.n, b.level, b.short, b.long, b.low, b.high, b.recent_values,
    )  # fmt: skip
    tails = zip(
        [a.residual_tail, *(s.tail for s in a.scales)], [b.residual_tail, *(s.tail for s in b.scales)], strict=True
    )
    for ta, tb in tails:
        assert ta.history == tb.history and ta.recent == tb.recent
        assert ta.total == pytest.approx(tb.total, rel=1e-9) and ta.squares == pytest.approx(tb.squares, rel=1e-9)
    scores = [(full.update(float(v)), skim.update(float(v))) for v in later]
    assert [f for f, _ in scores] == pytest.approx([s for _, s in scores], abs=1e-9)
    assert max(f for f, _ in scores) > 0.9  # the later anomaly is scored alike
