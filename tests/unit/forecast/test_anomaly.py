"""Streaming anomaly score: spikes stand out, steady series stay quiet, no look-ahead, state round-trip."""

from __future__ import annotations

import json

import numpy as np

from augur.forecast.anomaly import AnomalyDetector, AnomalyParams, AnomalyState, score_series, state_dict


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
    params = AnomalyParams(range_window=300)
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
