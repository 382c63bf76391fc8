"""Augur's forecaster against Nixtla statsforecast, side by side (``bench/results/sf_<split>.json``).

For each series of one split (``bench/datasets.py``: every series, or ``--sample``, or paths given) and
each policy (``--policies``; ``augur``, ``augur_sf``, ``sf_autoets``, ``sf_autoarima``, ``sf_mstl``), one
(series, policy) pair at a time, cheapest series first, each added to the results file as it finishes:

- **Augur's budget**: ``augur backtest``'s walk (``run_backtest``): the operator's refit schedule (when the
  history doubles early on, then every ``refitInterval``, 6 h by default) on the policy's ``history`` (14 d),
  causal incremental updates in between, the same decision rule. rMAE at the lead-time horizon against
  seasonal naive, over the evaluated steps.
- **Unlimited** (the accuracy ceiling): at ``--origins`` evenly spaced evaluated steps (default 5) the
  model is refitted on the 4032 points before the origin (``augur.sim.ceiling``); statsforecast's own
  point forecast, Augur's full selection's median. rMAE over those steps, and the walk's rMAE over the
  same steps. Fit time per series = CPU time of one such fit.
- **Speed** (``--speed``): incremental update per model, fit, selection, statsforecast's import.

Series longer than ``--max-steps`` (default 4032) use their last ``--max-steps`` steps (said in the
JSON). Capacity (it only matters for the decisions, not for rMAE): the 99.5th percentile needs 15
replicas at u = 0.8. Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=operator nice -n 19 .venv/bin/python
bench/sf_bench.py --split validation --policies augur,sf_autoets,sf_autoarima,sf_mstl`` (``--shard K/N``
for parallel processes sharing the file), then ``--merge`` (targets, ``sf.json`` with both splits side by
side) and ``--table validation`` (the docs' table).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import fcntl
import json
import math
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets
from common import RESULTS, machine, merge_splits, read, write

from augur.forecast.combination import COMBINATION, Combination
from augur.forecast.forecaster import ForecastSettings, fit_forecaster
from augur.forecast.selection import CANDIDATES
from augur.forecast.sf_models import SF_CANDIDATES, SF_SELECTABLE
from augur.sim.backtest import run_backtest, seasonal_naive_reference
from augur.sim.ceiling import refit_at_origins, sample_origins
from augur.sim.policies import FORECASTERS
from augur.sim.protocol import backtest_setup
from augur.sim.trace import load_trace

SELECTIONS = ("augur", "augur_sf")
"""Augur's rolling-origin selection: its own candidates, and with ``SF_SELECTABLE`` added."""
POLICIES = (*SELECTIONS, *SF_CANDIDATES)
PEAK_REPLICAS = 15
UTILIZATION = 0.8


def _rmae(demand: np.ndarray, point: np.ndarray, reference: np.ndarray, steps: np.ndarray) -> float:
    ok = steps[np.isfinite(demand[steps]) & np.isfinite(point[steps]) & np.isfinite(reference[steps])]
    base = float(np.mean(np.abs(demand[ok] - reference[ok]))) if ok.size else math.nan
    mae = float(np.mean(np.abs(demand[ok] - point[ok]))) if ok.size else math.nan
    return mae / base if base > 0 else math.nan


def _trimmed(path: Path, max_steps: int) -> tuple[Any, int]:
    trace = load_trace(path)
    full = trace.steps
    if trace.steps > max_steps:
        trace = trace.tail(max_steps * trace.interval_seconds)
    return trace, full


def bench_policy(
    path: Path, name: str, origins: int, max_steps: int, budget_s: float, ceiling: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One policy on one series: its walk under Augur's budget and its refits at the sampled origins (with
    ``ceiling``, an earlier run's refits at its origins are kept and only the walk is scored against them)."""
    trace, full = _trimmed(path, max_steps)
    finite = trace.demand[np.isfinite(trace.demand)]
    capacity = float(np.quantile(finite, 0.995)) / (UTILIZATION * PEAK_REPLICAS)
    setup = backtest_setup(trace.interval_seconds, capacity)
    load_before = list(os.getloadavg())
    start, start_cpu = time.perf_counter(), time.process_time()
    result = run_backtest(trace, setup, (name,), curve=False)
    run = result.forecasts[name]
    budget = {
        "rmae": result.accuracy[name].rmae,
        "mae": result.accuracy[name].mae,
        "walk_seconds": round(time.perf_counter() - start, 2),
        "walk_cpu_seconds": round(time.process_time() - start_cpu, 2),
        "fits": len(run.models),
        "models": sorted(set(run.models)),
        "models_chosen": list(run.models),
    }
    print(f"  {path.name} {name}: {budget}", file=sys.stderr, flush=True)
    horizon = run.horizon
    season = result.season_steps or max(1, round(86400 / trace.interval_seconds))
    reference = seasonal_naive_reference(trace.demand, season, horizon)
    if ceiling is None:
        evaluated = np.flatnonzero(np.isfinite(trace.demand))
        first = int(evaluated[evaluated >= result.warmup_steps][0]) + 1
        ceiling = _refit_ceiling(name, trace, reference, horizon, first, origins, budget_s)
    done = np.asarray([o - 1 + horizon for o in ceiling["origins"]], dtype=np.int64)
    unlimited = {**ceiling, "walk_rmae_same_steps": _rmae(trace.demand, run.point, reference, done)}
    print(f"  {path.name} {name} ceiling: {unlimited}", file=sys.stderr, flush=True)
    return {
        "meta": {
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
        },
        "budget": budget,
        "unlimited": unlimited,
        "load_average_before_after": [load_before, list(os.getloadavg())],
    }


def _refit_ceiling(
    name: str, trace: Any, reference: np.ndarray, horizon: int, first: int, origins: int, budget_s: float
) -> dict[str, Any]:
    """The policy refitted at ``origins`` evenly spaced origins from step ``first`` (``augur.sim.ceiling``): the
    origins reached, their rMAE and the fits' time."""
    chosen = sample_origins(first, trace.steps - horizon, origins)
    refits = refit_at_origins(
        name, trace.demand, trace.interval_seconds, chosen, horizon, target_horizon=horizon + 1, max_seconds=budget_s
    )
    done = np.asarray([o - 1 + horizon for o in refits.origins], dtype=np.int64)
    cpu = refits.fit_cpu_seconds
    return {
        "origins": list(refits.origins),
        "origins_sampled": len(chosen),
        "rmae": _rmae(trace.demand, refits.point, reference, done),
        "fit_seconds_median": float(np.median(refits.fit_seconds)) if refits.fit_seconds else None,
        "fit_cpu_seconds_median": float(np.median(cpu)) if cpu else None,
        "fit_cpu_seconds_max": max(cpu) if cpu else None,
    }


def _record_policy(name: str, fresh: dict[str, Any], trace: str, policy: str, entry: dict[str, Any]) -> None:
    """Add one policy's result to the series' entry of the results file (under a lock: shards share it)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (Path(tempfile.gettempdir()) / f"augur-bench-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        payload = read(name) or fresh
        slot = payload.setdefault("traces", {}).setdefault(trace, {"augur_budget": {}, "unlimited": {"models": {}}})
        slot.update(entry["meta"])
        slot["augur_budget"][policy] = {**entry["budget"], "candidates": list(FORECASTERS[policy])}
        slot["unlimited"]["models"][policy] = entry["unlimited"]
        slot.setdefault("load_average_before_after", {})[policy] = entry["load_average_before_after"]
        write(name, payload)


def targets(trace: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets for one series, for each Augur selection that ran: its walk against the best
    statsforecast walk (same budget), and against the best unlimited refit among the models refitted at
    every sampled origin (all on the same steps)."""
    budget, models = trace["augur_budget"], trace["unlimited"]["models"]
    # Only when every statsforecast model and augur ran on the series: a best of some is no best.
    ran = all(n in budget for n in ("augur", *SF_CANDIDATES))
    finite = {n: budget[n]["rmae"] for n in SF_CANDIDATES if n in budget and math.isfinite(budget[n]["rmae"])}
    best_sf = min(finite, key=lambda n: finite[n]) if finite and ran else None
    complete = {
        n: m for n, m in models.items() if len(m["origins"]) == m["origins_sampled"] and math.isfinite(m["rmae"])
    }
    best = min(complete, key=lambda n: complete[n]["rmae"]) if complete and ran else None
    out: dict[str, Any] = {
        "best_statsforecast_under_budget": best_sf,
        "best_unlimited_all_origins": best,
        "unlimited_cut_short": sorted(set(models) - set(complete)),
        "missing": [p for p in POLICIES if p not in budget],
        "compared": ran,
    }
    for name in SELECTIONS:
        if name not in budget:
            continue
        own = budget[name]["rmae"]
        out[f"{name}_le_best_statsforecast_under_budget"] = None if best_sf is None else own <= finite[best_sf]
        same = models[name]["walk_rmae_same_steps"] if name in models else None
        ratio = same / complete[best]["rmae"] if best and same is not None and complete[best]["rmae"] else None
        out[f"{name}_budget_over_best_unlimited_same_steps"] = ratio
        out[f"{name}_within_10pct_of_ceiling"] = None if ratio is None else ratio <= 1.1
    return out


def _two_weeks(n: int, seed: int) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    daily = 40 * np.sin(2 * np.pi * t / 288) + 15 * np.sin(4 * np.pi * t / 288)
    return np.maximum(0.0, 200 + daily + rng.normal(0, 8, n))


def speed() -> dict[str, Any]:
    """Per model on two weeks at five minutes: incremental update (ms per series per tick), the fit with its
    rolling-origin walk, and the pickled size of the forecaster (what the operator keeps per profile and
    ships back from a fit worker); then the full selection over Augur's candidates with and without the
    statsforecast ones (wall and CPU seconds, median of 3)."""
    y = _two_weeks(4032 + 1000, 0)
    out: dict[str, Any] = {}
    fitted: dict[str, Any] = {}
    for name in ("holt_winters", "mstl", "sarimax", "median_level", "autoreg", COMBINATION, *SF_CANDIDATES):
        start, start_cpu = time.perf_counter(), time.process_time()
        if name == COMBINATION:  # the mean of Augur's other candidates, as the selection builds it
            members = tuple(m for m in CANDIDATES if m in fitted)
            f = replace(fitted["holt_winters"], model=Combination(tuple(fitted[m].model for m in members), members))
        else:
            f = fit_forecaster(y[:4032], ForecastSettings(300.0, target_horizon=2, candidates=(name,)))
            fitted[name] = f
        fit, fit_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        start, start_cpu = time.perf_counter(), time.process_time()
        for v in y[4032:]:
            f = f.update(float(v))
        out[name] = {
            "update_ms_per_series": (time.perf_counter() - start) / 1000 * 1e3,
            "update_cpu_ms_per_series": (time.process_time() - start_cpu) / 1000 * 1e3,
            "fit_and_rolling_origin_seconds": round(fit, 3),
            "fit_and_rolling_origin_cpu_seconds": round(fit_cpu, 3),
            "pickled_bytes": len(pickle.dumps(f)),
        }
    for label, names in (("selection_augur", CANDIDATES), ("selection_augur_sf", (*CANDIDATES, *SF_SELECTABLE))):
        walls, cpus = [], []
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            fit_forecaster(y[:4032], ForecastSettings(300.0, target_horizon=2, candidates=names))
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - start_cpu)
        out[label] = {"seconds": [round(w, 3) for w in walls], "cpu_seconds": [round(c, 3) for c in cpus]}
    out["load_average"] = list(os.getloadavg())
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
        "import sys; print('numba' in sys.modules)\n"
        "y = numpy.sin(numpy.arange(600) / 10) + numpy.random.default_rng(0).normal(0, .1, 600)\n"
        "for _ in range(2):\n"
        "    t = time.perf_counter(); statsforecast.models.AutoETS().fit(y); statsforecast.models.AutoARIMA().fit(y)\n"
        "    print(time.perf_counter() - t)"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {
        "import_seconds_after_numpy_scipy_statsmodels": float(lines[0]),
        "extra_rss_mib": float(lines[1]),
        "numba_imported": lines[2] == "True",
        "first_fit_seconds_autoets_plus_autoarima_600_points": float(lines[3]),
        "second_fit_seconds": float(lines[4]),
    }


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def table(split: str) -> str:
    """The markdown table of ``docs/forecasting.md`` from ``bench/results/sf_<split>.json`` (the targets
    are recomputed with :func:`targets` and written back, so the file and the table agree): the series
    where Augur and every statsforecast model ran, a summary row over them, then the others."""
    path = RESULTS / f"sf_{split}.json"
    payload = json.loads(path.read_text())
    traces = payload["traces"]
    shown = [p for p in POLICIES if any(p in t["augur_budget"] for t in traces.values())]
    selections = [a for a in SELECTIONS if a in shown]
    names = " / ".join(shown)
    rows = [
        f"| series | step | h | rMAE under Augur's budget: {names} | best sf | "
        + " | ".join(f"{a} ≤ best sf" for a in selections)
        + f" | unlimited rMAE at the sampled origins: {names} | {', '.join(selections)} walk ÷ best unlimited "
        f"(same steps) | fit CPU s per series: {names} |",
        "|" + " --- |" * (7 + len(selections)),
    ]
    yes = {True: "yes", False: "**no**", None: "-"}
    tally: dict[str, list[Any]] = {f"{a}_{k}": [] for a in selections for k in ("le", "ceil", "ratio")}
    compared, other = [], []
    for name, t in sorted(traces.items()):
        t["targets"] = goal = targets(t)
        b, u = t["augur_budget"], t["unlimited"]["models"]

        def cell(policy: str, value: Any, digits: int = 3, ran: dict[str, Any] = b) -> str:
            return _f(value, digits) if policy in ran else "not run"

        ratios = " / ".join(_f(goal.get(f"{a}_budget_over_best_unlimited_same_steps"), 2) for a in selections)
        if goal["compared"]:
            for a in selections:
                tally[f"{a}_le"].append(goal.get(f"{a}_le_best_statsforecast_under_budget"))
                tally[f"{a}_ceil"].append(goal.get(f"{a}_within_10pct_of_ceiling"))
                tally[f"{a}_ratio"].append(goal.get(f"{a}_budget_over_best_unlimited_same_steps"))
        row = (
            f"| {name} | {t['interval_seconds']:g}s | {t['horizon_steps']} "
            f"| {' / '.join(cell(p, b[p]['rmae'] if p in b else None) for p in shown)} "
            f"| {goal['best_statsforecast_under_budget'] or '-'} | "
            + " | ".join(yes[goal.get(f"{a}_le_best_statsforecast_under_budget")] for a in selections)
            + f" | {' / '.join(cell(p, u[p]['rmae'] if p in u else None) for p in shown)} "
            f"| {ratios if goal['compared'] else '-'} ({goal['best_unlimited_all_origins'] or '-'}) "
            f"| {' / '.join(cell(p, u[p].get('fit_cpu_seconds_median') if p in u else None, 2) for p in shown)} |"
        )
        (compared if goal["compared"] else other).append((name, row))

    def count(values: list[Any]) -> str:
        known = [v for v in values if v is not None]
        return f"{sum(known)} of {len(known)}"

    rows += [row for _, row in compared]
    picked = [traces[n] for n, _ in compared]
    rows.append(
        f"| **{len(compared)} series compared** | | | geometric mean: "
        + " / ".join(_f(_geomean([t["augur_budget"].get(p, {}).get("rmae") for t in picked])) for p in shown)
        + " | | "
        + " | ".join(count(tally[f"{a}_le"]) for a in selections)
        + " | | geometric mean "
        + " / ".join(_f(_geomean([r for r in tally[f"{a}_ratio"] if r is not None]), 2) for a in selections)
        + "; within 10 %: "
        + " / ".join(count(tally[f"{a}_ceil"]) for a in selections)
        + " | |"
    )
    if other:
        rows.append(f"| *not every model ran ({len(other)} series)* |" + " |" * (6 + len(selections)))
        rows += [row for _, row in other]
    write(path.name, payload)
    return "\n".join(rows)


def _geomean(values: list[Any]) -> float | None:
    """Geometric mean over the series where the value is finite and positive (``None`` when any is missing)."""
    if any(v is None for v in values):
        return None
    ok = [v for v in values if math.isfinite(v) and v > 0]
    return float(np.exp(np.mean(np.log(ok)))) if ok else None


def _cost(path: Path) -> tuple[bool, int]:
    with path.open() as handle:
        rows = [next(handle, ""), next(handle, ""), next(handle, "")][1:]
    times = [r.split(",")[0] for r in rows]
    hourly = len(times) == 2 and times[0][11:13] != times[1][11:13] and times[0][14:16] == times[1][14:16]
    return hourly, path.stat().st_size


def merge() -> Path:
    """Targets recomputed in each split's file, ``complete`` set when every series of the split has every
    policy, and ``sf.json``: both splits side by side."""
    for split in (datasets.DEVELOPMENT, datasets.VALIDATION):
        name = f"sf_{split}.json"
        with (Path(tempfile.gettempdir()) / f"augur-bench-{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            payload = read(name)
            if payload is None:
                continue
            for entry in payload["traces"].values():
                entry["targets"] = targets(entry)
            # The candidate sets of this code (the runs in the file were made with them: the sf walks do
            # not depend on Augur's candidates, and every augur walk ran after the last change to them).
            payload["settings"]["candidates"] = {p: list(FORECASTERS[p]) for p in POLICIES}
            every = {p.name for p in datasets.by_split(split)}
            full = {n for n, t in payload["traces"].items() if t["targets"]["compared"]}
            payload["complete"] = every <= full  # augur and every sf model (augur_sf is optional)
            payload["series_complete"] = f"{len(full & every)} of {len(every)}"
            write(name, payload)
    parts = {s: f"sf_{s}.json" for s in (datasets.DEVELOPMENT, datasets.VALIDATION) if read(f"sf_{s}.json")}
    return merge_splits("sf.json", parts, lambda s, part: part["traces"], keep=("split_rule", "settings"))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        print(table(argv[1]))
        return 0
    if argv[:1] == ["--merge"]:
        print(merge())
        return 0
    if argv[:1] == ["--speed"]:
        print(write("sf_speed.json", {"machine": machine(), "speed": speed(), "statsforecast_import": import_cost()}))
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=(datasets.DEVELOPMENT, datasets.VALIDATION), required=True)
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--sample", action="store_true", help="datasets.sample (else every series of the split)")
    parser.add_argument("--origins", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=4032)
    parser.add_argument(
        "--ceiling-seconds", type=float, default=120.0, help="time per model and series for the refit ceiling"
    )
    parser.add_argument("--shard", default="0/1", help="K/N: run every N-th (series, policy) from the K-th")
    parser.add_argument(
        "--ceilings-from",
        default="",
        help="an earlier sf_<split>.json (in bench/results): keep its refits at the sampled origins (which do not "
        "depend on the walk) and re-run only the walks",
    )
    parser.add_argument("traces", nargs="*", type=Path)
    args = parser.parse_args(argv)
    earlier = read(args.ceilings_from) if args.ceilings_from else None
    if args.ceilings_from and earlier is None:
        parser.error(f"no results file {args.ceilings_from} in {RESULTS}")
    k, n = (int(x) for x in args.shard.split("/"))
    wanted = [p for p in args.policies.split(",") if p]
    unknown = set(wanted) - set(POLICIES)
    if unknown:
        parser.error(f"unknown policies {sorted(unknown)}")
    # Cheapest series first; (series, policy) pairs already in the results file are skipped, and each
    # finished pair is added to it at once (under a lock: the shards of a run share the file), so a run cut
    # short keeps what finished.
    series = args.traces or (datasets.sample(args.split) if args.sample else datasets.by_split(args.split))
    pairs = [(path, policy) for path in sorted(series, key=_cost) for policy in wanted][k::n]
    name = f"sf_{args.split}.json"
    fresh: dict[str, Any] = {
        "machine": machine(),
        "split_rule": datasets.__doc__,
        "settings": {
            "origins": args.origins,
            "max_steps": args.max_steps,
            "ceiling_seconds": args.ceiling_seconds,
            "ceilings_from": args.ceilings_from or None,
            "policies": list(POLICIES),
            "candidates": {p: list(FORECASTERS[p]) for p in POLICIES},
        },
        "complete": False,
        "traces": {},
    }
    for path, policy in pairs:
        if datasets.split_of(path) != args.split:
            print(f"{path.name} is in the other split; skipped", file=sys.stderr)
            continue
        done = (read(name) or fresh)["traces"].get(path.name, {}).get("augur_budget", {})
        if policy in done:
            continue
        print(f"{args.split}: {path.name} {policy}", file=sys.stderr, flush=True)
        ceiling = None
        if earlier is not None:
            ceiling = earlier["traces"].get(path.name, {}).get("unlimited", {}).get("models", {}).get(policy)
            if ceiling is None:
                print(f"{path.name} {policy}: no refits in {args.ceilings_from}; skipped", file=sys.stderr)
                continue
            ceiling = {**ceiling, "reused_from": args.ceilings_from}
        entry = bench_policy(path.resolve(), policy, args.origins, args.max_steps, args.ceiling_seconds, ceiling)
        _record_policy(name, fresh, path.name, policy, entry)
    print(merge())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
