"""Forecasting speed, external feeds and refit cost (``bench/results/forecast.json``).

- speed: incremental update, update + quantile forecast + decision per series per tick, full refit
  (fingerprint + rolling-origin selection over four models) of two weeks at five-minute steps;
- feeds: a feed carrying signal must improve the forecast, a noise feed must not hurt.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write

from augur.forecast.forecaster import ForecastSettings, fit_forecaster
from augur.forecast.models import fit_holt_winters
from augur.scaling.decision import Observed, ScalingParams, decide

STEP = 300.0
TWO_WEEKS = 4032


def _series(n: int, seed: int) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    daily = 40 * np.sin(2 * np.pi * t / 288) + 15 * np.sin(4 * np.pi * t / 288)
    weekly = 10 * np.sin(2 * np.pi * t / 2016)
    return np.maximum(0.0, 200 + daily + weekly + rng.normal(0, 8, n))


def speed() -> dict[str, Any]:
    y = _series(TWO_WEEKS + 2000, 0)
    settings = ForecastSettings(STEP, target_horizon=2)
    fits = []
    for seed in range(3):
        start = time.perf_counter()
        f = fit_forecaster(_series(TWO_WEEKS, seed), settings)
        fits.append(time.perf_counter() - start)
    hw = []
    for seed in range(3):
        start = time.perf_counter()
        fit_holt_winters(_series(TWO_WEEKS, seed), 288)
        hw.append(time.perf_counter() - start)
    f = fit_forecaster(y[:TWO_WEEKS], settings)
    ticks = y[TWO_WEEKS:]
    start = time.perf_counter()
    g = f
    for v in ticks:
        g = g.update(float(v))
    update = (time.perf_counter() - start) / ticks.size
    params = ScalingParams(capacity=20.0)
    start = time.perf_counter()
    g, current = f, 12
    for v in ticks:
        g = g.update(float(v))
        q = g.forecast((1, 2), (0.5, 0.9))
        current = decide(q, Observed(current, current, float(v), STEP), params).replicas
    tick = (time.perf_counter() - start) / ticks.size
    return {
        "model_chosen": f.model_name,
        "full_refit_seconds_two_weeks_5min": {"median": float(np.median(fits)), "runs": fits},
        "holt_winters_refit_seconds": {"median": float(np.median(hw)), "runs": hw},
        "incremental_update_ms_per_series_tick": update * 1e3,
        "update_forecast_decide_ms_per_series_tick": tick * 1e3,
        "series_refreshed_per_minute_per_core": 60.0 / tick,
        "series_refreshed_per_minute_per_core_counting_refits_every_6h": 60.0
        / (tick + float(np.median(fits)) / (6 * 3600 / STEP)),
    }


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


def main() -> int:
    payload = {"machine": machine(), "speed": speed(), "feeds": feeds()}
    print(write("forecast.json", payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
