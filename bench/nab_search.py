"""Choose :class:`AnomalyParams` on the development half of NAB only (``bench/results/nab_search.json``).

The split is :mod:`augur.sim.nab_split` (fixed by file names before any tuning). Every candidate is
scored on the development half alone: the detector runs over the development files, each profile's
threshold is the best one for the development half (:func:`augur.sim.nab.best_threshold`), and the
objective is the development half's standard score. The held-out half is never read here.

The detector has two stages (``augur.forecast.anomaly``): ``AnomalyDetector.observe`` turns each point
into :class:`Signals` (the expensive part), and :class:`Alerting` turns signals into the score (cheap:
combination, warm-up, suppression). The search caches the signals of each signal-stage setting and
replays only the alerting stage for the alerting parameters, through the same classes the detector
uses, so a candidate's score is exactly what ``score_series`` gives with those parameters.

Search (budget recorded in the output): for each signal-stage candidate of ``SIGNAL_SPACE`` (one
change at a time from ``BASE``), a coordinate search over ``ALERT_SPACE`` (each value tried with the
others held, ``PASSES`` passes); the best development score wins. Signals and trial results are cached
in ``~/.cache/augur/nab-signals``, keyed by the parameters that differ from today's defaults: clear it
after changing the detector's code or defaults. Run: ``.venv/bin/python bench/nab_search.py`` (one
process; 3-7 minutes per signal-stage candidate on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine, write

from augur.forecast.anomaly import ALERT_FIELDS, Alerting, AnomalyDetector, AnomalyParams, Signals
from augur.sim import nab
from augur.sim.nab_split import Half, split

NAB_DIR = SHARED / "nab"
CACHE = Path.home() / ".cache" / "augur" / "nab-signals"
SIGNALS_FORMAT = "v2:"  # columns: residual, excess, local_excess, novelty per scale


class Corpus:
    """The series and scoring material of one half of the corpus."""

    def __init__(self, nab_dir: Path, half: Half | None) -> None:
        series = nab.load_series(nab_dir)
        if half is not None:
            keep = set(split([s.name for s in series]).half(half))
            series = [s for s in series if s.name in keep]
        self.half = half or "full"
        self.series = series
        self.swept = nab.sweep_corpus(nab_dir, series)
        self.profiles = nab.load_profiles(nab_dir)


def signal_key(params: AnomalyParams) -> str:
    """Cache key of the signal stage: the parameters the alerting stage does not use and that differ
    from their defaults (clear ``CACHE`` after changing the detector's code or defaults)."""
    defaults = asdict(AnomalyParams())
    values = {k: v for k, v in asdict(params).items() if k not in ALERT_FIELDS and v != defaults[k]}
    return SIGNALS_FORMAT + json.dumps(values, sort_keys=True)


def signals_of(values: np.ndarray, params: AnomalyParams) -> np.ndarray:
    """The detector's signals for every point of a series, one row per point."""
    detector = AnomalyDetector(params)
    rows = []
    for v in values:
        s = detector.observe(float(v))
        rows.append((s.residual, s.excess, s.local_excess, *s.novelty))
    return np.array(rows, dtype=np.float64)


def corpus_signals(corpus: Corpus, params: AnomalyParams, memo: dict[str, list[np.ndarray]]) -> list[np.ndarray]:
    """Signals of every series of ``corpus`` under ``params`` (memoized in memory and on disk)."""
    key = corpus.half + signal_key(params)
    if key in memo:
        return memo[key]
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{_digest(key)}.pkl"
    if path.is_file():
        stored_key, out = pickle.loads(path.read_bytes())
        if stored_key == key:
            memo[key] = out
            return out  # type: ignore[no-any-return]
    out = [signals_of(s.values, params) for s in corpus.series]
    path.write_bytes(pickle.dumps((key, out)))
    memo[key] = out
    return out


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def alert_scores(signals: np.ndarray, params: AnomalyParams) -> np.ndarray:
    """The detector's scores from cached signals: :class:`Alerting` exactly as ``update`` runs it."""
    alerting = Alerting(params)
    out = np.empty(len(signals))
    for i, row in enumerate(signals.tolist()):
        out[i] = alerting.step(Signals(row[0], tuple(row[3:]), row[1], row[2]), i + 1)
    return out


def evaluate(corpus: Corpus, scores: Sequence[np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per profile: best threshold on this corpus and the score, windows and false positives there."""
    out = {}
    for profile in corpus.profiles:
        r = nab.best_threshold(corpus.swept, scores, profile)
        out[profile.name] = {"score": round(r.score, 2), "threshold": r.threshold, "tp": r.tp, "fn": r.fn, "fp": r.fp}
    return out


# Where the search started: the defaults before it ran (then tuned on the whole corpus by an earlier
# version of this project); it chose shape_stride 1.0, today's default.
BASE = replace(AnomalyParams(), shape_stride=0.4)
# Signal-stage candidates: one change at a time from BASE.
SIGNAL_SPACE: list[dict[str, Any]] = [
    {},
    {"shape_stride": 1.0},
    {"shape_stride": 2.0},
    {"shape_stride": 1.0, "shape_memory": 2000},
    {"history_window": 1000, "avg_window": 10},
    {"avg_window": 4},
    {"shape_scales": (1, 3, 10, 30)},
    {"local_window": 200},
]
# Alerting parameters: coordinate search (each value tried with the others held, two passes).
ALERT_SPACE: dict[str, Sequence[Any]] = {
    "novelty_agreement": (1, 2),
    "novelty_weight": (0.96, 1.0, 1.02, 1.05),
    "range_margin": (0.0, 0.03, 0.1),
    "fire_level": (0.9, 0.92, 0.95),
    "suppress_steps": (50, 75, 150),
    "suppress_factor": (0.8, 0.9, 0.95),
    "local_margin": (0.25, 0.5, 1.0, 2.0),
    "local_score": (0.9, 0.93, 0.95, 0.97),
}
PASSES = 2


def coordinate_search(
    corpus: Corpus, signals: list[np.ndarray], start: AnomalyParams, trials: list[dict[str, Any]]
) -> tuple[float, AnomalyParams]:
    """Best alerting parameters for fixed signals: one parameter at a time over ``ALERT_SPACE``.

    Results are kept on disk beside the cached signals, so a repeated search replays nothing twice.
    """
    path = CACHE / f"trials-{_digest(corpus.half + signal_key(start))}.json"
    stored: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    seen: dict[str, float] = {}

    def objective(params: AnomalyParams) -> float:
        alert = {k: getattr(params, k) for k in ALERT_FIELDS}
        key = json.dumps(alert, sort_keys=True)
        if key not in seen:
            if key not in stored:
                stored[key] = evaluate(corpus, [alert_scores(s, params) for s in signals])
                path.write_text(json.dumps(stored))
            seen[key] = stored[key]["standard"]["score"]
            trials.append({"params": alert, "dev": stored[key]})
        return seen[key]

    best, best_score = start, objective(start)
    for _ in range(PASSES):
        for name, values in ALERT_SPACE.items():
            if name.startswith("local_") and start.local_window == 0:
                continue  # no local range check: these parameters change nothing
            for value in values:
                candidate = replace(best, **{name: value})
                score = objective(candidate)
                if score > best_score + 1e-9:
                    best, best_score = candidate, score
    return best_score, best


def search(corpus: Corpus, base: AnomalyParams) -> dict[str, Any]:
    memo: dict[str, list[np.ndarray]] = {}
    candidates = []
    best: tuple[float, AnomalyParams] = (-1e9, base)
    for change in SIGNAL_SPACE:
        started = time.perf_counter()
        signal_params = replace(base, **change)
        signals = corpus_signals(corpus, signal_params, memo)
        trials: list[dict[str, Any]] = []
        score, params = coordinate_search(corpus, signals, signal_params, trials)
        candidates.append(
            {
                "signal_change": change,
                "best_dev_standard": score,
                "best_alert": {k: getattr(params, k) for k in ALERT_SPACE},
                "trials": trials,
            }
        )
        if score > best[0]:
            best = (score, params)
        seconds = time.perf_counter() - started
        print(f"{change}: {score:.2f} ({len(trials)} trials, {seconds:.0f} s); best {best[0]:.2f}", file=sys.stderr)
    return {"candidates": candidates, "best_params": asdict(best[1]), "best_dev_standard": best[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    if not NAB_DIR.is_dir():
        print(f"{NAB_DIR} not present", file=sys.stderr)
        return 2
    host = machine()
    started = time.perf_counter()
    corpus = Corpus(NAB_DIR, "dev")
    result = search(corpus, BASE)
    payload = {
        "benchmark": "AnomalyParams search on the NAB development half (augur.sim.nab_split)",
        "machine": host,
        "half": "dev",
        "files": [s.name for s in corpus.series],
        "objective": "standard score on the development half, thresholds chosen on the development half",
        "base_params": asdict(BASE),
        "signal_space": SIGNAL_SPACE,
        "alert_space": ALERT_SPACE,
        "passes": PASSES,
        "budget": {
            "signal_candidates": len(SIGNAL_SPACE),
            "trials": sum(len(c["trials"]) for c in result["candidates"]),
        },
        **result,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write("nab_search.json", payload)
    print(f"wrote {path}: best dev standard {result['best_dev_standard']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
