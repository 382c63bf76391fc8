"""Dynamic harmonic regression: SARIMAX with Fourier terms and external feeds as exogenous regressors.

``y(t) = x(t)*beta + u(t)`` with ``u`` an AR(p) process. ``x`` holds a constant, sine/cosine pairs for
every seasonal period and the external feeds (a price, the weather, a marketing calendar). statsmodels'
SARIMAX estimates the AR part by maximum likelihood with beta taken from least squares; between refits
the state is just the last ``p`` residuals, so an update costs microseconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from augur.constants import FloatArray
from augur.forecast.series import fill_gaps

AR_ORDER = 2
AR_POINTS = 1008
"""The AR errors are estimated on the most recent residuals only (plenty for two coefficients)."""


def design(index: FloatArray, periods: tuple[int, ...], harmonics: int, feeds: FloatArray | None) -> FloatArray:
    """Regressor matrix for absolute time indices ``index``: constant, Fourier pairs, feeds."""
    idx = np.asarray(index, dtype=np.float64)
    blocks = [np.ones((idx.size, 1))]
    for m in periods:
        k = np.arange(1, min(harmonics, m // 2) + 1, dtype=np.float64)
        angle = 2.0 * np.pi * k[None, :] * idx[:, None] / m
        # sin and cos of each harmonic side by side: sin 1, cos 1, sin 2, cos 2, ...
        blocks.append(np.stack((np.sin(angle), np.cos(angle)), axis=2).reshape(idx.size, -1))
    matrix = np.concatenate(blocks, axis=1)
    if feeds is not None and feeds.size:
        matrix = np.column_stack([matrix, np.asarray(feeds, dtype=np.float64).reshape(idx.size, -1)])
    return matrix


@dataclass(frozen=True)
class HarmonicArima:
    """Fitted regression with AR(p) errors; ``residuals[0]`` is the most recent one."""

    periods: tuple[int, ...]
    harmonics: int
    beta: FloatArray
    ar: tuple[float, ...]
    residuals: tuple[float, ...]
    feeds: int
    last_feed: FloatArray
    t: int

    @property
    def name(self) -> str:
        return "sarimax"

    def _row(self, index: FloatArray, feeds: FloatArray | None) -> FloatArray:
        if self.feeds and feeds is None:
            feeds = np.tile(self.last_feed, (np.asarray(index).size, 1))
        return design(index, self.periods, self.harmonics, feeds if self.feeds else None)

    def _ar_step(self, residuals: tuple[float, ...]) -> float:
        return float(sum(a * r for a, r in zip(self.ar, residuals, strict=False)))

    def update(self, value: float, exog: FloatArray | None = None) -> HarmonicArima:
        feed = None if exog is None else np.asarray(exog, dtype=np.float64).reshape(1, -1)
        x = self._row(np.asarray([self.t], dtype=np.float64), feed)[0]
        u = self._ar_step(self.residuals) if np.isnan(value) else value - float(x @ self.beta)
        last_feed = self.last_feed if feed is None else feed[0]
        return replace(self, residuals=(u, *self.residuals[:-1]), t=self.t + 1, last_feed=last_feed)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        index = self.t + np.arange(steps, dtype=np.float64)
        base = self._row(index, exog) @ self.beta
        return np.asarray(base + ar_path(self.ar, self.residuals, steps), dtype=np.float64)


def ar_path(ar: tuple[float, ...], residuals: tuple[float, ...], steps: int) -> FloatArray:
    """The AR(p) errors' expected path: ``e[t] = sum(ar[i] * e[t-1-i])`` from the last residuals.

    ``residuals[0]`` is the most recent one. A plain recursion rather than ``scipy.signal.lfilter``:
    importing scipy.signal costs the operator's process about 80 MiB of RSS, and the horizons are short.
    """
    history = list(residuals)
    path = np.empty(steps, dtype=np.float64)
    for k in range(steps):
        value = sum(a * r for a, r in zip(ar, history, strict=False))
        path[k] = value
        history = [value, *history[:-1]]
    return path


def _yule_walker(u: FloatArray, order: int) -> FloatArray:
    centered = u - u.mean()
    denom = float(centered @ centered) or 1.0
    r = np.array([float(centered[: centered.size - k] @ centered[k:]) / denom for k in range(order + 1)])
    toeplitz = np.array([[r[abs(i - j)] for j in range(order)] for i in range(order)])
    try:
        return np.asarray(np.linalg.solve(toeplitz, r[1:]), dtype=np.float64)
    except np.linalg.LinAlgError:
        return np.zeros(order)


def fit_harmonic_arima(
    y: FloatArray,
    periods: tuple[int, ...],
    feeds: FloatArray | None = None,
    harmonics: int = 6,
    max_points: int = 2016,
) -> HarmonicArima:
    """Least-squares beta, then SARIMAX(p, 0, 0) with beta held fixed estimates the AR coefficients."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    usable = tuple(m for m in periods if m >= 4 and y.size >= 2 * m)
    window = min(y.size, max([max_points, *usable]))
    data = fill_gaps(y)[-window:]
    index = np.arange(y.size - window, y.size, dtype=np.float64)
    feed_block = None if feeds is None else np.asarray(feeds, dtype=np.float64).reshape(y.size, -1)
    x = design(index, usable, harmonics, None if feed_block is None else feed_block[-window:])
    beta = np.linalg.lstsq(x, data, rcond=None)[0]
    u = data - x @ beta
    ar = _yule_walker(u, AR_ORDER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = SARIMAX(u[-AR_POINTS:], order=(AR_ORDER, 0, 0), trend="n", concentrate_scale=True)
            start = np.clip(ar, -0.95, 0.95) if np.abs(ar).sum() < 0.99 else np.array([0.5, 0.0])
            ar = np.asarray(model.fit(start_params=start, disp=False, maxiter=30).params[:AR_ORDER])
        except (ValueError, np.linalg.LinAlgError):
            pass
    n_feeds = 0 if feed_block is None else feed_block.shape[1]
    last_feed = np.zeros(n_feeds) if feed_block is None else feed_block[-1]
    return HarmonicArima(
        periods=usable,
        harmonics=harmonics,
        beta=np.asarray(beta, dtype=np.float64),
        ar=tuple(float(a) for a in ar),
        residuals=tuple(float(r) for r in u[::-1][:AR_ORDER]),
        feeds=n_feeds,
        last_feed=last_feed,
        t=int(y.size),
    )
