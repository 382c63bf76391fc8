"""Numenta Anomaly Benchmark (NAB) scoring, written from the rules in ``facts.md`` §3.

A file is scored in two steps. :func:`sweep_file` turns the labelled windows into a per-row value that
does not depend on the profile: for a row inside a window, the scaled sigmoid of its relative position
divided by ``sigma(-1)`` (earlier rows are worth more); for a row outside, the scaled sigmoid of its distance
past the preceding window (``-1`` when no window precedes it or the distance exceeds 3). Rows in the
probationary period are dropped. :func:`score_at` then applies a threshold and a cost profile: the best
(earliest) detection of each window counts ``tpWeight * value``, a window without detection ``-fnWeight``,
every other detection ``fpWeight * value``. :func:`best_threshold` sweeps every distinct anomaly score
of the corpus exactly, as NAB's threshold optimisation does.

The scoring functions take plain arrays; the loaders at the bottom read a NAB directory (``data/``,
``labels/combined_windows.json``, ``config/*.json``, ``results/<detector>/``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from augur.constants import FloatArray, IntArray

PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750
FP_HORIZON = 3.0


@dataclass(frozen=True)
class Profile:
    """Cost weights of one NAB application profile."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


STANDARD_PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


@dataclass(frozen=True)
class SweptFile:
    """Profile-independent scoring material of one file (probationary rows already removed).

    ``rows`` are the original row indices kept, ``window`` the window number of each kept row (``-1``
    outside every window), ``value`` its unweighted contribution, ``windows`` the number of counted
    windows (those with at least one row after the probationary period).
    """

    name: str
    rows: IntArray
    window: IntArray
    value: FloatArray
    windows: int


@dataclass(frozen=True)
class ScoreResult:
    """Normalized corpus score of one profile at one threshold, with the raw parts."""

    profile: str
    threshold: float
    score: float
    raw: float
    tp: int
    fp: int
    fn: int


def scaled_sigmoid(y: float) -> float:
    """NAB's ``sigma(y) = 2 / (1 + e^(5y)) - 1``, forced to ``-1`` beyond the FP horizon (y > 3)."""
    if y > FP_HORIZON:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(n_rows: int) -> int:
    """Length of the probationary period: ``min(floor(0.15 * rows), 750)``."""
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_MAX_ROWS)


def sweep_file(name: str, n_rows: int, windows: Sequence[tuple[int, int]]) -> SweptFile:
    """Per-row values of a file of ``n_rows`` rows with windows given as inclusive row ranges."""
    probation = probation_rows(n_rows)
    window = np.full(n_rows, -1, dtype=np.int64)
    value = np.empty(n_rows, dtype=np.float64)
    max_tp = scaled_sigmoid(-1.0)
    prev: tuple[int, int] | None = None
    counted = 0
    cursor = 0
    for start, end in sorted(windows):
        _fill_outside(value, cursor, start, prev)
        width = end - start + 1
        if end >= probation:
            window[start : end + 1] = counted
            counted += 1
        for i in range(start, end + 1):
            value[i] = scaled_sigmoid(-(end - i + 1) / width) / max_tp
        prev, cursor = (start, end), end + 1
    _fill_outside(value, cursor, n_rows, prev)
    keep = np.arange(probation, n_rows, dtype=np.int64)
    return SweptFile(name, keep, window[probation:], value[probation:], counted)


def _fill_outside(value: FloatArray, lo: int, hi: int, prev: tuple[int, int] | None) -> None:
    """FP values of rows ``lo..hi-1`` lying after window ``prev`` (or before every window)."""
    if prev is None:
        value[lo:hi] = -1.0
        return
    start, end = prev
    width = end - start + 1
    for i in range(lo, hi):
        value[i] = scaled_sigmoid(abs(i - end) / (width - 1)) if width > 1 else -1.0


def window_rows(timestamps: npt.NDArray[np.datetime64], limits: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
    """Inclusive row ranges of windows given as inclusive timestamp pairs."""
    out = []
    for start, end in limits:
        lo = int(np.searchsorted(timestamps, np.datetime64(start), side="left"))
        hi = int(np.searchsorted(timestamps, np.datetime64(end), side="right")) - 1
        if hi >= lo:
            out.append((lo, hi))
    return out


def file_score(swept: SweptFile, scores: FloatArray, threshold: float, profile: Profile) -> tuple[float, int, int]:
    """Raw score, true-positive windows and false positives of one file at ``threshold``."""
    detected = scores[swept.rows] >= threshold
    raw, fp = 0.0, 0
    outside = detected & (swept.window < 0)
    fp = int(outside.sum())
    raw += profile.fp_weight * float(swept.value[outside].sum())
    tp = 0
    for w in range(swept.windows):
        hits = detected & (swept.window == w)
        if hits.any():
            tp += 1
            raw += profile.tp_weight * float(swept.value[hits].max())
        else:
            raw -= profile.fn_weight
    return raw, tp, fp


def normalize(raw: float, windows: int, profile: Profile) -> float:
    """``100 * (raw - null) / (perfect - null)`` with ``null = -fn * windows``, ``perfect = tp * windows``.

    Undefined (NaN) for a corpus without counted windows.
    """
    if windows == 0:
        return math.nan
    null = -profile.fn_weight * windows
    perfect = profile.tp_weight * windows
    return 100.0 * (raw - null) / (perfect - null)


def score_at(
    corpus: Sequence[SweptFile], scores: Sequence[FloatArray], threshold: float, profile: Profile
) -> ScoreResult:
    """Corpus score of the per-file anomaly ``scores`` when every row ``≥ threshold`` is a detection."""
    raw, tp, fp = 0.0, 0, 0
    for swept, s in zip(corpus, scores, strict=True):
        r, t, f = file_score(swept, s, threshold, profile)
        raw, tp, fp = raw + r, tp + t, fp + f
    windows = sum(f.windows for f in corpus)
    return ScoreResult(profile.name, threshold, normalize(raw, windows, profile), raw, tp, fp, windows - tp)


def best_threshold(corpus: Sequence[SweptFile], scores: Sequence[FloatArray], profile: Profile) -> ScoreResult:
    """The threshold maximizing the corpus score: an exact sweep over every distinct anomaly score.

    Rows are visited from the highest score down; the running raw score changes by ``fp * value`` for
    a row outside windows and by the improvement of its window's best value otherwise. Ties go to the
    highest threshold (fewest detections).
    """
    flat_score, flat_key, flat_value, windows = _flatten(corpus, scores)
    order = np.argsort(-flat_score, kind="stable")
    best_so_far = np.full(windows, np.nan)
    raw = -profile.fn_weight * windows
    best_raw, best_t = raw, math.inf
    ordered = flat_score[order]
    for pos, idx in enumerate(order):
        key, val = int(flat_key[idx]), float(flat_value[idx])
        if key < 0:
            raw += profile.fp_weight * val
        elif math.isnan(best_so_far[key]):
            best_so_far[key] = val
            raw += profile.tp_weight * val + profile.fn_weight
        elif val > best_so_far[key]:
            raw += profile.tp_weight * (val - best_so_far[key])
            best_so_far[key] = val
        last_of_group = pos + 1 == len(order) or ordered[pos + 1] != ordered[pos]
        if last_of_group and raw > best_raw + 1e-12:
            best_raw, best_t = raw, float(ordered[pos])
    return score_at(corpus, scores, best_t, profile)


def plateau_threshold(
    corpus: Sequence[SweptFile],
    scores: Sequence[FloatArray],
    profile: Profile,
    half_width: float = 0.005,
    step: float = 0.0005,
    low: float = 0.5,
) -> ScoreResult:
    """A threshold from the middle of a good plateau, not from the edge of a cliff.

    The corpus score is evaluated on a grid of thresholds (``low`` to 1 by ``step``); the chosen one
    maximizes the score averaged over the thresholds within ``half_width`` of it. The single best
    threshold (:func:`best_threshold`) often sits where a slightly higher one loses windows, so a
    threshold chosen that way on one half of a corpus and applied to the other is fragile; this one is
    meant to carry over. ``half_width`` 0 is the best threshold of the grid.
    """
    grid = np.round(np.arange(low, 1.0 + step / 2, step), 12)
    values = np.array([score_at(corpus, scores, float(t), profile).score for t in grid])
    i = plateau_index(values, round(half_width / step))
    return score_at(corpus, scores, float(grid[i]), profile)


def plateau_index(values: FloatArray, k: int) -> int:
    """Index whose mean over ``values[i - k : i + k + 1]`` is highest (only indices with a full
    neighbourhood; ties go to the highest index, i.e. the highest threshold)."""
    if k <= 0 or len(values) <= 2 * k:
        return int(len(values) - 1 - np.argmax(values[::-1]))
    means = np.convolve(values, np.ones(2 * k + 1) / (2 * k + 1), mode="valid")
    return int(len(means) - 1 - np.argmax(means[::-1])) + k


def _flatten(corpus: Sequence[SweptFile], scores: Sequence[FloatArray]) -> tuple[FloatArray, IntArray, FloatArray, int]:
    """Kept rows of every file in one array, with window numbers made unique across the corpus."""
    parts_s, parts_k, parts_v = [], [], []
    offset = 0
    for swept, s in zip(corpus, scores, strict=True):
        parts_s.append(np.asarray(s, dtype=np.float64)[swept.rows])
        parts_k.append(np.where(swept.window >= 0, swept.window + offset, -1))
        parts_v.append(swept.value)
        offset += swept.windows
    return np.concatenate(parts_s), np.concatenate(parts_k), np.concatenate(parts_v), offset


# --- Corpus files -----------------------------------------------------------------------------------


class CorpusError(ValueError):
    """The NAB directory is missing or does not have the expected layout."""


@dataclass(frozen=True)
class Series:
    """One NAB data file: its relative name (``realKnownCause/nyc_taxi.csv``), timestamps and values."""

    name: str
    timestamps: npt.NDArray[np.datetime64]
    values: FloatArray


def load_profiles(nab_dir: Path) -> tuple[Profile, ...]:
    """Profiles of ``config/profiles.json`` (the standard three when the file is absent)."""
    path = nab_dir / "config" / "profiles.json"
    if not path.is_file():
        return STANDARD_PROFILES
    data = _read_json(path)
    return tuple(
        Profile(
            name,
            float(c["CostMatrix"]["tpWeight"]),
            float(c["CostMatrix"]["fpWeight"]),
            float(c["CostMatrix"]["fnWeight"]),
        )
        for name, c in data.items()
    )


def load_thresholds(nab_dir: Path, detector: str) -> dict[str, float]:
    """Per-profile thresholds of ``detector`` from ``config/thresholds.json``."""
    data = _read_json(nab_dir / "config" / "thresholds.json")
    if detector not in data:
        raise CorpusError(f"no thresholds for detector {detector!r} in config/thresholds.json")
    return {profile: float(v["threshold"]) for profile, v in data[detector].items()}


def load_windows(nab_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """``labels/combined_windows.json``: file name -> inclusive timestamp pairs."""
    path = nab_dir / "labels" / "combined_windows.json"
    data = _read_json(path)
    try:
        return {str(name): [(str(a), str(b)) for a, b in pairs] for name, pairs in data.items()}
    except (AttributeError, TypeError, ValueError) as exc:
        raise CorpusError(f"{path}: expected {{file: [[start, end], ...]}} ({exc})") from exc


def read_csv_columns(path: Path, column: str) -> tuple[npt.NDArray[np.datetime64], FloatArray]:
    """Timestamps and one numeric column of a NAB CSV file."""
    try:
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        ti, ci = header.index("timestamp"), header.index(column)
        rows = [line.split(",") for line in lines[1:] if line]
        stamps = np.array([r[ti].replace(" ", "T") for r in rows], dtype="datetime64[us]")
        values = np.array([float(r[ci]) for r in rows], dtype=np.float64)
    except (OSError, IndexError, ValueError) as exc:
        raise CorpusError(f"{path}: not a NAB CSV with timestamp and {column} columns ({exc})") from exc
    return stamps, values


def load_series(nab_dir: Path) -> list[Series]:
    """Every data file named in the window labels, in label order."""
    out = []
    for name in load_windows(nab_dir):
        stamps, values = read_csv_columns(nab_dir / "data" / name, "value")
        out.append(Series(name, stamps, values))
    return out


def sweep_corpus(nab_dir: Path, series: Sequence[Series]) -> list[SweptFile]:
    """Scoring material of every series from the corpus windows."""
    windows = load_windows(nab_dir)
    return [sweep_file(s.name, len(s.values), window_rows(s.timestamps, windows[s.name])) for s in series]


def load_detector_scores(results_dir: Path, series: Sequence[Series]) -> list[FloatArray]:
    """``anomaly_score`` columns of a detector's raw output (``<dir>/<cat>/<detector>_<file>.csv``)."""
    detector = results_dir.resolve().name
    out = []
    for s in series:
        category, base = s.name.split("/", 1)
        _, scores = read_csv_columns(results_dir / category / f"{detector}_{base}", "anomaly_score")
        if len(scores) != len(s.values):
            raise CorpusError(f"{detector} results for {s.name}: {len(scores)} rows, data has {len(s.values)}")
        out.append(scores)
    return out


def _read_json(path: Path) -> Any:
    """Parsed JSON of ``path``; unreadable or malformed files raise :class:`CorpusError`."""
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from exc
