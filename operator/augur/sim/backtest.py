"""The walk-forward backtester of ``facts.md`` §2: every policy over one trace, metrics and accuracy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augur.forecast.fingerprint import DAY, detect_periods
from augur.forecast.series import FloatArray
from augur.forecast.sf_models import SF_CANDIDATES
from augur.sim.policies import FORECASTERS, ForecastRun, WalkSettings, run_forecast_policy
from augur.sim.progress import Progress
from augur.sim.protocol import (
    PolicyMetrics,
    Setup,
    compute_metrics,
    default_warmup_steps,
    evaluated_mask,
    run_hpa,
    run_oracle,
)
from augur.sim.trace import Trace, TraceError

POLICIES = ("augur", "hpa", "oracle", "seasonal_naive", "holt_winters")
"""Policies run by default."""
AVAILABLE = (*POLICIES, *SF_CANDIDATES)
"""Every policy ``run_backtest`` accepts (the statsforecast ones need ``augur[statsforecast]``)."""


@dataclass(frozen=True)
class Accuracy:
    mae: float
    rmae: float


@dataclass(frozen=True)
class BacktestResult:
    """Everything a report needs."""

    trace: Trace
    setup: Setup
    warmup_steps: int
    evaluated_steps: int
    season_steps: int | None
    desired: dict[str, list[int]]
    metrics: dict[str, PolicyMetrics]
    accuracy: dict[str, Accuracy]
    forecasts: dict[str, ForecastRun] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The ``augur backtest --json`` object."""
        return {
            "trace": self.trace.name,
            "interval_seconds": self.trace.interval_seconds,
            "evaluated_steps": self.evaluated_steps,
            "capacity": self.setup.params.capacity,
            "target_utilization": self.setup.params.target_utilization,
            "lead_time_seconds": self.setup.params.lead_time_seconds,
            "policies": {name: m.as_dict() for name, m in self.metrics.items()},
            "forecast": {name: {"mae": a.mae, "rmae": a.rmae} for name, a in self.accuracy.items()},
        }


def detected_season(trace: Trace) -> int | None:
    """The strongest seasonal period of the trace, in steps (the warm-up and rMAE reference)."""
    periods = detect_periods(trace.demand, trace.interval_seconds)
    if not periods:
        return None
    return max(periods, key=lambda p: (round(p.strength, 1), p.seconds)).steps


def seasonal_naive_reference(demand: FloatArray, season: int, horizon: int) -> FloatArray:
    """``y_hat(s) = y(s - m*ceil(h/m))``: the forecast seasonal naive makes ``horizon`` steps ahead."""
    back = season * math.ceil(horizon / season)
    reference = np.full(demand.size, np.nan)
    reference[back:] = demand[:-back] if back else demand
    return reference


def forecast_accuracy(
    demand: FloatArray, mask: np.ndarray[Any, np.dtype[np.bool_]], runs: dict[str, ForecastRun], season: int
) -> dict[str, Accuracy]:
    """MAE at the lead-time horizon per forecaster and its ratio to seasonal naive (same steps)."""
    if not runs:
        return {}
    horizon = next(iter(runs.values())).horizon
    reference = seasonal_naive_reference(demand, season, horizon)
    common = mask & np.isfinite(reference)
    for run in runs.values():
        common &= np.isfinite(run.point)
    if not common.any():
        return {name: Accuracy(math.nan, math.nan) for name in runs}
    base = float(np.mean(np.abs(demand[common] - reference[common])))
    result = {}
    for name, run in runs.items():
        mae = float(np.mean(np.abs(demand[common] - run.point[common])))
        result[name] = Accuracy(mae, mae / base if base > 0 else math.nan)
    return result


def run_backtest(
    trace: Trace,
    setup: Setup,
    policies: tuple[str, ...] = POLICIES,
    warmup_steps: int | None = None,
    walk: WalkSettings | None = None,
    progress_stream: Any = None,
) -> BacktestResult:
    """Run ``policies`` over ``trace``; ``warmup_steps`` ``None`` means the §2 default."""
    unknown = [p for p in policies if p not in AVAILABLE]
    if unknown:
        raise TraceError(f"unknown policy {unknown[0]!r} (choose from {', '.join(AVAILABLE)})")
    season = detected_season(trace)
    warmup = default_warmup_steps(trace.steps, season) if warmup_steps is None else warmup_steps
    mask = evaluated_mask(trace.demand, warmup)
    evaluated = int(mask.sum())
    if evaluated == 0:
        raise TraceError(f"{trace.name}: too few points: no step with demand after a warm-up of {warmup} steps")
    walkers = [p for p in policies if p in FORECASTERS]
    progress = Progress("backtest", trace.steps * max(1, len(walkers)), progress_stream)
    desired: dict[str, list[int]] = {}
    runs: dict[str, ForecastRun] = {}
    for name in policies:
        if name == "hpa":
            desired[name] = run_hpa(trace.demand, setup)
        elif name == "oracle":
            desired[name] = run_oracle(trace.demand, setup)
        else:
            offset = walkers.index(name) * trace.steps
            runs[name] = run_forecast_policy(
                name, trace.demand, setup, walk or WalkSettings(), warmup, progress, offset
            )
            desired[name] = runs[name].desired
    progress.close()
    metrics = {name: compute_metrics(trace.demand, d, setup, mask) for name, d in desired.items()}
    reference_season = season or max(1, round(DAY / trace.interval_seconds))
    accuracy = forecast_accuracy(trace.demand, mask, runs, reference_season)
    return BacktestResult(trace, setup, warmup, evaluated, season, desired, metrics, accuracy, runs)
