"""``augur nab NAB_DIR``: score Augur's anomaly detector (or another detector's output) on NAB.

Without ``--detector-results`` the streaming detector of :mod:`augur.forecast.anomaly` runs over every
file of the corpus (a process pool, progress on stderr) and each profile gets the threshold that
maximizes its corpus score. With ``--detector-results DIR`` the raw output of an existing detector is
scored at that detector's thresholds from ``config/thresholds.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augur.cli.main import UsageError
from augur.constants import FloatArray
from augur.forecast.anomaly import AnomalyParams, score_series
from augur.sim import nab


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("nab", help="score anomaly detection on the Numenta Anomaly Benchmark")
    p.add_argument("nab_dir", metavar="NAB_DIR", type=Path, help="NAB checkout (data/, labels/, config/)")
    p.add_argument(
        "--detector-results",
        type=Path,
        metavar="DIR",
        help="score this detector's raw output (e.g. NAB_DIR/results/numenta) at its published thresholds",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--workers", type=int, default=2, help="processes running the detector (default: 2)")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Report:
    """Scores of one detector on the corpus, per profile."""

    detector: str
    files: int
    windows: int
    results: tuple[nab.ScoreResult, ...]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object: scores rounded as NAB's scoreboard rounds them, exact thresholds."""
        out: dict[str, Any] = {r.profile: round(r.score, 1) for r in self.results}
        out["thresholds"] = {r.profile: r.threshold for r in self.results}
        return out


def run(args: argparse.Namespace) -> int:
    try:
        report = evaluate(args.nab_dir, args.detector_results, max(1, args.workers))
    except nab.CorpusError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print(render_table(report))
    return 0


def evaluate(nab_dir: Path, detector_results: Path | None, workers: int = 2) -> Report:
    """Score Augur's detector (``detector_results`` is None) or a stored detector on ``nab_dir``."""
    _check_layout(nab_dir)
    start = time.perf_counter()
    series = nab.load_series(nab_dir)
    corpus = nab.sweep_corpus(nab_dir, series)
    profiles = nab.load_profiles(nab_dir)
    if detector_results is None:
        name = "augur"
        scores = run_detector(series, workers)
        results = tuple(nab.best_threshold(corpus, scores, p) for p in profiles)
    else:
        if not detector_results.is_dir():
            raise nab.CorpusError(f"{detector_results}: no such results directory")
        name = detector_results.resolve().name
        thresholds = nab.load_thresholds(nab_dir, name)
        scores = nab.load_detector_scores(detector_results, series)
        results = tuple(nab.score_at(corpus, scores, _threshold(thresholds, p.name), p) for p in profiles)
    windows = sum(f.windows for f in corpus)
    return Report(name, len(series), windows, results, time.perf_counter() - start)


def run_detector(
    series: Sequence[nab.Series], workers: int = 2, params: AnomalyParams | None = None
) -> list[FloatArray]:
    """Augur's anomaly scores for every series, in order, with progress on stderr."""
    jobs = [(s.values, params) for s in series]
    out: list[FloatArray] = []
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ctx.Pool(workers) as pool:
        for i, scores in enumerate(pool.imap(_score_job, jobs), start=1):
            out.append(scores)
            _progress(i, len(jobs), series[i - 1].name)
    return out


def _score_job(job: tuple[FloatArray, AnomalyParams | None]) -> FloatArray:
    values, params = job
    return score_series(values, params)


def _progress(done: int, total: int, name: str) -> None:
    end = "\n" if done == total else ""
    if sys.stderr.isatty():
        print(f"\r\033[Knab: {done}/{total} {name}", end=end, file=sys.stderr, flush=True)
    elif done % 10 == 0 or done == total:
        print(f"nab: {done}/{total} files scored", file=sys.stderr, flush=True)


def _check_layout(nab_dir: Path) -> None:
    if not nab_dir.is_dir():
        raise nab.CorpusError(f"{nab_dir}: no such NAB directory")
    for part in ("data", "labels/combined_windows.json", "config/thresholds.json"):
        if not (nab_dir / part).exists():
            raise nab.CorpusError(f"{nab_dir}: not a NAB directory (missing {part})")


def _threshold(thresholds: dict[str, float], profile: str) -> float:
    if profile not in thresholds:
        raise nab.CorpusError(f"config/thresholds.json has no {profile!r} threshold for this detector")
    return thresholds[profile]


def render_table(report: Report) -> str:
    """A readable table of the report."""
    lines = [
        f"NAB: detector {report.detector}, {report.files} files, {report.windows} windows, {report.seconds:.1f} s",
        f"{'profile':<20} {'score':>6} {'threshold':>10} {'TP':>4} {'FN':>4} {'FP':>5}",
    ]
    for r in report.results:
        lines.append(f"{r.profile:<20} {r.score:>6.1f} {r.threshold:>10.6f} {r.tp:>4} {r.fn:>4} {r.fp:>5}")
    return "\n".join(lines)
