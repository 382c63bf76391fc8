"""Candidate sets for Augur's selection, compared on the DEVELOPMENT series only (``bench/datasets.py``).

Each configuration is a tuple of candidates walked exactly as ``augur backtest`` walks the ``augur``
policy (same refit schedule, incremental updates, median forecast at the lead-time horizon); the score
is rMAE against seasonal naive over the evaluated steps common to every configuration. Walks are cached
per series and configuration (``--cache``), so configurations can be added without re-running the
others. Writes ``bench/results/sf_search.json``. Validation series are refused: tuning sees development
data only.

Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=operator nice -n 19 .venv/bin/python bench/sf_search.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets
from common import machine, write

from augur.forecast.selection import CANDIDATES
from augur.sim import policies
from augur.sim.backtest import detected_season, seasonal_naive_reference
from augur.sim.policies import WalkSettings, run_forecast_policy
from augur.sim.progress import Progress
from augur.sim.protocol import backtest_setup, default_warmup_steps, evaluated_mask
from augur.sim.trace import load_trace

CONFIGS: dict[str, tuple[str, ...]] = {
    "augur_before": CANDIDATES,
    "combination_all": (*CANDIDATES, "combination"),
    "autoreg": (*CANDIDATES, "autoreg"),
    "autoreg_combination": (*CANDIDATES, "autoreg", "combination"),
    "with_sf": (*CANDIDATES, "sf_autoets", "sf_autoarima"),
    "combination_sf": (*CANDIDATES, "sf_autoets", "sf_autoarima", "combination"),
    "sf_autoets": ("sf_autoets",),
    "sf_autoarima": ("sf_autoarima",),
    "sf_mstl": ("sf_mstl",),
}
MAX_STEPS = 4032


def walk(path: Path, name: str, candidates: tuple[str, ...], cache: Path) -> tuple[np.ndarray, float]:
    file = cache / f"{path.stem}__{name}.npy"
    if file.exists():
        return np.load(file), 0.0
    trace = load_trace(path)
    if trace.steps > MAX_STEPS:
        trace = trace.tail(MAX_STEPS * trace.interval_seconds)
    setup = backtest_setup(trace.interval_seconds, 1.0)
    season = detected_season(trace)
    warmup = default_warmup_steps(trace.steps, season)
    policies.FORECASTERS[name] = candidates
    start = time.process_time()
    run = run_forecast_policy(name, trace.demand, setup, WalkSettings(), warmup, Progress("s", trace.steps, None), 0)
    cpu = time.process_time() - start
    np.save(file, run.point)
    file.with_suffix(".models").write_text(" ".join(run.models))
    return run.point, cpu


def score(path: Path, points: dict[str, np.ndarray]) -> dict[str, float]:
    trace = load_trace(path)
    if trace.steps > MAX_STEPS:
        trace = trace.tail(MAX_STEPS * trace.interval_seconds)
    season = detected_season(trace)
    warmup = default_warmup_steps(trace.steps, season)
    mask = evaluated_mask(trace.demand, warmup)
    setup = backtest_setup(trace.interval_seconds, 1.0)
    horizon = max(1, setup.lead_steps)
    reference = seasonal_naive_reference(trace.demand, season or max(1, round(86400 / trace.interval_seconds)), horizon)
    common = mask & np.isfinite(reference)
    for p in points.values():
        common &= np.isfinite(p)
    d = trace.demand[common]
    base = float(np.mean(np.abs(d - reference[common])))
    return {n: float(np.mean(np.abs(d - p[common]))) / base for n, p in points.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sf_search"))
    parser.add_argument("--shard", default="0/1")
    parser.add_argument("--score-only", action="store_true")
    parser.add_argument("--series", default="", help="comma-separated file names (default: every development series)")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    names = args.configs.split(",")
    k, n = (int(x) for x in args.shard.split("/"))
    series = datasets.by_split(datasets.DEVELOPMENT)
    if args.series:
        series = [p for p in series if p.name in args.series.split(",")]
    out: dict[str, Any] = {}
    for path in series[k::n] if not args.score_only else series:
        points, cpu = {}, {}
        for name in names:
            if args.score_only and not (args.cache / f"{path.stem}__{name}.npy").exists():
                break
            points[name], cpu[name] = walk(path, name, CONFIGS[name], args.cache)
        else:
            out[path.name] = {"rmae": score(path, points), "walk_cpu_seconds": cpu}
            print(path.name, {n: round(v, 3) for n, v in out[path.name]["rmae"].items()}, flush=True)
    if args.score_only:
        rm = {n: [t["rmae"][n] for t in out.values()] for n in names}
        base = np.asarray(rm[names[0]])
        summary = {
            n: {
                "series": len(v),
                "mean_rmae": float(np.mean(v)),
                "geomean_ratio_to_first": float(np.exp(np.mean(np.log(np.asarray(v) / base)))),
                "wins_vs_first": int(np.sum(np.asarray(v) < base - 1e-9)),
            }
            for n, v in rm.items()
        }
        for n, s in summary.items():
            print(n, s)
        write(
            "sf_search.json",
            {
                "machine": machine(),
                "split": "development",
                "configs": {n: CONFIGS[n] for n in names},
                "summary": summary,
                "traces": out,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
