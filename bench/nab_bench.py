"""Augur's streaming anomaly detector on the Numenta Anomaly Benchmark (``bench/results/nab.json``).

Runs the detector over all 58 files (one parameter set, no look-ahead) and reports the three NAB
profiles on the development half, the held-out half (:mod:`augur.sim.nab_split`; the parameters were
chosen on the development half only, by ``bench/nab_search.py``) and the full corpus, with thresholds
chosen two ways:

* ``threshold_from_dev``: each profile's threshold is the best one for the development half and is
  applied unchanged to the held-out half and the full corpus (nothing is chosen on held-out data);
* ``threshold_from_dev_plateau``: as ``threshold_from_dev`` but chosen on the development half by
  :func:`augur.sim.nab.plateau_threshold` (the best score averaged over thresholds within ±0.005, the
  middle of a plateau rather than the edge of a cliff), so that it carries over to unseen files;
* ``threshold_per_corpus``: each corpus gets its own best threshold per profile, as NAB's scoreboard
  does (the full-corpus figure is the one comparable with the published scoreboard).

Also measures the cost of one incremental update (and of a state round trip through JSON, which the
operator does when it persists its state), and re-scores Numenta HTM's shipped output at its
published thresholds as a check of the scorer. Run: ``.venv/bin/python bench/nab_bench.py [--workers 1]``.
"""

from __future__ import annotations

import os

# One BLAS thread: the shape search is a small matrix-vector product per point (as in forecast_bench.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import hashlib
import json
import math
import multiprocessing
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine, write

from augur.cli.nab import evaluate
from augur.forecast.anomaly import AnomalyDetector, AnomalyParams, score_series, state_dict
from augur.sim import nab
from augur.sim.nab_split import split

NAB_DIR = SHARED / "nab"
PUBLISHED = {
    "ARTime": (74.9, 65.1, 80.4),
    "Numenta HTM": (70.5, 62.6, 75.2),
    "CAD OSE": (69.9, 67.0, 73.2),
    "earthgecko Skyline": (58.2, 46.2, 63.9),
    "KNN CAD": (58.0, 43.4, 64.8),
    "Relative Entropy": (54.6, 47.6, 58.8),
    "Random Cut Forest": (51.7, 38.4, 59.7),
    "Twitter ADVec": (47.1, 33.6, 53.5),
    "Windowed Gaussian": (39.6, 20.9, 47.4),
    "Etsy Skyline": (35.7, 27.1, 44.5),
    "Bayesian Changepoint": (17.7, 3.2, 32.2),
    "EXPoSE": (16.4, 3.2, 26.9),
    "Random": (11.0, 1.2, 19.5),
}
TIMING_FILES = ("realKnownCause/nyc_taxi.csv", "realTweets/Twitter_volume_AAPL.csv")


def _result(r: nab.ScoreResult) -> dict[str, Any]:
    return {
        "score": round(r.score, 2),
        "threshold": r.threshold,
        "detected_windows": r.tp,
        "missed_windows": r.fn,
        "false_positives": r.fp,
    }


def score_halves(
    series: list[nab.Series], swept: list[nab.SweptFile], scores: list[np.ndarray], profiles: tuple[nab.Profile, ...]
) -> dict[str, Any]:
    """Scores of the development half, the held-out half and the full corpus, both threshold rules."""
    halves = split([s.name for s in series])
    parts = {"dev": set(halves.dev), "holdout": set(halves.holdout), "full": {s.name for s in series}}
    pick = {
        name: ([w for s, w in zip(series, swept, strict=True) if s.name in keep],
               [x for s, x in zip(series, scores, strict=True) if s.name in keep])
        for name, keep in parts.items()
    }  # fmt: skip
    out: dict[str, Any] = {"threshold_from_dev": {}, "threshold_from_dev_plateau": {}, "threshold_per_corpus": {}}
    for profile in profiles:
        dev_best = nab.best_threshold(*pick["dev"], profile)
        dev_plateau = nab.plateau_threshold(*pick["dev"], profile)
        for name, (sw, sc) in pick.items():
            fixed = nab.score_at(sw, sc, dev_best.threshold, profile)
            out["threshold_from_dev"].setdefault(name, {})[profile.name] = _result(fixed)
            fixed = nab.score_at(sw, sc, dev_plateau.threshold, profile)
            out["threshold_from_dev_plateau"].setdefault(name, {})[profile.name] = _result(fixed)
            own = nab.best_threshold(sw, sc, profile)
            out["threshold_per_corpus"].setdefault(name, {})[profile.name] = _result(own)
    out["files"] = {"dev": len(halves.dev), "holdout": len(halves.holdout), "full": len(series)}
    out["windows"] = {name: sum(w.windows for w in sw) for name, (sw, _) in pick.items()}
    return out


SPLIT_SALTS = range(1, 13)


def salted_halves(names: list[str], salt: int) -> tuple[set[str], set[str]]:
    """Another split made like :mod:`augur.sim.nab_split` (per category, alternating in hash order)
    but hashing ``f"{salt}:{name}"``: the spread over such splits shows how much the development /
    held-out gap depends on which files land in which half."""
    by_category: dict[str, list[str]] = {}
    for name in names:
        by_category.setdefault(name.split("/", 1)[0], []).append(name)
    dev: set[str] = set()
    turn = 0
    for category in sorted(by_category):
        for name in sorted(by_category[category], key=lambda n: hashlib.sha256(f"{salt}:{n}".encode()).hexdigest()):
            if turn % 2 == 0:
                dev.add(name)
            turn += 1
    return dev, set(names) - dev


def split_spread(series: list[nab.Series], swept: list[nab.SweptFile], scores: list[np.ndarray]) -> dict[str, Any]:
    """Standard-profile scores over ``SPLIT_SALTS`` alternative splits: the development half with its
    own best threshold, the held-out half with the development half's best and plateau thresholds."""
    standard = nab.STANDARD_PROFILES[0]
    rows = []
    for salt in SPLIT_SALTS:
        dev, hold = salted_halves([s.name for s in series], salt)
        pick = {
            name: ([w for s, w in zip(series, swept, strict=True) if s.name in keep],
                   [x for s, x in zip(series, scores, strict=True) if s.name in keep])
            for name, keep in (("dev", dev), ("holdout", hold))
        }  # fmt: skip
        best = nab.best_threshold(*pick["dev"], standard)
        plateau = nab.plateau_threshold(*pick["dev"], standard)
        rows.append({
            "salt": salt,
            "dev": round(best.score, 2),
            "dev_plateau": round(plateau.score, 2),
            "holdout_at_dev_threshold": round(nab.score_at(*pick["holdout"], best.threshold, standard).score, 2),
            "holdout_at_dev_plateau": round(nab.score_at(*pick["holdout"], plateau.threshold, standard).score, 2),
            "holdout_own": round(nab.best_threshold(*pick["holdout"], standard).score, 2),
        })  # fmt: skip
    gaps = {
        "dev_best_minus_holdout_at_it": [r["dev"] - r["holdout_at_dev_threshold"] for r in rows],
        "dev_plateau_minus_holdout_at_it": [r["dev_plateau"] - r["holdout_at_dev_plateau"] for r in rows],
        "dev_minus_holdout_own": [r["dev"] - r["holdout_own"] for r in rows],
    }
    summary = {
        k: {"median": round(float(np.median(v)), 2), "min": round(min(v), 2), "max": round(max(v), 2),
            "within_3_points": sum(abs(x) <= 3 for x in v)}
        for k, v in gaps.items()
    }  # fmt: skip
    return {"profile": "standard", "splits": rows, "gap_summary": summary, "n_splits": len(rows)}


def _score(job: tuple[np.ndarray, AnomalyParams]) -> tuple[np.ndarray, float]:
    """One file's scores and the CPU seconds the worker process spent on them."""
    values, params = job
    cpu = time.process_time()
    scores = score_series(values, params)
    return scores, time.process_time() - cpu


def run_detector(series: list[nab.Series], workers: int, params: AnomalyParams) -> tuple[list[np.ndarray], float]:
    """Scores of every file, in order, and the CPU seconds of the scoring itself (summed over the worker
    processes: not wall time, which on a loaded machine is mostly waiting for a CPU)."""
    jobs = [(s.values, params) for s in series]
    if workers <= 1:
        done = [_score(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = pool.map(_score, jobs)
    return [scores for scores, _ in done], sum(cpu for _, cpu in done)


def reference_loop_us() -> float:
    """CPU microseconds of 100 Python float multiply-adds (best of 5): how fast this machine ran Python
    while the benchmark did (about 3 us on an idle core of this machine type), to read the figures by."""
    best = math.inf
    for _ in range(5):
        cpu = time.process_time()
        for _ in range(2000):
            x = 0.0
            for _ in range(100):
                x += 1.0001 * x
        best = min(best, (time.process_time() - cpu) / 2000 * 1e6)
    return round(best, 2)


def timing(series: list[nab.Series], params: AnomalyParams) -> dict[str, Any]:
    """CPU and wall time of ``update`` per point (wall time includes waiting for a busy CPU), and the
    wall time of a state round trip through JSON, which the operator pays when it persists its state."""
    out: dict[str, Any] = {}
    for s in series:
        if s.name not in TIMING_FILES:
            continue
        detector = AnomalyDetector(params)
        per_point = np.empty(len(s.values))
        cpu = time.process_time()
        for i, v in enumerate(s.values):
            t = time.perf_counter()
            detector.update(float(v))
            per_point[i] = time.perf_counter() - t
        cpu = time.process_time() - cpu
        rounds = []
        for _ in range(5):
            t = time.perf_counter()
            text = json.dumps(state_dict(detector.state()))
            AnomalyDetector.from_state(json.loads(text), params).update(float(s.values[-1]))
            rounds.append(time.perf_counter() - t)
        out[s.name] = {
            "points": len(s.values),
            "update_cpu_mean_us": round(cpu / len(s.values) * 1e6, 1),
            "update_mean_us": round(float(per_point.mean()) * 1e6, 1),
            "update_p99_us": round(float(np.quantile(per_point, 0.99)) * 1e6, 1),
            "update_max_us": round(float(per_point.max()) * 1e6, 1),
            "state_json_kib": round(len(text) / 1024, 1),
            "state_round_trip_and_update_ms_median": round(float(np.median(rounds)) * 1e3, 2),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--shape-periods",
        default="",
        help="e.g. 1,5,20: search each scale's shape memory every N points (a cheaper variant; default: the "
        "detector's defaults) and write nab_shape_periods_<N>_<N>_<N>.json instead of nab.json",
    )
    args = parser.parse_args()
    if not NAB_DIR.is_dir():
        print(f"{NAB_DIR} not present", file=sys.stderr)
        return 2
    host = machine()
    started = time.perf_counter()
    params = AnomalyParams()
    output = "nab.json"
    if args.shape_periods:
        periods = tuple(int(x) for x in args.shape_periods.split(","))
        params = replace(params, shape_periods=periods)
        output = "nab_shape_periods_" + "_".join(map(str, periods)) + ".json"
    series = nab.load_series(NAB_DIR)
    swept = nab.sweep_corpus(NAB_DIR, series)
    profiles = nab.load_profiles(NAB_DIR)
    run_started = time.perf_counter()
    scores, cpu_seconds = run_detector(series, max(1, args.workers), params)
    run_seconds = time.perf_counter() - run_started
    points = sum(len(s.values) for s in series)
    halves = score_halves(series, swept, scores, profiles)
    spread = split_spread(series, swept, scores)
    numenta = evaluate(NAB_DIR, NAB_DIR / "results" / "numenta", 1)
    payload = {
        "benchmark": "Numenta Anomaly Benchmark v1.1 corpus (58 files, 116 windows)",
        "machine": host,
        "detector": "augur.forecast.anomaly.AnomalyDetector",
        "params": asdict(params),
        "tuned_on": "dev half only (bench/nab_search.py, bench/results/nab_search.json)",
        "split": "augur.sim.nab_split: per category, files ordered by SHA-256 of the name, alternating",
        "scores": halves,
        "split_spread": spread,
        "runtime_seconds": round(run_seconds, 1),
        "workers": args.workers,
        "files": len(series),
        "points": points,
        "cpu_seconds": round(cpu_seconds, 1),
        "cpu_microseconds_per_point": round(cpu_seconds / points * 1e6, 1),
        "cpu_measure": "time.process_time() around each file's scoring, in the process that scored it, summed",
        "timing": timing(series, params),
        "reference_loop_us_per_100_float_ops": reference_loop_us(),
        "scorer_check_numenta": {
            "scores": {r.profile: round(r.score, 2) for r in numenta.results},
            "published": {"standard": 70.1, "reward_low_FP_rate": 63.1, "reward_low_FN_rate": 74.3},
        },
        "published_scoreboard": {
            k: dict(zip(("standard", "low_FP", "low_FN"), v, strict=True)) for k, v in PUBLISHED.items()
        },
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    path = write(output, payload)
    full = halves["threshold_per_corpus"]["full"]
    print(f"wrote {path}: full corpus " + ", ".join(f"{k} {v['score']}" for k, v in full.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
