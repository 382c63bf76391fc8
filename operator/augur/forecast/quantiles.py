"""Quantile forecasts from empirical error distributions per horizon (rolling-origin residuals)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from augur.constants import FloatArray

LEVELS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99)
MIN_SAMPLES = 10


def horizon_grid(max_horizon: int, target: int) -> tuple[int, ...]:
    """Horizons (steps) at which errors are measured: a geometric grid plus the target horizon."""
    grid = {1, max(1, min(target, max_horizon)), max_horizon}
    h = 1
    while h < max_horizon:
        grid.add(h)
        h = max(h + 1, round(h * 1.5))
    return tuple(sorted(grid))


@dataclass(frozen=True)
class Calibration:
    """Quantiles of ``actual - forecast`` at a grid of horizons."""

    horizons: tuple[int, ...]
    levels: tuple[float, ...]
    table: FloatArray
    """``table[i, j]``: quantile ``levels[j]`` of the errors at ``horizons[i]``."""

    def offsets(self, horizons: FloatArray, level: float) -> FloatArray:
        """Error quantile ``level`` at each horizon, interpolated between grid points."""
        return self.grid(horizons, (level,))[:, 0]

    _cache: dict[tuple[tuple[float, ...], tuple[float, ...]], FloatArray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Grids already computed: a workload asks for the same horizons and levels at every tick."""

    def grid(self, horizons: FloatArray, levels: tuple[float, ...]) -> FloatArray:
        """Error quantiles at ``horizons`` x ``levels``, linearly interpolated in both directions."""
        key = (tuple(float(h) for h in np.atleast_1d(horizons)), tuple(levels))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._grid(np.asarray(key[0], dtype=np.float64), levels)
            cached.setflags(write=False)
            if len(self._cache) < 16:
                self._cache[key] = cached
        return cached

    def _grid(self, horizons: FloatArray, levels: tuple[float, ...]) -> FloatArray:
        by_horizon = interpolate_rows(np.asarray(horizons, dtype=np.float64), self.horizons, self.table)
        return interpolate_rows(np.asarray(levels, dtype=np.float64), self.levels, by_horizon.T).T


def interpolate_rows(x: FloatArray, xp: tuple[float, ...] | tuple[int, ...], table: FloatArray) -> FloatArray:
    """Rows of ``table`` (one per ``xp``) linearly interpolated at ``x``; flat beyond the ends."""
    points = np.asarray(xp, dtype=np.float64)
    if points.size == 1:
        return np.repeat(table[:1], x.size, axis=0)
    clipped = np.clip(x, points[0], points[-1])
    right = np.clip(np.searchsorted(points, clipped, side="right"), 1, points.size - 1)
    left = right - 1
    weight = ((clipped - points[left]) / (points[right] - points[left]))[:, None]
    return np.asarray(table[left] * (1 - weight) + table[right] * weight, dtype=np.float64)


def calibrate(errors: FloatArray, horizons: tuple[int, ...], levels: tuple[float, ...] = LEVELS) -> Calibration:
    """Empirical quantiles per horizon column of ``errors`` (``NaN`` entries ignored)."""
    rows: list[FloatArray] = []
    kept: list[int] = []
    for i, h in enumerate(horizons):
        column = errors[:, i]
        column = column[np.isfinite(column)]
        if column.size >= MIN_SAMPLES:
            rows.append(np.quantile(column, levels))
            kept.append(h)
    if not rows:
        return Calibration((1,), levels, np.zeros((1, len(levels))))
    table = np.maximum.accumulate(np.vstack(rows), axis=1)
    return Calibration(tuple(kept), levels, table)


@dataclass(frozen=True)
class QuantileForecast:
    """Point forecasts and quantiles for a set of horizons (steps ahead of the last observation)."""

    horizons: tuple[int, ...]
    interval_seconds: float
    mean: FloatArray
    levels: tuple[float, ...]
    values: FloatArray
    """``values[i, j]``: quantile ``levels[j]`` at ``horizons[i]``."""

    def at(self, level: float) -> FloatArray:
        """Quantile ``level`` at every horizon (interpolated between the stored levels)."""
        return np.asarray(interpolate_rows(np.asarray([level]), self.levels, self.values.T)[0], dtype=np.float64)
