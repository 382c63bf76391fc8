"""Choose the online calibration's settings on development series only (``bench/results/online_search.json``).

Each variant of :class:`augur.forecast.online.OnlineSettings` (``window`` 0 = off, the static
rolling-origin calibration alone) runs the issue-10 protocol of ``bench/backtest_bench.py`` (warm-up
0.3, lead 2 min, capacity for p95 = 16 replicas at u = 0.8, last 4,032 steps) on development series
only, with the policies the choice needs (augur, hpa, hpa_matched, oracle_floor; no cost curves).
Reported per series and variant: under-provisioned steps of augur / hpa_matched / hpa, replica-hours
over hpa, and the coverage of the p90 forecast at the lead-time horizon (share of evaluated steps whose
demand stayed at or below it: 0.9 is calibrated).

Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=operator .venv/bin/python bench/online_search.py [--jobs N]
[series ...]`` (default: the development sample of ``datasets.sample``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import functools
import math
import multiprocessing
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backtest_bench import PEAK_QUANTILE, PEAK_REPLICAS, SUBSET_STEPS, UTILIZATION, WARMUP
from common import machine, write
from datasets import DEVELOPMENT, by_split, sample, split_of

from augur.forecast.forecaster import ForecastSettings
from augur.forecast.online import OnlineSettings
from augur.scaling import loop
from augur.sim.backtest import run_backtest
from augur.sim.protocol import backtest_setup, policy_spec
from augur.sim.trace import load_trace

VARIANTS: dict[str, OnlineSettings] = {
    "off": OnlineSettings(window=0),
    "raw_w500": OnlineSettings(window=500, scale_alpha=0.0, min_horizons=1),
    "scaled_a0.2_w500": OnlineSettings(window=500, scale_alpha=0.2, min_horizons=1),
    "scaled_a0.05_w500": OnlineSettings(window=500, scale_alpha=0.05, min_horizons=1),
    "scaled_a0.2_w200": OnlineSettings(window=200, scale_alpha=0.2, min_horizons=1),
}
"""Each variant calibrates every target horizon online (``min_horizons`` 1); the default that came out
of this search, ``OnlineSettings()``, is ``scaled_a0.2_w500`` for leads of two steps or more only."""


def run(job: tuple[str, str]) -> tuple[str, str, dict[str, Any]]:
    variant, path = job
    settings = VARIANTS[variant]
    loop.ForecastSettings = functools.partial(ForecastSettings, online=settings)  # type: ignore[misc]
    trace = load_trace(Path(path))
    if trace.steps > SUBSET_STEPS:
        trace = trace.tail(SUBSET_STEPS * trace.interval_seconds)
    finite = trace.demand[np.isfinite(trace.demand)]
    capacity = float(np.quantile(finite, PEAK_QUANTILE)) / (UTILIZATION * PEAK_REPLICAS)
    setup = backtest_setup(trace.interval_seconds, capacity, policy_spec(UTILIZATION))
    started = time.perf_counter()
    result = run_backtest(
        trace,
        setup,
        policies=("augur", "hpa", "hpa_matched", "oracle_floor"),
        warmup_steps=math.floor(WARMUP * trace.steps),
        curve=False,
    )
    m = result.metrics
    run_ = result.forecasts["augur"]
    evaluated = np.zeros(trace.steps, dtype=bool)
    evaluated[result.warmup_steps :] = np.isfinite(trace.demand[result.warmup_steps :])
    ok = evaluated & np.isfinite(run_.upper)
    coverage = float(np.mean(trace.demand[ok] <= run_.upper[ok])) if ok.any() else math.nan
    return (
        variant,
        path,
        {
            "augur_under": m["augur"].under_provisioned_steps,
            "matched_under": m["hpa_matched"].under_provisioned_steps,
            "hpa_under": m["hpa"].under_provisioned_steps,
            "augur_over_hpa_replica_hours": m["augur"].replica_hours / m["hpa"].replica_hours,
            "floor_over_hpa_replica_hours": m["oracle_floor"].replica_hours / m["hpa"].replica_hours,
            "p90_coverage": coverage,
            "rmae": result.accuracy["augur"].rmae,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("series", nargs="*")
    args = parser.parse_args(argv)
    pool_paths = by_split(DEVELOPMENT) if args.series else sample(DEVELOPMENT, 1)
    paths = [p for p in pool_paths if not args.series or p.name in args.series]
    assert all(split_of(p) == DEVELOPMENT for p in paths), "tuning reads development series only"
    jobs = [(v, str(p)) for p in paths for v in args.variants.split(",")]
    out: dict[str, Any] = {
        "benchmark": "online calibration variants on development series (bench/online_search.py)",
        "machine": machine(),
        "variants": {k: asdict(v) for k, v in VARIANTS.items()},
        "series": {},
    }
    started = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(max(1, args.jobs)) as pool:
        for variant, path, entry in pool.imap_unordered(run, jobs):
            p = Path(path)
            out["series"].setdefault(f"{p.parent.name}/{p.name}", {})[variant] = entry
            print(variant, p.name, entry, file=sys.stderr, flush=True)
            out["seconds"] = round(time.perf_counter() - started, 1)
            write("online_search.json", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
