"""Fingerprints of generated series: periods despite gaps and outliers, and the short-history message."""

from __future__ import annotations

import numpy as np

from augur.forecast.fingerprint import Fingerprint, detect_periods, distance, fingerprint, history_status


def _daily(days: int, step: float = 300.0, seed: int = 0) -> np.ndarray:
    t = np.arange(int(days * 86400 / step))
    rng = np.random.default_rng(seed)
    return 100 + 40 * np.sin(2 * np.pi * t * step / 86400) + rng.normal(0, 4, t.size)


def test_daily_period_found_through_gaps_and_outliers() -> None:
    y = _daily(6)
    y[500:560] = np.nan
    y[::97] *= 8
    periods = detect_periods(y, 300.0)
    assert [p.name for p in periods] == ["day"]
    assert periods[0].steps == 288
    assert periods[0].strength > 0.5


def test_white_noise_has_no_period() -> None:
    y = np.random.default_rng(3).normal(100, 5, 3000)
    assert detect_periods(y, 300.0) == ()


def test_fingerprint_roundtrips_and_compares() -> None:
    a = fingerprint(_daily(5), 300.0)
    b = fingerprint(_daily(5, seed=1), 300.0)
    c = fingerprint(np.random.default_rng(3).normal(100, 30, 1440), 300.0)
    assert Fingerprint.from_dict(a.to_dict()).to_dict() == a.to_dict()
    assert a.primary is not None and a.primary.name == "day"
    assert 0.02 < a.noise < 0.1
    assert distance(a, b) < distance(a, c)


def test_short_history_is_said_plainly() -> None:
    status = history_status(31 * 12, 300.0)
    assert not status.sufficient
    assert status.message.startswith("need two full days, have 31 hours")
    assert status.fallback == "holt"
    assert history_status(3 * 288, 300.0).sufficient
