"""Robust local levels: flat forecasts fitted for the absolute error at the lead time.

On noisy, non-seasonal series (spiky CPU of a quiet service, an ad exchange's hourly cost) the best
point forecast a few steps ahead is a level, not the last value: statsforecast's AutoARIMA picks white
noise around a mean or an ARIMA(p,1,q) whose MA term all but cancels the difference there. Augur's
damped Holt is fitted for the squared one-step error, so one spike pulls its level up and its
smoothing constant toward the noise. These two models instead choose their one parameter by the mean
absolute error of the ``horizon``-step forecast on the recent history (the error the selection and the
backtest score), so a spike moves them little:

- ``median_level``: the median of the last ``window`` observations (``median_follow``: the same, but the
  latest value once a burst has lasted :data:`FOLLOW` steps);
- ``smooth_level``: exponential smoothing of the level, ``level += alpha * (y - level)``.

Both forecast the same value at every horizon; a gap (``NaN``) leaves the state unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from augur.constants import FloatArray

WINDOWS = (2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 72, 96, 144, 288)
"""Candidate windows (steps) of ``median_level``."""
ALPHAS = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
"""Candidate smoothing constants of ``smooth_level``."""
FIT_POINTS = 2016
"""Recent points the parameter is chosen on (a week at five-minute steps)."""
MIN_POINTS = 20
FOLLOW = 2
"""With ``follow``: this many latest values all beyond ``FOLLOW_MADS`` median absolute deviations from the
window's median on the same side mark a level shift (a burst), and the forecast is the latest value."""
FOLLOW_MADS = 3.0


@dataclass(frozen=True)
class MedianLevel:
    """Median of the last ``len(recent)`` observations; ``recent[-1]`` is the latest."""

    recent: FloatArray
    """Never empty and never a gap: the fit keeps finite values, an update skips a gap."""
    t: int
    follow: bool = False
    """Follow a level shift (see :data:`FOLLOW`)."""

    @property
    def name(self) -> str:
        return "median_follow" if self.follow else "median_level"

    def update(self, value: float, exog: FloatArray | None = None) -> MedianLevel:
        if np.isnan(value):
            return replace(self, t=self.t + 1)
        recent = np.concatenate((self.recent[1:], [value]))
        return replace(self, recent=recent, t=self.t + 1)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        level = np.asarray([np.median(self.recent)])
        if self.follow and self.recent.size > 2 * FOLLOW:
            level = _following(self.recent[None, :], level)
        return np.full(steps, float(level[0]))


def _following(windows: FloatArray, medians: FloatArray) -> FloatArray:
    """The forecast with ``follow`` for each row of ``windows`` (latest value last) and its median: the
    latest value where the last :data:`FOLLOW` values are all beyond the spread on the same side."""
    spread = FOLLOW_MADS * np.median(np.abs(windows - medians[:, None]), axis=1)
    tail = windows[:, -FOLLOW:]
    shifted = (tail.min(axis=1) > medians + spread) | (tail.max(axis=1) < medians - spread)
    return np.asarray(np.where(shifted, windows[:, -1], medians), dtype=np.float64)


@dataclass(frozen=True)
class SmoothLevel:
    """Simple exponential smoothing with ``alpha`` chosen for the absolute error."""

    alpha: float
    level: float
    t: int

    @property
    def name(self) -> str:
        return "smooth_level"

    def update(self, value: float, exog: FloatArray | None = None) -> SmoothLevel:
        if np.isnan(value):
            return replace(self, t=self.t + 1)
        return SmoothLevel(self.alpha, self.level + self.alpha * (value - self.level), self.t + 1)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        return np.full(steps, self.level)


def _recent(y: FloatArray, max_points: int) -> FloatArray:
    data = y[-max_points:]
    data = data[np.isfinite(data)]
    if data.size < MIN_POINTS:
        raise ValueError("too few points for a level model")
    return np.asarray(data, dtype=np.float64)


def fit_median_level(
    y: FloatArray, horizon: int = 1, max_points: int = FIT_POINTS, follow: bool = False
) -> MedianLevel:
    """The window whose median at ``t`` (with ``follow``, the forecast that follows level shifts) best
    forecasts ``y[t + horizon]`` (mean absolute error, ties to the shorter window) over the recent
    history."""
    data = _recent(y, max_points)
    h = max(1, horizon)
    best_window, best_error = 1, float(np.mean(np.abs(data[h:] - data[:-h])))
    for window in WINDOWS:
        if data.size < window + h + MIN_POINTS // 2:
            break
        rows = sliding_window_view(data, window)[:-h]
        forecasts = np.median(rows, axis=1)
        if follow and window > 2 * FOLLOW:
            forecasts = _following(rows, forecasts)
        error = float(np.mean(np.abs(data[window - 1 + h :] - forecasts)))
        if error < best_error:
            best_window, best_error = window, error
    return MedianLevel(data[-best_window:].copy(), int(y.size), follow)


def _smoothed(data: FloatArray, alpha: float) -> FloatArray:
    """Levels after each observation (started at the first)."""
    from scipy.signal import lfilter

    start = np.asarray([(1 - alpha) * data[0]])
    return np.asarray(lfilter([alpha], [1.0, alpha - 1.0], data, zi=start)[0], dtype=np.float64)


def fit_smooth_level(y: FloatArray, horizon: int = 1, max_points: int = FIT_POINTS) -> SmoothLevel:
    """The smoothing constant whose level at ``t`` best forecasts ``y[t + horizon]`` (mean absolute
    error over the recent history, the first tenth left out as burn-in; ties to the smaller constant)."""
    data = _recent(y, max_points)
    h = max(1, horizon)
    burn = data.size // 10
    best: tuple[float, float, float] | None = None
    for alpha in ALPHAS:
        levels = _smoothed(data, alpha)
        error = float(np.mean(np.abs(data[burn + h :] - levels[burn:-h])))
        if best is None or error < best[0]:
            best = (error, alpha, float(levels[-1]))
    assert best is not None
    return SmoothLevel(best[1], best[2], int(y.size))
