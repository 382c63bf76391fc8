"""NAB scorer: each rule of facts.md §3 on hand-built corpora, and the published Numenta scores."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from augur.sim import nab

STANDARD, LOW_FP, LOW_FN = nab.STANDARD_PROFILES
SIG = nab.scaled_sigmoid


def _scores(n: int, hits: list[int]) -> np.ndarray:
    s = np.zeros(n)
    s[hits] = 1.0
    return s


def _raw(n: int, windows: list[tuple[int, int]], hits: list[int], profile: nab.Profile = STANDARD) -> float:
    swept = nab.sweep_file("f.csv", n, windows)
    return nab.score_at([swept], [_scores(n, hits)], 0.5, profile).raw


def test_scaled_sigmoid_shape() -> None:
    assert SIG(0.0) == 0.0
    assert SIG(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert SIG(3.0) == pytest.approx(2 / (1 + math.exp(15)) - 1)
    assert SIG(3.0001) == -1.0


def test_probation_length() -> None:
    assert nab.probation_rows(100) == 15
    assert nab.probation_rows(4031) == 604
    assert nab.probation_rows(22000) == 750


def test_detections_in_probation_are_ignored() -> None:
    # 100 rows -> probation 15; no window, so any counted detection costs the full FP weight.
    assert _raw(100, [], [0, 14]) == 0.0
    assert _raw(100, [], [15]) == pytest.approx(-STANDARD.fp_weight)


def test_window_inside_probation_does_not_count() -> None:
    swept = nab.sweep_file("f.csv", 100, [(2, 10)])
    assert swept.windows == 0
    assert nab.score_at([swept], [np.zeros(100)], 0.5, STANDARD).raw == 0.0


def test_window_straddling_probation_counts() -> None:
    swept = nab.sweep_file("f.csv", 100, [(10, 20)])
    assert swept.windows == 1
    assert nab.score_at([swept], [np.zeros(100)], 0.5, STANDARD).raw == -1.0


def test_missed_window_costs_fn_weight() -> None:
    assert _raw(100, [(40, 49)], []) == -1.0
    assert _raw(100, [(40, 49)], [], LOW_FN) == -2.0


def test_earliest_detection_in_window_counts_once() -> None:
    first = SIG(-(49 - 40 + 1) / 10) / SIG(-1.0)
    assert first == pytest.approx(1.0)
    assert _raw(100, [(40, 49)], [40]) == pytest.approx(1.0)
    assert _raw(100, [(40, 49)], [40, 45, 49]) == pytest.approx(1.0)
    late = SIG(-(49 - 49 + 1) / 10) / SIG(-1.0)
    assert _raw(100, [(40, 49)], [49]) == pytest.approx(late)
    assert 0 < late < first


def test_fp_without_preceding_window_scores_minus_one() -> None:
    assert _raw(100, [(60, 69)], [30]) == pytest.approx(-STANDARD.fp_weight - 1.0)
    assert _raw(100, [(60, 69)], [30], LOW_FP) == pytest.approx(-LOW_FP.fp_weight - 1.0)


def test_fp_after_window_is_weighted_by_distance() -> None:
    # window 40..49 (width 10); detection at 52 -> position |52 - 49| / 9.
    expected = -1.0 + STANDARD.fp_weight * SIG(3 / 9)
    assert _raw(100, [(40, 49)], [52]) == pytest.approx(expected)
    assert SIG(3 / 9) < 0
    # Right next to the window costs almost nothing, far beyond 3 widths costs the full weight.
    assert _raw(100, [(40, 49)], [50]) > _raw(100, [(40, 49)], [52])
    assert _raw(100, [(40, 49)], [80]) == pytest.approx(-1.0 - STANDARD.fp_weight)


def test_fp_uses_nearest_preceding_window() -> None:
    windows = [(20, 29), (60, 64)]
    # Row 66 follows the second window (end 64, width 5) -> |66 - 64| / 4.
    expected = -1.0 - 1.0 + STANDARD.fp_weight * SIG(2 / 4)
    assert _raw(100, windows, [66]) == pytest.approx(expected)


def test_normalization_null_and_perfect() -> None:
    swept = [nab.sweep_file("a.csv", 100, [(40, 49)]), nab.sweep_file("b.csv", 100, [(60, 69), (80, 89)])]
    none = [np.zeros(100), np.zeros(100)]
    perfect = [_scores(100, [40]), _scores(100, [60, 80])]
    for profile in nab.STANDARD_PROFILES:
        assert nab.score_at(swept, none, 0.5, profile).score == pytest.approx(0.0)
        assert nab.score_at(swept, perfect, 0.5, profile).score == pytest.approx(100.0)
    half = [_scores(100, [40]), np.zeros(100)]
    # raw = 1 - 2 = -1; null = -3, perfect = 3 -> 100 * 2 / 6.
    assert nab.score_at(swept, half, 0.5, STANDARD).score == pytest.approx(100 * 2 / 6)


def test_best_threshold_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    swept = [nab.sweep_file("a.csv", 300, [(100, 129), (200, 219)]), nab.sweep_file("b.csv", 200, [(90, 99)])]
    scores = [rng.random(300).round(2), rng.random(200).round(2)]
    for profile in nab.STANDARD_PROFILES:
        best = nab.best_threshold(swept, scores, profile)
        candidates = np.unique(np.concatenate(scores))
        brute = max(nab.score_at(swept, scores, float(t), profile).score for t in candidates)
        assert best.score == pytest.approx(brute)
        assert nab.score_at(swept, scores, best.threshold, profile).score == pytest.approx(best.score)


def test_window_rows_from_timestamps() -> None:
    stamps = np.arange("2024-01-01T00:00", "2024-01-01T10:00", np.timedelta64(1, "h"), dtype="datetime64[us]")
    rows = nab.window_rows(stamps, [("2024-01-01 02:00:00.000000", "2024-01-01 04:00:00.000000")])
    assert rows == [(2, 4)]


def _nab_dir() -> Path:
    root = Path(__file__).resolve().parents[3]
    return root.parent / "shared" / "data" / "nab"


@pytest.mark.shared_data
def test_reproduces_published_numenta_scores() -> None:
    nab_dir = _nab_dir()
    if not (nab_dir / "results" / "numenta").is_dir():
        pytest.skip("../shared/data/nab not present")
    series = nab.load_series(nab_dir)
    corpus = nab.sweep_corpus(nab_dir, series)
    scores = nab.load_detector_scores(nab_dir / "results" / "numenta", series)
    thresholds = nab.load_thresholds(nab_dir, "numenta")
    got = {
        p.name: round(nab.score_at(corpus, scores, thresholds[p.name], p).score, 1) for p in nab.load_profiles(nab_dir)
    }
    assert got == {"standard": 70.1, "reward_low_FP_rate": 63.1, "reward_low_FN_rate": 74.3}
    assert sum(f.windows for f in corpus) == 116


def test_malformed_corpus_raises_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(nab.CorpusError, match="cannot read"):
        nab.load_windows(tmp_path)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text("{oops")
    with pytest.raises(nab.CorpusError, match="malformed JSON"):
        nab.load_windows(tmp_path)
    (tmp_path / "labels" / "combined_windows.json").write_text("[1, 2]")
    with pytest.raises(nab.CorpusError, match="expected"):
        nab.load_windows(tmp_path)
    (tmp_path / "bad.csv").write_text("timestamp,value\n2024-01-01 00:00:00,abc\n")
    with pytest.raises(nab.CorpusError, match="not a NAB CSV"):
        nab.read_csv_columns(tmp_path / "bad.csv", "value")


def test_plateau_index_prefers_a_broad_plateau_to_an_isolated_peak() -> None:
    values = np.array([0.0, 0.0, 5.0, 0.0, 4.0, 4.0, 4.0, 4.0])
    # means over 3: [1.67, 1.67, 3.0, 2.67, 4.0, 4.0] at indices 1..6: the last of the ties, index 6
    assert nab.plateau_index(values, 1) == 6
    assert nab.plateau_index(values, 0) == 2  # no neighbourhood: the single best


def test_plateau_threshold_without_width_is_the_best_grid_threshold() -> None:
    # One window (60..69) of 100 rows: a detection at 60 scores 0.85, twenty earlier rows 0.75 (FPs).
    swept = nab.sweep_file("f.csv", 100, [(60, 69)])
    scores = np.zeros(100)
    scores[60] = 0.85
    scores[20:40] = 0.75
    best = nab.plateau_threshold([swept], [scores], STANDARD, half_width=0.0, step=0.1)
    # grid 0.5 .. 1.0: at 0.8 only the window's first row is detected (raw +1, score 100)
    assert best.threshold == pytest.approx(0.8)
    assert best.raw == pytest.approx(1.0)
    assert best.fp == 0 and best.tp == 1
