"""Behavioural fingerprint of a demand series: seasonal periods, level, trend, noise and burstiness.

The fingerprint is small and JSON-friendly so it can live in a ``WorkloadProfile`` status and be
compared between workloads (:func:`distance`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from augur.constants import FloatArray
from augur.forecast.series import autocorrelation, clip_outliers, fill_gaps, moving_average

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
CALENDAR_PERIODS = (("hour", HOUR), ("day", DAY), ("week", WEEK))
MIN_STRENGTH = 0.3
MIN_PERIOD_STEPS = 4


@dataclass(frozen=True)
class Period:
    """One detected seasonality."""

    name: str
    seconds: float
    steps: int
    strength: float
    """Autocorrelation at the period after removing the moving average of that width, 0 ... 1."""


@dataclass(frozen=True)
class HistoryStatus:
    """Whether the history supports a seasonal model, in words a person reads."""

    sufficient: bool
    message: str
    fallback: str | None
    """Model family used meanwhile, or ``None`` when the history suffices."""


@dataclass(frozen=True)
class Fingerprint:
    """Compact description of a series' behaviour."""

    interval_seconds: float
    samples: int
    gap_fraction: float
    periods: tuple[Period, ...]
    level: float
    trend_per_day: float
    """Relative change of the level per day (0.01 = 1 %/day)."""
    noise: float
    """Robust sigma of the residual after seasonal profile and level, relative to the level."""
    burstiness: float
    """Share of points more than 3 robust sigma above the seasonal baseline."""
    peak_to_median: float

    @property
    def primary(self) -> Period | None:
        """The strongest period, preferring longer ones when strengths are close."""
        if not self.periods:
            return None
        return max(self.periods, key=lambda p: (round(p.strength, 1), p.seconds))

    def usable_periods(self, samples: int | None = None) -> tuple[Period, ...]:
        """Periods with at least two full cycles of history."""
        n = self.samples if samples is None else samples
        return tuple(p for p in self.periods if n >= 2 * p.steps)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["periods"] = [asdict(p) for p in self.periods]
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        periods = tuple(Period(**p) for p in data.get("periods", []))
        return cls(**{**data, "periods": periods})


def _strength(y: FloatArray, lag: int) -> float:
    if lag < MIN_PERIOD_STEPS or y.size < 2 * lag:
        return 0.0
    residual = y - moving_average(y, lag)
    acf = autocorrelation(residual, lag)
    return float(max(0.0, acf[lag]))


def _spectral_candidate(y: FloatArray) -> int | None:
    detrended = y - moving_average(y, max(3, y.size // 4))
    power = np.abs(np.fft.rfft(detrended)) ** 2
    if power.size < 4:
        return None
    k = int(np.argmax(power[2:])) + 2
    lag = round(y.size / k)
    return lag if MIN_PERIOD_STEPS <= lag <= y.size // 2 else None


def detect_periods(values: FloatArray, interval_seconds: float) -> tuple[Period, ...]:
    """Seasonal periods that show up in ``values``, robust to gaps (interpolated) and outliers (clipped)."""
    y = clip_outliers(fill_gaps(values))
    found: dict[int, Period] = {}
    for name, seconds in CALENDAR_PERIODS:
        lag = round(seconds / interval_seconds)
        strength = _strength(y, lag)
        if strength >= MIN_STRENGTH:
            found[lag] = Period(name, lag * interval_seconds, lag, round(strength, 4))
    other = _spectral_candidate(y)
    if other is not None and all(abs(other - k) > 0.05 * k for k in found):
        strength = _strength(y, other)
        if strength >= MIN_STRENGTH:
            found[other] = Period("other", other * interval_seconds, other, round(strength, 4))
    return tuple(sorted(found.values(), key=lambda p: p.steps))


def seasonal_profile(y: FloatArray, steps: int, cycles: int = 4) -> FloatArray:
    """Median value per phase (``index % steps``) over the last ``cycles`` full cycles."""
    c = max(1, min(cycles, y.size // steps))
    block = y[y.size - c * steps :].reshape(c, steps)
    median = np.median(block, axis=0)
    profile = np.empty(steps)
    profile[(y.size + np.arange(steps)) % steps] = median
    return profile


def _seasonal_baseline(y: FloatArray, period: Period | None) -> FloatArray:
    if period is None or y.size < 2 * period.steps:
        return moving_average(y, 7)
    seasonal = seasonal_profile(y, period.steps)[np.arange(y.size) % period.steps]
    return seasonal + moving_average(y - seasonal, period.steps)


def fingerprint(values: FloatArray, interval_seconds: float) -> Fingerprint:
    """The behavioural fingerprint of ``values`` sampled every ``interval_seconds``."""
    raw = np.asarray(values, dtype=np.float64)
    y = fill_gaps(raw)
    periods = detect_periods(raw, interval_seconds)
    usable = tuple(p for p in periods if y.size >= 2 * p.steps)
    primary = max(usable, key=lambda p: (round(p.strength, 1), p.seconds)) if usable else None
    baseline = _seasonal_baseline(y, primary)
    residual = y - baseline
    sigma = float(1.4826 * np.median(np.abs(residual - np.median(residual))))
    level = float(np.median(y[-(primary.steps if primary else min(y.size, 100)) :]))
    scale = abs(level) if level else 1.0
    days = y.size * interval_seconds / DAY
    smooth = moving_average(y, primary.steps if primary else max(1, y.size // 10))
    slope = float(np.polyfit(np.arange(y.size), smooth, 1)[0]) if y.size > 2 else 0.0
    median = float(np.median(y))
    return Fingerprint(
        interval_seconds=interval_seconds,
        samples=int(raw.size),
        gap_fraction=round(float(np.isnan(raw).mean()), 6),
        periods=periods,
        level=level,
        trend_per_day=slope * (DAY / interval_seconds) / scale if days > 0 else 0.0,
        noise=sigma / scale,
        burstiness=float(np.mean(residual > 3 * sigma)) if sigma > 0 else 0.0,
        peak_to_median=float(np.quantile(y, 0.99) / median) if median > 0 else 0.0,
    )


def _describe(seconds: float) -> str:
    for unit, size in (("week", WEEK), ("day", DAY), ("hour", HOUR), ("minute", 60.0)):
        if seconds >= 2 * size or (seconds >= size and math.isclose(seconds % size, 0.0, abs_tol=1.0)):
            count = seconds / size
            shown = f"{count:.0f}" if math.isclose(count, round(count), abs_tol=0.05) else f"{count:.1f}"
            return f"{shown} {unit}{'' if shown == '1' else 's'}"
    return f"{seconds:.0f} seconds"


def history_status(samples: int, interval_seconds: float, expected_period_seconds: float = DAY) -> HistoryStatus:
    """Whether ``samples`` cover two full cycles of the expected season, said plainly."""
    have = samples * interval_seconds
    need = 2 * expected_period_seconds
    if have >= need:
        return HistoryStatus(True, f"history of {_describe(have)} covers two full cycles", None)
    cycles = {DAY: "two full days", WEEK: "two full weeks", HOUR: "two full hours"}
    wanted = cycles.get(expected_period_seconds, f"two full cycles of {_describe(expected_period_seconds)}")
    return HistoryStatus(
        False,
        f"need {wanted}, have {_describe(have)}; forecasting meanwhile without seasonality "
        "(damped-trend Holt, last value, AR errors; chosen by rolling-origin validation)",
        "holt",
    )


def distance(a: Fingerprint, b: Fingerprint) -> float:
    """How different two workloads behave (0 = alike); compares shape, not scale."""

    def periods(f: Fingerprint) -> dict[str, float]:
        return {p.name: p.strength for p in f.periods}

    pa, pb = periods(a), periods(b)
    seasonal = sum(abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in set(pa) | set(pb))
    return (
        seasonal
        + abs(a.trend_per_day - b.trend_per_day)
        + abs(a.noise - b.noise)
        + abs(a.burstiness - b.burstiness)
        + abs(math.log1p(max(a.peak_to_median, 0.0)) - math.log1p(max(b.peak_to_median, 0.0)))
    )
