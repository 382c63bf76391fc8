"""Augur's streaming anomaly detector on the Numenta Anomaly Benchmark (``bench/results/nab.json``).

Runs the detector over all 58 files (one parameter set, no look-ahead), picks each profile's threshold
by the exact sweep of :func:`augur.sim.nab.best_threshold`, and, as a check of the scorer, re-scores
Numenta HTM's shipped output at its published thresholds.
Run: ``.venv/bin/python bench/nab_bench.py [--workers 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine, write

from augur.cli.nab import Report, evaluate
from augur.forecast.anomaly import AnomalyParams

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
    "Random": (11.0, 1.2, 19.5),
}


def profiles(report: Report) -> dict[str, Any]:
    return {
        r.profile: {
            "score": r.score,
            "threshold": r.threshold,
            "detected_windows": r.tp,
            "missed_windows": r.fn,
            "false_positives": r.fp,
        }
        for r in report.results
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not NAB_DIR.is_dir():
        print(f"{NAB_DIR} not present", file=sys.stderr)
        return 2
    host = machine()
    started = time.perf_counter()
    augur = evaluate(NAB_DIR, None, args.workers)
    points = _points()
    numenta = evaluate(NAB_DIR, NAB_DIR / "results" / "numenta", args.workers)
    payload = {
        "benchmark": "Numenta Anomaly Benchmark v1.1 corpus (58 files, 116 windows)",
        "machine": host,
        "detector": "augur.forecast.anomaly.AnomalyDetector",
        "params": asdict(AnomalyParams()),
        "scores": {r.profile: round(r.score, 2) for r in augur.results},
        "profiles": profiles(augur),
        "runtime_seconds": round(augur.seconds, 1),
        "workers": args.workers,
        "files": augur.files,
        "points": points,
        "cpu_microseconds_per_point": round(augur.seconds * args.workers / points * 1e6, 1),
        "scorer_check_numenta": {
            "scores": {r.profile: round(r.score, 2) for r in numenta.results},
            "published": {"standard": 70.1, "reward_low_FP_rate": 63.1, "reward_low_FN_rate": 74.3},
        },
        "published_scoreboard": {
            k: dict(zip(("standard", "low_FP", "low_FN"), v, strict=True)) for k, v in PUBLISHED.items()
        },
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    path = write("nab.json", payload)
    print(f"wrote {path}: " + ", ".join(f"{k} {v}" for k, v in payload["scores"].items()))
    return 0


def _points() -> int:
    return sum(sum(1 for _ in p.open()) - 1 for p in (NAB_DIR / "data").glob("*/*.csv"))


if __name__ == "__main__":
    sys.exit(main())
