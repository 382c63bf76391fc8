"""Forecasting models with cheap incremental updates.

Each model is fitted once with statsmodels (the expensive part) and then kept as a small frozen state:
:meth:`update` applies one new observation with the fitted parameters fixed, :meth:`forecast` returns
point forecasts for the next steps. A ``NaN`` observation (a gap) advances the state on the model's own
one-step forecast. Index ``t`` counts observations consumed; step ``k`` ahead has index ``t + k - 1``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from augur.constants import FloatArray
from augur.forecast.fingerprint import seasonal_profile
from augur.forecast.series import fill_gaps


class FittedModel(Protocol):
    """What every fitted model offers."""

    @property
    def name(self) -> str: ...

    def update(self, value: float, exog: FloatArray | None = None) -> FittedModel: ...

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray: ...


@dataclass(frozen=True)
class SeasonalNaive:
    """``y_hat(t+k) = y(t+k - m*ceil(k/m))``; with ``period == 1`` the last value."""

    period: int
    buffer: FloatArray
    t: int
    last: float

    @property
    def name(self) -> str:
        return "seasonal_naive" if self.period > 1 else "naive"

    def update(self, value: float, exog: FloatArray | None = None) -> SeasonalNaive:
        buffer = self.buffer.copy()
        buffer[self.t % self.period] = value
        last = self.last if np.isnan(value) else value
        return replace(self, buffer=buffer, t=self.t + 1, last=last)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        values = self.buffer[(self.t + np.arange(steps)) % self.period]
        return np.where(np.isnan(values), self.last, values)


def fit_seasonal_naive(y: FloatArray, period: int) -> SeasonalNaive:
    m = max(1, period)
    buffer = np.full(m, np.nan)
    tail = y[-m:]
    buffer[(y.size - tail.size + np.arange(tail.size)) % m] = tail
    known = y[~np.isnan(y)]
    return SeasonalNaive(m, buffer, int(y.size), float(known[-1]) if known.size else 0.0)


@dataclass(frozen=True)
class HoltWinters:
    """Additive damped-trend Holt-Winters (ETS(A,Ad,A)); ``period == 0`` drops the season."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    period: int
    season: FloatArray
    """``season[i % period]`` is the latest seasonal term of phase ``i``."""
    t: int
    trended: bool = True
    """``False``: no trend (``beta``, ``phi`` and ``trend`` 0): simple exponential smoothing, ETS(A,N,A)."""

    @property
    def name(self) -> str:
        if not self.trended:
            return "ses"
        return "holt_winters" if self.period else "holt"

    def update(self, value: float, exog: FloatArray | None = None) -> HoltWinters:
        damped = self.phi * self.trend
        s_old = float(self.season[self.t % self.period]) if self.period else 0.0
        y = self.level + damped + s_old if np.isnan(value) else value
        level = self.alpha * (y - s_old) + (1 - self.alpha) * (self.level + damped)
        trend = self.beta * (level - self.level) + (1 - self.beta) * damped
        season = self.season
        if self.period:
            season = season.copy()
            season[self.t % self.period] = self.gamma * (y - self.level - damped) + (1 - self.gamma) * s_old
        return replace(self, level=level, trend=trend, season=season, t=self.t + 1)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        damping = np.cumsum(self.phi ** np.arange(1, steps + 1))
        values = self.level + self.trend * damping
        if self.period:
            values = values + self.season[(self.t + np.arange(steps)) % self.period]
        return np.asarray(values, dtype=np.float64)


def fit_holt_winters(y: FloatArray, period: int, max_points: int = 4032, trend: bool = True) -> HoltWinters:
    """Estimate ETS(A,Ad,A) with statsmodels on the recent history, then keep its final state;
    ``trend=False``: ETS(A,N,A), simple exponential smoothing (with the season when there is one)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    m = period if period >= 2 and y.size >= 2 * period + 2 else 0
    data = fill_gaps(y)[-max(max_points, 2 * m + 2) :]
    offset = y.size - data.size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            data,
            trend="add" if trend else None,
            damped_trend=trend,
            seasonal="add" if m else None,
            seasonal_periods=m or None,
            initialization_method="heuristic" if m else "estimated",
        )
        fit = model.fit(use_brute=False)
    p = fit.params
    season = np.zeros(0)
    if m:
        season = np.empty(m)
        season[(offset + data.size - m + np.arange(m)) % m] = np.asarray(fit.season)[-m:]
    return HoltWinters(
        alpha=float(p["smoothing_level"]),
        beta=float(p["smoothing_trend"]) if trend else 0.0,
        gamma=float(p["smoothing_seasonal"]) if m else 0.0,
        phi=float(p["damping_trend"]) if trend else 0.0,
        level=float(np.asarray(fit.level)[-1]),
        trend=float(np.asarray(fit.trend)[-1]) if trend else 0.0,
        period=m,
        season=season,
        t=int(y.size),
        trended=trend,
    )


STL_SPEED = {"seasonal_deg": 0, "inner_iter": 1, "low_pass_jump": 10, "trend_jump": 10, "seasonal_jump": 5}
"""STL settings for the refit budget: one inner loop and loess evaluated at every 5th-10th point with
linear interpolation between (about 5x faster than the defaults on two weeks at five minutes; the
seasonal profiles move by a few percent of the noise level)."""


@dataclass(frozen=True)
class Decomposed:
    """MSTL seasonal profiles (fixed between refits) plus damped Holt on the seasonally adjusted series."""

    periods: tuple[int, ...]
    profiles: tuple[FloatArray, ...]
    inner: HoltWinters

    @property
    def name(self) -> str:
        return "mstl"

    def _seasonal(self, index: npt.NDArray[np.int64] | int) -> FloatArray:
        idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
        total = np.zeros(idx.size)
        for m, profile in zip(self.periods, self.profiles, strict=True):
            total += profile[idx % m]
        return total

    def update(self, value: float, exog: FloatArray | None = None) -> Decomposed:
        adjusted = value - float(self._seasonal(self.inner.t)[0])
        return replace(self, inner=self.inner.update(adjusted))

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        index = self.inner.t + np.arange(steps, dtype=np.int64)
        return np.asarray(self.inner.forecast(steps) + self._seasonal(index), dtype=np.float64)


def fit_decomposed(y: FloatArray, periods: tuple[int, ...], max_points: int = 4032) -> Decomposed:
    """MSTL (statsmodels) for several seasonalities; the remainder and trend go to a damped Holt model."""
    from statsmodels.tsa.seasonal import MSTL

    usable = tuple(sorted(m for m in periods if m >= 2 and y.size >= 2 * m + 2))
    window = max([max_points, *(2 * m + 2 for m in usable)])
    data = fill_gaps(y)[-window:]
    offset = y.size - data.size
    profiles: list[FloatArray] = []
    adjusted = data
    if usable:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = MSTL(data, periods=usable, iterate=1, stl_kwargs=dict(STL_SPEED)).fit()
        components = np.asarray(fit.seasonal).reshape(data.size, -1)
        for j, m in enumerate(usable):
            shifted = seasonal_profile(components[:, j], m, cycles=2)
            profile = np.empty(m)
            profile[(offset + np.arange(m)) % m] = shifted
            profiles.append(profile)
        adjusted = data - components.sum(axis=1)
    inner = fit_holt_winters(adjusted, 0, max_points)
    return Decomposed(usable, tuple(profiles), replace(inner, t=int(y.size)))
