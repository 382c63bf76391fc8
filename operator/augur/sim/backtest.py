"""The walk-forward backtester of ``facts.md`` §2: every policy over one trace, metrics and accuracy."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from augur.constants import FloatArray
from augur.forecast.fingerprint import DAY, detect_periods
from augur.sim.bootstrap import RESAMPLES, SEED, Interval, block_length, ratio_interval, resample_starts
from augur.sim.policies import FORECASTERS, SF_POLICIES, ForecastRun, WalkSettings, run_forecast_variants
from augur.sim.progress import Progress
from augur.sim.protocol import (
    PolicyMetrics,
    Setup,
    compute_metrics,
    default_warmup_steps,
    evaluated_mask,
    ready_series,
    run_hpa,
    run_oracle,
)
from augur.sim.trace import Trace, TraceError
from augur.sim.yardsticks import Matched, mix, run_hpa_matched, run_oracle_floor

YARDSTICKS: dict[str, Callable[[FloatArray, Setup], list[int]]] = {
    "hpa": run_hpa,
    "oracle": run_oracle,
    "oracle_floor": run_oracle_floor,
}
"""Policies that need no forecaster: name -> decisions over the whole trace."""
MATCHED = "hpa_matched"
MATCHED_TO = "augur"
"""``hpa_matched`` spends the replica-hours of this policy."""
CURVE_BUDGETS = (0.0, 0.025, 0.05, 0.1, 0.25, 1.0)
"""``headroomBudget`` values of Augur's cost curve (with the learner on)."""
CURVE_QUANTILES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
"""``safetyQuantile`` values of Augur's cost curve when the policy has the learner off."""
CURVE_UTILIZATIONS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
"""Target utilizations of HPA's cost curve."""
POLICIES = (
    "augur",
    "hpa",
    MATCHED,
    "oracle",
    "oracle_floor",
    "seasonal_naive",
    "holt_winters",
)
"""Policies run by default."""
AVAILABLE = (*POLICIES, *SF_POLICIES)
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
    matched: Matched | None = None
    comparisons: dict[str, dict[str, Interval]] = field(default_factory=dict)
    """``"augur/hpa"`` -> ``{"under_provisioned": ..., "replica_hours": ...}``: ratios with intervals."""
    block_steps: int = 0
    curve: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    """Cost against under-provisioning: Augur's budget (or quantile) sweep and HPA's target sweep."""

    def as_json(self) -> dict[str, Any]:
        """The ``augur backtest --json`` object."""
        m = self.matched
        return {
            "trace": self.trace.name,
            "interval_seconds": self.trace.interval_seconds,
            "evaluated_steps": self.evaluated_steps,
            "capacity": self.setup.params.capacity,
            "target_utilization": self.setup.params.target_utilization,
            "lead_time_seconds": self.setup.params.lead_time_seconds,
            "policies": {name: m.as_dict() for name, m in self.metrics.items()},
            "refit_interval": self.setup.spec.refit_interval,
            "history": self.setup.spec.history,
            "forecast": {
                name: {"mae": a.mae, "rmae": a.rmae, "fits": _fits(self.forecasts.get(name))}
                for name, a in self.accuracy.items()
            },
            "hpa_matched": None
            if m is None
            else {
                "matched_to": MATCHED_TO,
                "target_utilization": m.target_utilization,
                "replica_hours": m.replica_hours,
                "goal_replica_hours": m.goal_replica_hours,
                "reached": m.reached,
                "hpa_runs": m.evaluations,
                "under_provisioned_steps": m.under_provisioned_steps,
                "under_provisioned_steps_at_goal": m.under_provisioned_steps_at_goal,
                "at_goal": None
                if m.at_goal is None
                else {"more": asdict(m.at_goal.more), "less": asdict(m.at_goal.less), "share_of_less": m.at_goal.share},
            },
            "comparisons": {
                pair: {metric: interval.as_dict() for metric, interval in ratios.items()}
                for pair, ratios in self.comparisons.items()
            },
            "curve": self.curve,
            "bootstrap": {
                "method": "circular block bootstrap over the evaluated steps, paired, ratio of sums",
                "block_steps": self.block_steps,
                "resamples": RESAMPLES,
                "seed": SEED,
                "level": 0.9,
            },
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


def compare(
    demand: FloatArray,
    desired: dict[str, list[int]],
    setup: Setup,
    mask: np.ndarray[Any, np.dtype[np.bool_]],
    base: str = MATCHED_TO,
    mixes: dict[str, tuple[list[int], list[int], float]] | None = None,
) -> tuple[dict[str, dict[str, Interval]], int]:
    """Ratios of ``base``'s under-provisioned steps and replica-hours to every other policy's, with
    block-bootstrap intervals (:mod:`augur.sim.bootstrap`), and the block length used. ``mixes``: a
    policy compared as a mix of two runs step by step instead of its own (their decisions and the second
    one's weight): ``hpa_matched`` at exactly the base's replica-hours (:attr:`Matched.at_goal`)."""
    steps = int(mask.sum())
    block = block_length(steps, setup.lead_steps)
    if base not in desired or steps == 0:
        return {}, block
    starts = resample_starts(steps, block)
    d = demand[mask]
    short, ready = {}, {}

    def series(wanted: list[int]) -> tuple[FloatArray, FloatArray]:
        r = ready_series(wanted, setup.lead_steps)[mask].astype(np.float64)
        return r, (d > r * setup.params.capacity).astype(np.float64)

    mixes = mixes or {}
    for name, wanted in desired.items():
        if name in mixes:
            first, second, weight = mixes[name]
            (r1, s1), (r2, s2) = series(first), series(second)
            ready[name], short[name] = mix(r1, r2, weight), mix(s1, s2, weight)
        else:
            ready[name], short[name] = series(wanted)
    out = {}
    for name in desired:
        if name != base:
            out[f"{base}/{name}"] = {
                "under_provisioned": ratio_interval(short[base], short[name], starts, block),
                "replica_hours": ratio_interval(ready[base], ready[name], starts, block),
            }
    return out, block


def run_backtest(
    trace: Trace,
    setup: Setup,
    policies: tuple[str, ...] = POLICIES,
    warmup_steps: int | None = None,
    walk: WalkSettings | None = None,
    progress_stream: Any = None,
    curve: bool = True,
) -> BacktestResult:
    """Run ``policies`` over ``trace``; ``warmup_steps`` ``None`` means the §2 default. ``curve``: also
    Augur's budget sweep (on the same walk) and HPA's target sweep, when ``augur`` runs."""
    unknown = [p for p in policies if p not in AVAILABLE]
    if unknown:
        raise TraceError(f"unknown policy {unknown[0]!r} (choose from {', '.join(AVAILABLE)})")
    if MATCHED in policies and MATCHED_TO not in policies:
        raise TraceError(f"policy {MATCHED} spends what {MATCHED_TO} spends: run {MATCHED_TO} too")
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
    sweep = _sweep(setup) if curve and MATCHED_TO in policies else []
    swept: list[ForecastRun] = []
    for name in sorted(policies, key=lambda p: p == MATCHED):
        if name in YARDSTICKS:
            desired[name] = YARDSTICKS[name](trace.demand, setup)
        elif name in FORECASTERS:
            offset = walkers.index(name) * trace.steps
            variants = tuple(v.params for _, v in sweep) if name == MATCHED_TO else ()
            main, *others = run_forecast_variants(
                name, trace.demand, setup, walk or WalkSettings(), warmup, progress, offset, variants
            )
            runs[name], desired[name] = main, main.desired
            swept += others
    progress.close()
    matched = None
    if MATCHED in policies:
        goal = compute_metrics(trace.demand, desired[MATCHED_TO], setup, mask).replica_hours
        matched = run_hpa_matched(trace.demand, setup, mask, goal)
        desired[MATCHED] = matched.desired
    desired = {name: desired[name] for name in policies}
    metrics = {name: compute_metrics(trace.demand, d, setup, mask) for name, d in desired.items()}
    reference_season = season or max(1, round(DAY / trace.interval_seconds))
    accuracy = forecast_accuracy(trace.demand, mask, runs, reference_season)
    g = None if matched is None else matched.at_goal
    mixes = {} if g is None else {MATCHED: (list(g.more_desired), list(g.less_desired), g.share)}
    comparisons, block = compare(trace.demand, desired, setup, mask, mixes=mixes)
    curves: dict[str, list[dict[str, float]]] = {}
    if sweep:
        demand = trace.demand
        curves[MATCHED_TO] = [
            _point(demand, run.desired, setup, mask, key, value)
            for ((key, value), _), run in zip(sweep, swept, strict=True)
        ]
        curves["hpa"] = [
            _point(demand, run_hpa(demand, setup.variant(target_utilization=u)), setup, mask, "target_utilization", u)
            for u in CURVE_UTILIZATIONS
        ]
    return BacktestResult(
        trace, setup, warmup, evaluated, season, desired, metrics, accuracy, runs, matched, comparisons, block, curves
    )


def _sweep(setup: Setup) -> list[tuple[tuple[str, float], Setup]]:
    """Augur's variants for the cost curve: the budget sweep (learner on) or the quantile sweep."""
    if setup.params.learn_headroom:
        return [(("headroom_budget", b), setup.variant(headroom_budget=b)) for b in CURVE_BUDGETS]
    return [(("safety_quantile", q), setup.variant(safety_quantile=q)) for q in CURVE_QUANTILES]


def _point(
    demand: FloatArray,
    desired: list[int],
    setup: Setup,
    mask: np.ndarray[Any, np.dtype[np.bool_]],
    key: str,
    value: float,
) -> dict[str, float]:
    m = compute_metrics(demand, desired, setup, mask)
    return {
        key: value,
        "replica_hours": m.replica_hours,
        "under_provisioned_steps": m.under_provisioned_steps,
        "under_provisioned_fraction": m.under_provisioned_fraction,
        "unserved_fraction": m.unserved_fraction,
    }


def _fits(run: ForecastRun | None) -> int | None:
    """How many times the walk fitted (first fit and refits), for the JSON."""
    return None if run is None else len(run.models)
