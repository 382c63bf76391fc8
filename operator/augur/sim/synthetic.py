"""Synthetic demand traces the project generates itself: daily and weekly pattern, noise and bursts.

Used by the live demo, the e2e tests and anyone who wants a trace without the shared data sets. The
generator is pure and seeded: the same :class:`SyntheticSpec` gives the same trace, bit for bit.

Shape of one trace (times are trace time, UTC, from :attr:`SyntheticSpec.start`, a Monday):

* **Daily**: business-hours traffic. A night floor (``night_level`` of the day level), a morning ramp
  centred on ``morning_hour`` (logistic, ``ramp_minutes`` from 10 % to 90 %), a lunch bump and an
  evening decline centred on ``evening_hour``.
* **Weekly**: Saturdays and Sundays run at ``weekend_level`` of a weekday.
* **Trend**: the level grows by ``weekly_growth`` per week (compounded).
* **Noise**: multiplicative, normal with standard deviation ``noise`` (relative).
* **Bursts**: Poisson arrivals (``bursts_per_day``), each a fast rise and an exponential decay lasting
  ``burst_minutes`` on average, height a random multiple (``burst_height``, +-50 %) of the base level.

:func:`write_csv` writes ``timestamp,value`` rows that ``augur backtest`` and :func:`augur.sim.trace.load_trace` read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from augur.constants import FloatArray
from augur.sim.trace import Trace

DAY = 86400.0
WEEK = 7 * DAY
MONDAY = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
"""A Monday, 00:00 UTC: the default start, so weekday arithmetic is simple to read."""


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate. Levels are in demand units (for example req/s)."""

    days: float = 21.0
    """Length of the trace."""
    interval_seconds: float = 300.0
    """Spacing of the points."""
    base: float = 400.0
    """Weekday daytime level (before noise and bursts)."""
    night_level: float = 0.15
    """Night demand as a share of ``base``."""
    morning_hour: float = 8.0
    """Centre of the morning ramp (hour of day)."""
    ramp_minutes: float = 120.0
    """How long the morning ramp takes from 10 % to 90 % of the way (a short one: a market opening)."""
    evening_hour: float = 19.0
    """Centre of the evening decline (hour of day)."""
    lunch_bump: float = 0.15
    """Extra demand around 12:30 as a share of ``base``."""
    weekend_level: float = 0.55
    """Weekend demand as a share of a weekday's."""
    weekly_growth: float = 0.0
    """Relative growth of the level per week."""
    noise: float = 0.05
    """Standard deviation of the multiplicative noise."""
    bursts_per_day: float = 0.5
    """Mean number of bursts per day (Poisson)."""
    burst_height: float = 0.6
    """Mean burst height as a share of ``base``."""
    burst_minutes: float = 30.0
    """Mean burst duration (decay constant) in minutes."""
    seed: int = 0
    start: float = MONDAY
    """Unix seconds of the first point."""

    def __post_init__(self) -> None:
        if self.days <= 0 or self.interval_seconds <= 0:
            raise ValueError("days and interval_seconds must be positive")
        if self.base <= 0:
            raise ValueError("base must be positive")
        if not (0 <= self.night_level <= 1 and 0 <= self.weekend_level <= 1):
            raise ValueError("night_level and weekend_level are shares between 0 and 1")
        if self.noise < 0 or self.bursts_per_day < 0 or self.burst_height < 0:
            raise ValueError("noise, bursts_per_day and burst_height must be >= 0")
        if self.burst_minutes <= 0 or self.ramp_minutes <= 0:
            raise ValueError("burst_minutes and ramp_minutes must be positive")

    @property
    def steps(self) -> int:
        return math.ceil(self.days * DAY / self.interval_seconds)


def _logistic(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def daily_shape(hours: FloatArray, spec: SyntheticSpec) -> FloatArray:
    """Weekday demand as a share of ``base`` at ``hours`` (hour of day, 0 ... 24), without noise."""
    scale = spec.ramp_minutes / 60.0 / (2.0 * math.log(9.0))  # logistic 10 % ... 90 % span = 4.39 scales
    day = _logistic((hours - spec.morning_hour) / scale) - _logistic((hours - spec.evening_hour) / 0.8)
    lunch = spec.lunch_bump * np.exp(-0.5 * ((hours - 12.5) / 0.75) ** 2)
    shape: FloatArray = spec.night_level + (1.0 - spec.night_level) * day + lunch
    return shape


def seasonal_level(times: FloatArray, spec: SyntheticSpec) -> FloatArray:
    """The noise-free, burst-free demand at unix ``times``: daily shape, weekend level and trend."""
    since = times - spec.start
    hours = ((times % DAY) / 3600.0).astype(np.float64)
    weekday = np.floor((times - MONDAY) / DAY).astype(np.int64) % 7
    weekly = np.where(weekday >= 5, spec.weekend_level, 1.0)
    trend = (1.0 + spec.weekly_growth) ** (since / WEEK)
    level: FloatArray = spec.base * daily_shape(hours, spec) * weekly * trend
    return level


def _bursts(times: FloatArray, spec: SyntheticSpec, rng: np.random.Generator) -> FloatArray:
    out = np.zeros(times.size)
    count = int(rng.poisson(spec.bursts_per_day * spec.days))
    starts = spec.start + rng.uniform(0.0, spec.days * DAY, count)
    heights = spec.base * spec.burst_height * rng.uniform(0.5, 1.5, count)
    decays = spec.burst_minutes * 60.0 * rng.uniform(0.5, 1.5, count)
    rise = 2.0 * spec.interval_seconds
    for start, height, decay in zip(starts.tolist(), heights.tolist(), decays.tolist(), strict=True):
        dt = times - start
        up = np.clip(dt / rise, 0.0, 1.0)
        down = np.exp(-np.clip(dt - rise, 0.0, None) / decay)
        out += np.where(dt >= 0, height * up * down, 0.0)
    return out


def generate(spec: SyntheticSpec | None = None, name: str = "synthetic") -> Trace:
    """The trace ``spec`` describes (default spec: three weeks at five minutes, seed 0)."""
    spec = spec or SyntheticSpec()
    rng = np.random.default_rng(spec.seed)
    times = spec.start + spec.interval_seconds * np.arange(spec.steps, dtype=np.float64)
    level = seasonal_level(times, spec)
    noisy = level * (1.0 + spec.noise * rng.standard_normal(times.size))
    demand = np.maximum(noisy + _bursts(times, spec, rng), 0.0)
    return Trace(name=name, start=float(times[0]), interval_seconds=spec.interval_seconds, demand=demand)


def write_csv(trace: Trace, path: Path) -> Path:
    """Write ``timestamp,value`` rows (UTC ``YYYY-MM-DD HH:MM:SS``, ISO 8601 with a fraction when the times
    are not whole seconds); gaps (``NaN``) are left out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["timestamp,value"]
    for t, v in zip(trace.timestamps().tolist(), trace.demand.tolist(), strict=True):
        if math.isfinite(v):
            moment = datetime.fromtimestamp(t, tz=UTC)
            stamp = moment.strftime("%Y-%m-%d %H:%M:%S") if float(t).is_integer() else moment.isoformat()
            lines.append(f"{stamp},{v:.4f}")
    path.write_text("\n".join(lines) + "\n")
    return path
