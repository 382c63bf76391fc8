"""The unlimited-refit accuracy ceiling: a full refit at every sampled origin, on data before it only.

``augur backtest`` walks each forecaster with Augur's refit budget (scheduled refits, incremental updates
in between). This module answers how much accuracy that budget costs: at each origin ``o`` (a step where
a decision is made, with demand known up to ``o - 1``) the model is fitted again on the last
``history_points`` observations before ``o`` and forecasts step ``o - 1 + horizon``, the step the
walk's ``point`` array scores at the same origin. A single model (``sf_mstl``, ``holt_winters``...) is
re-estimated on the whole window and its point forecast used as is (what a user of that library would
get); ``augur`` re-runs the full rolling-origin selection (:func:`fit_forecaster`) and uses its median.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from augur.forecast.forecaster import ForecastSettings, detected_seasons, fit_forecaster
from augur.forecast.selection import CANDIDATES, fitters
from augur.forecast.series import FloatArray


@dataclass(frozen=True)
class CeilingRun:
    """Forecasts made with a fresh fit at every origin."""

    name: str
    horizon: int
    point: FloatArray
    """``point[s]``: forecast of step ``s`` made ``horizon`` steps earlier (``NaN`` where none)."""
    fit_seconds: tuple[float, ...]
    """Wall time of each origin's fit (and forecast)."""


def sample_origins(first: int, last: int, count: int) -> list[int]:
    """``count`` origins spread evenly over ``first ... last`` (inclusive), without repeats."""
    if last < first or count <= 0:
        return []
    return sorted({int(x) for x in np.rint(np.linspace(first, last, count))})


def _forecast_at(name: str, window: FloatArray, settings: ForecastSettings, horizon: int) -> float:
    if name == "augur":
        forecaster = fit_forecaster(window, ForecastSettings(**{**settings.__dict__, "candidates": CANDIDATES}))
        return float(forecaster.forecast((horizon,), (0.5,)).values[0, 0])
    periods, primary = detected_seasons(window, settings)
    model = fitters(periods, primary)[name](window[-settings.history_points :], None)
    value = float(model.forecast(horizon)[horizon - 1])
    finite = window[np.isfinite(window)]
    return max(value, 0.0) if finite.size and float(finite.min()) >= 0 else value


def refit_at_origins(
    name: str,
    demand: FloatArray,
    interval_seconds: float,
    origins: list[int],
    horizon: int,
    history_points: int = 4032,
    target_horizon: int | None = None,
) -> CeilingRun:
    """Refit ``name`` (a model of :func:`fitters`, or ``augur``) at every origin and forecast ``horizon`` ahead."""
    settings = ForecastSettings(
        interval_seconds,
        target_horizon=target_horizon or horizon,
        history_points=history_points,
    )
    point = np.full(demand.size, np.nan)
    seconds: list[float] = []
    for origin in origins:
        target = origin - 1 + horizon
        if target >= demand.size or origin < 2:
            continue
        window = demand[max(0, origin - 4 * history_points) : origin]
        start = time.perf_counter()
        point[target] = _forecast_at(name, window, settings, horizon)
        seconds.append(time.perf_counter() - start)
    return CeilingRun(name, horizon, point, tuple(seconds))
