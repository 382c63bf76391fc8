from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from augur.forecast.fingerprint import fingerprint
from augur.sim.synthetic import DAY, SyntheticSpec, generate, seasonal_level, write_csv
from augur.sim.trace import load_trace


def test_same_seed_same_trace_other_seed_other_noise() -> None:
    spec = SyntheticSpec(days=3)
    a, b = generate(spec), generate(spec)
    assert np.array_equal(a.demand, b.demand)
    c = generate(replace(spec, seed=1))
    assert not np.array_equal(a.demand, c.demand)


def test_grid_length_and_non_negative() -> None:
    spec = SyntheticSpec(days=2, interval_seconds=120, noise=0.5)
    trace = generate(spec)
    assert trace.steps == 2 * 720
    assert trace.interval_seconds == 120
    assert np.all(trace.demand >= 0) and np.all(np.isfinite(trace.demand))


def test_daily_pattern_business_hours_above_night() -> None:
    spec = SyntheticSpec(days=5, noise=0.0, bursts_per_day=0.0)  # Monday to Friday
    trace = generate(spec)
    hours = (trace.timestamps() % DAY) / 3600
    night = trace.demand[(hours >= 1) & (hours < 5)]
    day = trace.demand[(hours >= 10) & (hours < 17)]
    assert night.max() < 0.25 * spec.base
    assert day.min() > 0.9 * spec.base


def test_ramp_minutes_sets_the_morning_ramp_width() -> None:
    spec = SyntheticSpec(days=1, interval_seconds=60, noise=0.0, bursts_per_day=0.0, ramp_minutes=20, lunch_bump=0)
    trace = generate(spec)
    share = (trace.demand / spec.base - spec.night_level) / (1 - spec.night_level)
    minutes = np.flatnonzero((share[: 12 * 60] > 0.1) & (share[: 12 * 60] < 0.9))
    assert 18 <= minutes.size <= 22
    assert abs(float(np.mean(minutes)) - 8 * 60) < 2


def test_weekend_lower_than_weekdays() -> None:
    spec = SyntheticSpec(days=7, noise=0.0, bursts_per_day=0.0)
    trace = generate(spec)
    per_day = trace.demand.reshape(7, -1).mean(axis=1)
    assert per_day[5] == pytest.approx(spec.weekend_level * per_day[0], rel=1e-9)
    assert per_day[6] == pytest.approx(per_day[5], rel=1e-9)
    assert np.allclose(per_day[:5], per_day[0])


def test_noise_and_bursts_sit_on_the_seasonal_level() -> None:
    spec = SyntheticSpec(days=14, noise=0.05, bursts_per_day=0.0, seed=3)
    trace = generate(spec)
    ratio = trace.demand / seasonal_level(trace.timestamps(), spec)
    assert abs(float(np.mean(ratio)) - 1.0) < 0.01
    assert float(np.std(ratio)) == pytest.approx(0.05, rel=0.1)
    bursty = generate(replace(spec, noise=0.0, bursts_per_day=2.0))
    excess = bursty.demand - seasonal_level(bursty.timestamps(), spec)
    assert np.all(excess >= -1e-9)
    assert float(excess.max()) > 0.25 * spec.base


def test_detected_periods_are_day_and_week() -> None:
    trace = generate(SyntheticSpec(days=21, seed=5))
    names = {p.name for p in fingerprint(trace.demand, trace.interval_seconds).periods}
    assert {"day", "week"} <= names


def test_csv_round_trip_through_the_backtest_loader(tmp_path: Path) -> None:
    trace = generate(SyntheticSpec(days=2))
    loaded = load_trace(write_csv(trace, tmp_path / "synthetic.csv"))
    assert (tmp_path / "synthetic.csv").read_text().splitlines()[0] == "timestamp,value"
    assert loaded.start == trace.start
    assert loaded.interval_seconds == trace.interval_seconds
    assert np.allclose(loaded.demand, trace.demand, atol=1e-4)


@pytest.mark.parametrize(
    "bad", [{"days": 0}, {"base": -1}, {"night_level": 2}, {"burst_minutes": 0}, {"ramp_minutes": 0}]
)
def test_bad_spec_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SyntheticSpec(**bad)  # type: ignore[arg-type]
