"""Policy outcomes and forecast accuracy on the shared traces (``bench/results/backtest.json``).

Capacity per trace: the 99.5th percentile of demand needs 15 replicas at the target utilization.
Everything else is the ``augur backtest`` default (lead time 2 min, warm-up per ``facts.md`` §2, the
default walk settings and cost weights): one configuration for every trace.
Traces with more than ``SUBSET_STEPS`` steps would use their last ``SUBSET_DAYS`` days (said in the JSON
under ``subset``) to keep the benchmark within about 25 minutes on two busy cores; none of the current
traces needs it (worldcup98, 125,300 steps, runs in full in about two minutes). The results file is
rewritten after every trace, so a run that is cut off keeps what finished.
Run: ``PYTHONPATH=operator .venv/bin/python bench/backtest_bench.py [TRACE ...]`` (all traces by default).
"""

from __future__ import annotations

import os

# One BLAS thread per process: statsmodels' small linear algebra is up to 10x slower when OpenBLAS
# spreads it over cores that are already busy (measured on this shared machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import TRACES, machine, write

from augur.scaling.learner import interval_cost
from augur.sim.backtest import BacktestResult, run_backtest
from augur.sim.protocol import backtest_setup, policy_spec, ready_series
from augur.sim.trace import load_trace

PEAK_REPLICAS = 15
UTILIZATION = 0.8
SUBSET_DAYS = 28
SUBSET_STEPS = 200_000
"""Traces with more steps than this are cut to their last ``SUBSET_DAYS`` days."""


def learner_vs_fixed(result: BacktestResult) -> dict[str, Any]:
    """Counterfactual cost of the learner's choices against every fixed quantile (same forecasts, same
    accounting as the learner: an expert never provisions below the guard floor of its decision)."""
    run = result.forecasts.get("augur")
    if run is None or run.level_forecasts is None or not run.learner_levels or run.level_floors is None:
        return {}
    s = result.setup
    weights, budget = s.params.cost_weights, s.params.headroom_budget
    demand = result.trace.demand
    mask = np.isfinite(demand) & np.all(np.isfinite(run.level_forecasts), axis=1)
    mask[: result.warmup_steps] = False
    levels = run.learner_levels
    fixed = dict.fromkeys(levels, 0.0)
    spend = dict.fromkeys(levels, 0.0)
    learned = learned_spend = reactive_spend = 0.0
    hours = s.interval_seconds / 3600.0
    for step in np.flatnonzero(mask):
        row = run.level_forecasts[step]
        floor = int(run.level_floors[step])
        costs, replicas = {}, {}
        for q, value in zip(levels, row, strict=True):
            replicas[q] = s.params.clamp(max(floor, s.need(max(float(value), 0.0))))
            costs[q] = interval_cost(replicas[q], float(demand[step]), s.params.capacity, s.interval_seconds, weights)
            fixed[q] += costs[q]
            spend[q] += replicas[q] * hours
        chosen = float(run.quantiles[step - s.lead_steps]) if step >= s.lead_steps else math.nan
        pick = chosen if chosen in costs else min(levels, key=lambda q: abs(q - s.params.safety_quantile))
        learned += costs[pick]
        learned_spend += replicas[pick] * hours
        reactive = run.level_reactive[step] if run.level_reactive is not None else math.nan
        reactive_spend += (floor if math.isnan(reactive) else reactive) * hours
    best = min(fixed, key=lambda q: fixed[q])
    bound = None if budget is None else (1 + budget) * reactive_spend
    within = [q for q in levels if bound is None or spend[q] <= bound]
    best_within = min(within, key=lambda q: fixed[q]) if within else None
    return {
        "cost_weights": {
            "replica_hour": weights.replica_hour,
            "under_provisioned_minute": weights.under_provisioned_minute,
        },
        "budget_over_reactive": budget,
        "learner_cost": learned,
        "learner_replica_hours": learned_spend,
        "reactive_replica_hours": reactive_spend,
        "fixed_costs": {str(q): c for q, c in fixed.items()},
        "fixed_replica_hours": {str(q): c for q, c in spend.items()},
        "best_fixed_quantile": best,
        "best_fixed_cost": fixed[best],
        "learner_over_best_fixed": learned / fixed[best] if fixed[best] else None,
        "best_fixed_quantile_within_budget": best_within,
        "learner_over_best_fixed_within_budget": (
            learned / fixed[best_within] if best_within is not None and fixed[best_within] else None
        ),
    }


def bench_trace(path: Path) -> dict[str, Any]:
    trace = load_trace(path)
    subset = None
    if trace.steps > SUBSET_STEPS:
        full = trace.steps
        trace = trace.tail(SUBSET_DAYS * 86400)
        subset = (
            f"last {SUBSET_DAYS} days only ({trace.steps} of {full} steps), to keep the benchmark under "
            "~25 minutes on two shared cores; warm-up and capacity are computed on this subset"
        )
    load_before = list(os.getloadavg())
    finite = trace.demand[np.isfinite(trace.demand)]
    capacity = float(np.quantile(finite, 0.995)) / (UTILIZATION * PEAK_REPLICAS)
    setup = backtest_setup(trace.interval_seconds, capacity, policy_spec(UTILIZATION))
    start = time.perf_counter()
    result = run_backtest(trace, setup)
    elapsed = time.perf_counter() - start
    out = result.as_json()
    hpa, augur = out["policies"]["hpa"], out["policies"]["augur"]
    ratio_up = (
        augur["under_provisioned_fraction"] / hpa["under_provisioned_fraction"]
        if hpa["under_provisioned_fraction"]
        else None
    )
    ratio_rh = augur["replica_hours"] / hpa["replica_hours"]
    out.update(
        {
            "path": str(path.relative_to(path.parents[2])) if len(path.parents) > 2 else str(path),
            "capacity_rule": f"p99.5 of demand needs {PEAK_REPLICAS} replicas at u={UTILIZATION}",
            "warmup_steps": result.warmup_steps,
            "season_steps": result.season_steps,
            "models_chosen": list(result.forecasts["augur"].models) if "augur" in result.forecasts else [],
            "augur_vs_hpa": {
                "under_provisioned_ratio": ratio_up,
                "replica_hours_ratio": ratio_rh,
                "target_met": (ratio_up is None or ratio_up <= 0.5) and ratio_rh <= 1.05,
            },
            "learner_vs_best_fixed_quantile": learner_vs_fixed(result),
            "seconds": round(elapsed, 1),
            "load_average_before_after": [load_before, list(os.getloadavg())],
            "subset": subset,
        }
    )
    ready = ready_series(result.desired["augur"], setup.lead_steps) if "augur" in result.desired else None
    out["augur_peak_ready"] = int(ready.max()) if ready is not None else None
    return out


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(TRACES, key=lambda p: p.stat().st_size if p.exists() else 0)
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"skipping missing traces: {', '.join(map(str, missing))}", file=sys.stderr)
    name = "backtest.json" if not argv else f"backtest_{'_'.join(p.stem for p in paths)}.json"
    payload: dict[str, Any] = {"machine": machine(), "complete": False, "traces": {}}
    started = time.perf_counter()
    for path in paths:
        if path.exists():
            print(f"backtesting {path.name}", file=sys.stderr, flush=True)
            payload["traces"][path.name] = bench_trace(path)
            payload["seconds_so_far"] = round(time.perf_counter() - started, 1)
            write(name, payload)
            print(json.dumps(payload["traces"][path.name]["augur_vs_hpa"]), file=sys.stderr, flush=True)
    payload["complete"] = True
    payload["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(write(name, payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
