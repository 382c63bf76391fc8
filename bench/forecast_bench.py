"""Forecasting speed, external feeds and refit cost (``bench/results/forecast.json``).

- speed: incremental update, update + quantile forecast + decision per series per tick; on two weeks at
  five-minute steps the scheduled refit (fingerprint, re-estimate the chosen model only, rolling-origin
  recalibration) per model and the full selection (fingerprint + rolling origin over all four models);
- feeds: a feed carrying signal must improve the forecast, a noise feed must not hurt.
"""

from __future__ import annotations

import os

from augur.blas import ONE_THREAD

# One BLAS thread per process (augur.blas): statsmodels' small linear algebra is up to 10x slower when
# OpenBLAS spreads it over cores that are already busy (measured on this shared machine).
os.environ.update(ONE_THREAD | os.environ)

import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, machine, write

from augur.forecast.combination import COMBINATION
from augur.forecast.forecaster import Forecaster, ForecastSettings, fit_forecaster, refit_forecaster
from augur.forecast.online import OnlineSettings
from augur.forecast.selection import CANDIDATES
from augur.scaling.decision import Observed, ScalingParams, decide

STEP = 300.0
TWO_WEEKS = 4032


def _series(n: int, seed: int) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    daily = 40 * np.sin(2 * np.pi * t / 288) + 15 * np.sin(4 * np.pi * t / 288)
    weekly = 10 * np.sin(2 * np.pi * t / 2016)
    return np.maximum(0.0, 200 + daily + weekly + rng.normal(0, 8, n))


def _timed(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _timed_cpu(call: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``call`` (CPU: this process only, so waiting for a busy core is not
    counted; statsmodels runs single-threaded here, see the BLAS settings above)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def speed() -> dict[str, Any]:
    y = _series(TWO_WEEKS + 2000, 0)
    settings = ForecastSettings(STEP, target_horizon=2)
    selections = []
    selections_cpu = []
    chosen_names = []
    for seed in range(3):
        seconds, cpu, selected = _timed_cpu(lambda seed=seed: fit_forecaster(_series(TWO_WEEKS, seed), settings))
        selections.append(seconds)
        selections_cpu.append(cpu)
        chosen_names.append(selected.chosen)
    # The scheduled refit of each model as the chosen one: a day later, same series, selection not due.
    refits: dict[str, list[float]] = {}
    for name in CANDIDATES:
        # A combination needs its members among the candidates; it is then made the chosen model.
        single = ForecastSettings(STEP, target_horizon=2, candidates=CANDIDATES if name == COMBINATION else (name,))
        for seed in range(3):
            series = _series(TWO_WEEKS + 288, seed)
            chosen = fit_forecaster(series[:TWO_WEEKS], single)
            if name == COMBINATION:
                chosen = replace(chosen, chosen=COMBINATION, relative_error=math.nan)
            seconds, refit = _timed(lambda series=series, chosen=chosen: refit_forecaster(chosen, series[288:]))
            assert refit.refits_since_selection == 1, "the benchmark must time a refit, not a selection"
            assert refit.chosen == name, f"the benchmark must time {name}'s refit, not {refit.chosen}'s"
            refits.setdefault(name, []).append(seconds)
    chosen_name = max(set(chosen_names), key=chosen_names.count)
    f = fit_forecaster(y[:TWO_WEEKS], settings)
    ticks = y[TWO_WEEKS:]
    update, update_cpu = _updates(f, ticks)
    off = fit_forecaster(y[:TWO_WEEKS], ForecastSettings(STEP, target_horizon=2, online=OnlineSettings(window=0)))
    update_off, update_off_cpu = _updates(off, ticks)
    # The short-horizon case: one-minute steps, a two-minute lead (online calibration of horizons 1-3).
    minute = ForecastSettings(60.0, target_horizon=3)
    short = fit_forecaster(y[:TWO_WEEKS], minute)
    update_minute, update_minute_cpu = _updates(short, ticks)
    params = ScalingParams(capacity=20.0)
    start = time.perf_counter()
    g, current = f, 12
    for v in ticks:
        g = g.update(float(v))
        q = g.forecast((1, 2), (0.5, 0.9))
        current = decide(q, Observed(current, current, float(v), STEP), params).replicas
    tick = (time.perf_counter() - start) / ticks.size
    refit_median = {name: float(np.median(runs)) for name, runs in refits.items()}
    selection = float(np.median(selections))
    every = settings.reselect_every
    amortized = ((every - 1) * refit_median[chosen_name] + selection) / every
    return {
        "model_chosen": chosen_name,
        "full_selection_seconds_two_weeks_5min": {"median": selection, "runs": selections},
        "full_selection_cpu_seconds_two_weeks_5min": {
            "median": float(np.median(selections_cpu)),
            "runs": selections_cpu,
        },
        "scheduled_refit_seconds_two_weeks_5min": {
            name: {"median": refit_median[name], "runs": runs} for name, runs in refits.items()
        },
        "scheduled_refit_seconds_chosen_model": refit_median[chosen_name],
        "reselect_every_refits": every,
        "refit_seconds_amortized_with_selection": amortized,
        "incremental_update_ms_per_series_tick": update * 1e3,
        "incremental_update_cpu_ms_per_series_tick": update_cpu * 1e3,
        "incremental_update_online_off_ms_per_series_tick": {"wall": update_off * 1e3, "cpu": update_off_cpu * 1e3},
        "incremental_update_1min_steps_lead_2m_ms_per_series_tick": {
            "model": short.chosen,
            "wall": update_minute * 1e3,
            "cpu": update_minute_cpu * 1e3,
        },
        "update_forecast_decide_ms_per_series_tick": tick * 1e3,
        "series_refreshed_per_minute_per_core": 60.0 / tick,
        "series_refreshed_per_minute_per_core_counting_refits_every_6h": 60.0 / (tick + amortized / (6 * 3600 / STEP)),
    }


def _updates(f: Forecaster, ticks: np.ndarray) -> tuple[float, float]:
    """Wall and CPU seconds per ``Forecaster.update`` over ``ticks``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for v in ticks:
        f = f.update(float(v))
    return (time.perf_counter() - wall) / ticks.size, (time.process_time() - cpu) / ticks.size


def _walk(y: np.ndarray, feed: np.ndarray | None, split: int, horizon: int) -> float:
    settings = ForecastSettings(STEP, target_horizon=horizon, candidates=("sarimax",))
    f = fit_forecaster(y[:split], settings, None if feed is None else feed[:split])
    errors = []
    for t in range(split, y.size - horizon):
        future = None if feed is None else feed[t : t + horizon].reshape(horizon, -1)
        point = f.forecast((horizon,), (0.5,), future).mean[0]
        errors.append(abs(y[t + horizon - 1] - point))
        f = f.update(float(y[t]), None if feed is None else feed[t])
    return float(np.mean(errors))


def feeds() -> dict[str, Any]:
    """Demand with promotions known ahead (a marketing calendar) vs a feed of pure noise."""
    rows = []
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        n = TWO_WEEKS + 864
        promo = np.zeros(n)
        for start in rng.choice(n - 36, size=40, replace=False):
            promo[start : start + rng.integers(6, 36)] = 1.0
        y = _series(n, seed) + 60 * promo
        noise = rng.normal(0, 1, n)
        row = {}
        for horizon in (1, 12):
            row[f"h{horizon}"] = {
                "no_feed_mae": _walk(y, None, TWO_WEEKS, horizon),
                "signal_feed_mae": _walk(y, promo, TWO_WEEKS, horizon),
                "noise_feed_mae": _walk(y, noise, TWO_WEEKS, horizon),
            }
        rows.append(row)
    return {
        "description": "sarimax with a promotion calendar feed (+60 during promotions) vs a N(0,1) noise feed",
        "runs": rows,
    }


def main(argv: list[str]) -> int:
    """``--speed-only`` re-measures speed and keeps the stored feed results."""
    previous = RESULTS / "forecast.json"
    if "--speed-only" in argv and previous.exists():
        stored = json.loads(previous.read_text())
        payload = {"machine": machine(), "speed": speed(), "feeds": stored["feeds"]}
        payload["feeds_measured_on"] = stored.get("feeds_measured_on", stored["machine"])
    else:
        payload = {"machine": machine(), "speed": speed(), "feeds": feeds()}
    print(write("forecast.json", payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
