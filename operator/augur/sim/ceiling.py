"""The unlimited-refit accuracy ceiling: a full refit at every sampled origin, on data before it only.

``augur backtest`` walks each forecaster with Augur's refit budget (scheduled refits, incremental updates
in between). This module answers how much accuracy that budget costs: at each origin ``o`` (a step where
a decision is made, with demand known up to ``o - 1``) the model is fitted again on the last
``history_points`` observations before ``o`` and forecasts step ``o - 1 + horizon``, the step the
walk's ``point`` array scores at the same origin. A single model (``sf_mstl``, ``holt_winters``...) is
re-estimated on the whole window and its point forecast used as is (what a user of that library would
get); ``augur`` and ``augur_sf`` re-run the full rolling-origin selection (:func:`fit_forecaster`) over
their candidates and use its median.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from augur.constants import FloatArray
from augur.forecast.forecaster import ForecastSettings, detected_seasons, fit_forecaster
from augur.forecast.selection import fitters
from augur.sim.policies import FORECASTERS

SELECTIONS = ("augur", "augur_sf")
"""Policies refitted by a full rolling-origin selection over their candidates (the rest: one model)."""


@dataclass(frozen=True)
class CeilingRun:
    """Forecasts made with a fresh fit at every origin."""

    name: str
    horizon: int
    point: FloatArray
    """``point[s]``: forecast of step ``s`` made ``horizon`` steps earlier (``NaN`` where none)."""
    fit_seconds: tuple[float, ...]
    """Wall time of each origin's fit (and forecast)."""
    origins: tuple[int, ...] = ()
    """Origins actually refitted (all of them unless ``max_seconds`` ran out), sorted."""
    fit_cpu_seconds: tuple[float, ...] = ()
    """CPU time of each origin's fit (this process; on a shared machine steadier than the wall time)."""


def sample_origins(first: int, last: int, count: int) -> list[int]:
    """``count`` origins spread evenly over ``first ... last`` (inclusive), without repeats."""
    if last < first or count <= 0:
        return []
    return sorted({int(x) for x in np.rint(np.linspace(first, last, count))})


def spread_order(items: list[int]) -> list[int]:
    """``items`` reordered so that every prefix is spread over the whole range (bisection order)."""
    order: list[int] = []
    seen: set[int] = set()
    step = 1 << max(0, (len(items) - 1).bit_length())
    while step >= 1:
        for i in range(0, len(items), step):
            if i not in seen:
                seen.add(i)
                order.append(items[i])
        step //= 2
    return order


def _forecast_at(name: str, window: FloatArray, settings: ForecastSettings, horizon: int) -> float:
    if name in SELECTIONS:
        forecaster = fit_forecaster(window, replace(settings, candidates=FORECASTERS[name]))
        return float(forecaster.forecast((horizon,), (0.5,)).values[0, 0])
    periods, primary = detected_seasons(window, settings)
    model = fitters(periods, primary, settings.target_horizon)[name](window[-settings.history_points :], None)
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
    max_seconds: float | None = None,
) -> CeilingRun:
    """Refit ``name`` (a model of :func:`fitters`, ``augur`` or ``augur_sf``) at every origin and forecast
    ``horizon`` ahead.

    With ``max_seconds``, origins are visited in :func:`spread_order` and no new fit starts once that much
    time has passed (the first always runs); the run says which origins were done.
    """
    settings = ForecastSettings(
        interval_seconds,
        target_horizon=target_horizon or horizon,
        history_points=history_points,
    )
    point = np.full(demand.size, np.nan)
    seconds: list[float] = []
    cpu: list[float] = []
    done: list[int] = []
    began = time.perf_counter()
    for origin in spread_order(list(origins)):
        target = origin - 1 + horizon
        if target >= demand.size or origin < 2:
            continue
        if max_seconds is not None and done and time.perf_counter() - began > max_seconds:
            break
        window = demand[max(0, origin - 4 * history_points) : origin]
        start, start_cpu = time.perf_counter(), time.process_time()
        point[target] = _forecast_at(name, window, settings, horizon)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        done.append(origin)
    return CeilingRun(name, horizon, point, tuple(seconds), tuple(sorted(done)), tuple(cpu))
