"""Augur's forecaster against Nixtla statsforecast, side by side (``bench/results/sf_<split>.json``).

For each series of one split (``bench/datasets.py``; a deterministic sample, see ``datasets.sample``):

- **Augur's budget**: ``augur backtest``'s walk (``run_backtest``) for ``augur`` and the statsforecast
  policies ``sf_autoets``, ``sf_autoarima``, ``sf_mstl``: the same refit schedule (when the history
  doubles early on, then daily, at least 288 steps apart), causal incremental updates in between, the
  same decision rule. rMAE at the lead-time horizon against seasonal naive, over all evaluated steps.
- **Unlimited** (the accuracy ceiling): at ``--origins`` evenly spaced evaluated steps, every model is
  refitted on the 4032 points before the origin (``augur.sim.ceiling``); statsforecast's own point
  forecast, Augur's full selection's median. rMAE over those steps, and the budget walks' rMAE over the
  same steps for the comparison. Fit time per series = wall time of one such fit.
- **Speed**: incremental update (``Forecaster.update``) per model, on two weeks at five minutes.

Series longer than ``--max-steps`` use their last ``--max-steps`` steps (said in the JSON). Capacity (it
only matters for the decisions, not for rMAE): the 99.5th percentile needs 15 replicas at u = 0.8.
Run: ``PYTHONPATH=operator .venv/bin/python bench/sf_bench.py --split development`` (then validation).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets
from common import RESULTS, machine, write

from augur.forecast.forecaster import ForecastSettings, fit_forecaster
from augur.forecast.sf_models import SF_CANDIDATES
from augur.sim.backtest import run_backtest, seasonal_naive_reference
from augur.sim.ceiling import refit_at_origins, sample_origins
from augur.sim.protocol import backtest_setup
from augur.sim.trace import load_trace

POLICIES = ("augur", *SF_CANDIDATES)
PEAK_REPLICAS = 15
UTILIZATION = 0.8


def _rmae(demand: np.ndarray, point: np.ndarray, reference: np.ndarray, steps: np.ndarray) -> float:
    ok = steps[np.isfinite(demand[steps]) & np.isfinite(point[steps]) & np.isfinite(reference[steps])]
    base = float(np.mean(np.abs(demand[ok] - reference[ok]))) if ok.size else math.nan
    mae = float(np.mean(np.abs(demand[ok] - point[ok]))) if ok.size else math.nan
    return mae / base if base > 0 else math.nan


def bench_trace(path: Path, origins: int, max_steps: int, budget_s: float) -> dict[str, Any]:
    trace = load_trace(path)
    full = trace.steps
    if trace.steps > max_steps:
        trace = trace.tail(max_steps * trace.interval_seconds)
    finite = trace.demand[np.isfinite(trace.demand)]
    capacity = float(np.quantile(finite, 0.995)) / (UTILIZATION * PEAK_REPLICAS)
    setup = backtest_setup(trace.interval_seconds, capacity)
    load_before = list(os.getloadavg())
    budget: dict[str, Any] = {}
    points: dict[str, np.ndarray] = {}
    result = None
    for name in POLICIES:
        start = time.perf_counter()
        result = run_backtest(trace, setup, (name,))
        run = result.forecasts[name]
        points[name] = run.point
        budget[name] = {
            "rmae": result.accuracy[name].rmae,
            "mae": result.accuracy[name].mae,
            "walk_seconds": round(time.perf_counter() - start, 2),
            "fits": len(run.models),
            "models": sorted(set(run.models)),
        }
        print(f"  {path.name} {name}: {budget[name]}", file=sys.stderr, flush=True)
    assert result is not None
    horizon = result.forecasts[POLICIES[-1]].horizon
    season = result.season_steps or max(1, round(86400 / trace.interval_seconds))
    reference = seasonal_naive_reference(trace.demand, season, horizon)
    evaluated = np.flatnonzero(np.isfinite(trace.demand))
    evaluated = evaluated[evaluated >= result.warmup_steps]
    chosen = sample_origins(int(evaluated[0]) + 1, trace.steps - horizon, origins)
    ceiling: dict[str, Any] = {}
    for name in POLICIES:
        run = refit_at_origins(
            name,
            trace.demand,
            trace.interval_seconds,
            chosen,
            horizon,
            target_horizon=horizon + 1,
            max_seconds=budget_s,
        )
        done = np.asarray([o - 1 + horizon for o in run.origins], dtype=np.int64)
        ceiling[name] = {
            "origins_done": len(run.origins),
            "rmae": _rmae(trace.demand, run.point, reference, done),
            "budget_rmae_same_steps": _rmae(trace.demand, points[name], reference, done),
            "augur_budget_rmae_same_steps": _rmae(trace.demand, points["augur"], reference, done),
            "fit_seconds_median": float(np.median(run.fit_seconds)) if run.fit_seconds else None,
            "fit_seconds_max": max(run.fit_seconds) if run.fit_seconds else None,
        }
        print(f"  {path.name} {name} ceiling: {ceiling[name]}", file=sys.stderr, flush=True)
    out: dict[str, Any] = {
        "path": f"{path.parent.name}/{path.name}",
        "split": datasets.split_of(path),
        "kind": datasets.kind_of(path),
        "interval_seconds": trace.interval_seconds,
        "steps": trace.steps,
        "subset": None if full == trace.steps else f"last {trace.steps} of {full} steps",
        "season_steps": result.season_steps,
        "warmup_steps": result.warmup_steps,
        "evaluated_steps": result.evaluated_steps,
        "horizon_steps": horizon,
        "augur_budget": budget,
        "unlimited": {"origins": len(chosen), "models": ceiling},
        "load_average_before_after": [load_before, list(os.getloadavg())],
    }
    out["targets"] = targets(out)
    return out


def targets(trace: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets for one series: Augur's walk against the best statsforecast walk (same budget),
    and against the best unlimited refit among the models whose every origin was refitted (so that all
    are scored on the same steps; a model cut short by the time limit is left out and named)."""
    budget, unlimited = trace["augur_budget"], trace["unlimited"]
    finite = {n: budget[n]["rmae"] for n in SF_CANDIDATES if math.isfinite(budget[n]["rmae"])}
    best_sf = min(finite, key=lambda n: finite[n]) if finite else None
    complete = {
        n: m for n, m in unlimited["models"].items()
        if m.get("origins_done", unlimited["origins"]) == unlimited["origins"] and math.isfinite(m["rmae"])
    }  # fmt: skip
    best = min(complete, key=lambda n: complete[n]["rmae"]) if complete else None
    augur_same = complete["augur"]["budget_rmae_same_steps"] if "augur" in complete else None
    return {
        "best_statsforecast_under_budget": best_sf,
        "augur_le_best_statsforecast_under_budget": None
        if best_sf is None
        else budget["augur"]["rmae"] <= finite[best_sf],
        "best_unlimited_all_origins": best,
        "unlimited_cut_short": sorted(set(unlimited["models"]) - set(complete)),
        "augur_budget_over_best_unlimited_same_steps": (
            augur_same / complete[best]["rmae"] if best and augur_same is not None and complete[best]["rmae"] else None
        ),
    }


def _two_weeks(n: int, seed: int) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    daily = 40 * np.sin(2 * np.pi * t / 288) + 15 * np.sin(4 * np.pi * t / 288)
    return np.maximum(0.0, 200 + daily + rng.normal(0, 8, n))


def speed() -> dict[str, Any]:
    """Incremental update per model (ms per series per tick) on two weeks at five minutes, and the fit."""
    y = _two_weeks(4032 + 1000, 0)
    out: dict[str, Any] = {}
    for name in ("holt_winters", "mstl", "sarimax", *SF_CANDIDATES):
        start = time.perf_counter()
        f = fit_forecaster(y[:4032], ForecastSettings(300.0, target_horizon=2, candidates=(name,)))
        fit = time.perf_counter() - start
        start = time.perf_counter()
        for v in y[4032:]:
            f = f.update(float(v))
        out[name] = {
            "update_ms_per_series": (time.perf_counter() - start) / 1000 * 1e3,
            "fit_and_rolling_origin_seconds": round(fit, 3),
        }
    return out


def import_cost() -> dict[str, Any]:
    """statsforecast's import time and resident memory in a fresh interpreter that has already imported
    what the operator imports for forecasting (numpy, scipy, statsmodels); statsforecast 2.x has no numba."""
    code = (
        "import time, numpy, scipy, statsmodels.api\n"
        "def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20\n"
        "r0 = rss(); t = time.perf_counter()\n"
        "import statsforecast.models\n"
        "print(time.perf_counter() - t, rss() - r0)\n"
        "import sys; print('numba' in sys.modules)"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {
        "import_seconds_after_numpy_scipy_statsmodels": float(lines[0]),
        "extra_rss_mib": float(lines[1]),
        "numba_imported": lines[2] == "True",
    }


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def table(split: str) -> str:
    """The markdown table of ``docs/forecasting.md`` from ``bench/results/sf_<split>.json`` (the targets
    are recomputed with :func:`targets` and written back, so the file and the table agree)."""
    path = RESULTS / f"sf_{split}.json"
    payload = json.loads(path.read_text())
    rows = [
        "| series | step | h | rMAE under Augur's budget: augur / sf_autoets / sf_autoarima / sf_mstl "
        "| augur ≤ best sf | unlimited rMAE (origins refitted): augur / sf_autoets / sf_autoarima / sf_mstl "
        "| augur's walk, same steps | ÷ best unlimited "
        "| fit s per series: augur / sf_autoets / sf_autoarima / sf_mstl |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, t in payload["traces"].items():
        t["targets"] = goal = targets(t)
        b, u, n = t["augur_budget"], t["unlimited"]["models"], t["unlimited"]["origins"]
        ceiling = " / ".join(f"{_f(u[p]['rmae'])} ({u[p].get('origins_done', n)})" for p in POLICIES)
        same = u["augur"]["budget_rmae_same_steps"]
        met = goal["augur_le_best_statsforecast_under_budget"]
        rows.append(
            f"| {name} | {t['interval_seconds']:g}s | {t['horizon_steps']} "
            f"| {' / '.join(_f(b[p]['rmae']) for p in POLICIES)} "
            f"| {'yes' if met else 'no'} ({goal['best_statsforecast_under_budget']}) | {ceiling} | {_f(same)} "
            f"| {_f(goal['augur_budget_over_best_unlimited_same_steps'], 2)} ({goal['best_unlimited_all_origins']}) "
            f"| {' / '.join(_f(u[p]['fit_seconds_median'], 1) for p in POLICIES)} |"
        )
    for name, t in payload.get("partial", {}).items():
        b = t["augur_budget"]
        rmae = " / ".join(_f(b[p]["rmae"]) if p in b else "not run" for p in POLICIES)
        rows.append(f"| {name} (partial) | | | {rmae} | | not run | | | |")
    write(path.name, payload)
    return "\n".join(rows)


def _cost(path: Path) -> tuple[bool, int]:
    with path.open() as handle:
        rows = [next(handle, ""), next(handle, ""), next(handle, "")][1:]
    times = [r.split(",")[0] for r in rows]
    hourly = len(times) == 2 and times[0][11:13] != times[1][11:13] and times[0][14:16] == times[1][14:16]
    return hourly, path.stat().st_size


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        print(table(argv[1]))
        return 0
    if argv[:1] == ["--import-cost"]:
        path = RESULTS / "sf_development.json"
        payload = json.loads(path.read_text())
        payload["statsforecast_import"] = import_cost()
        print(write(path.name, payload))
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=(datasets.DEVELOPMENT, datasets.VALIDATION), required=True)
    parser.add_argument("--origins", type=int, default=10)
    parser.add_argument("--max-steps", type=int, default=6048)
    parser.add_argument(
        "--ceiling-seconds", type=float, default=150.0, help="time per model and series for the refit ceiling"
    )
    parser.add_argument("--resume", action="store_true", help="keep series already in the results file")
    parser.add_argument("--speed", action="store_true", help="also measure update speed and import cost")
    parser.add_argument("traces", nargs="*", type=Path)
    args = parser.parse_args(argv)
    # Cheapest first (hourly series last: statsforecast's seasonal AutoARIMA takes minutes per fit there);
    # the results file is rewritten after every series, so a run cut short keeps what finished.
    paths = args.traces or sorted(datasets.sample(args.split), key=_cost)
    name = f"sf_{args.split}.json"
    payload: dict[str, Any] = {
        "machine": machine(),
        "split_rule": datasets.__doc__,
        "settings": {"origins": args.origins, "max_steps": args.max_steps, "policies": list(POLICIES)},
        "complete": False,
        "traces": {},
    }
    previous = RESULTS / name
    if args.resume and previous.exists():
        stored = json.loads(previous.read_text())
        payload["traces"] = stored["traces"]
        payload.update({k: stored[k] for k in ("speed", "statsforecast_import") if k in stored})
    if args.speed:
        payload["speed"] = speed()
        payload["statsforecast_import"] = import_cost()
        write(name, payload)
    started = time.perf_counter()
    for path in paths:
        if datasets.split_of(path) != args.split:
            print(f"{path.name} is in the other split; skipped", file=sys.stderr)
            continue
        if path.name in payload["traces"]:
            continue
        print(f"{args.split}: {path.name}", file=sys.stderr, flush=True)
        payload["traces"][path.name] = bench_trace(path.resolve(), args.origins, args.max_steps, args.ceiling_seconds)
        payload["seconds_so_far"] = round(time.perf_counter() - started, 1)
        write(name, payload)
    payload["complete"] = True
    payload["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(write(name, payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
