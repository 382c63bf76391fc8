"""The cost learner's ledger (pure): the reference a settled forecast is scored against is the lowest
reactive ask that could be ready by its step, the same with step numbers (backtester) and timestamps
(operator)."""

from __future__ import annotations

import math

import pytest

from augur.scaling.ledger import Ledger


def _run(step: float, origin: float) -> list[object]:
    """One sequence of decisions and outcomes, keyed from ``origin`` in units of ``step``."""
    ledger = Ledger(step, lead=2)
    k = [origin + i * step for i in range(12)]
    out: list[object] = []
    asks = [9, 4, 7, 8, 6, None, 9, 9]
    for i, ask in enumerate(asks):
        ledger.expect(k[i + 2], (float(i), float(i) + 1))
        ledger.decided(k[i], k[i + 2], 10 + i, ask)
        out.append(ledger.settle(k[i], 100.0))
    out.append(sorted(round((key - origin) / step) for key in ledger.asks))
    return out


def test_settle_scores_against_the_lowest_ask_that_could_be_ready() -> None:
    out = _run(1.0, 0.0)
    # step 2 was forecast by the decision at 0 (ask 9); asks at 0, 1, 2 could be ready by 2: 9, 4, 7
    assert out[2] == ((0.0, 1.0), 10, 4)
    # step 4: asks at 2, 3, 4 (7, 8, 6); the one at 1 (4) is older than the lead
    assert out[4] == ((2.0, 3.0), 12, 6)
    # step 7: its own decision (at 5) asked nothing; the asks at 6, 7 (9, 9) stand in
    assert out[7] == ((5.0, 6.0), 15, 9)
    assert out[0] is None and out[1] is None  # nothing was expected for steps 0 and 1
    # asks older than lead + 1 steps are dropped as new ones come
    assert out[-1] == [4, 6, 7]


def test_timestamps_and_step_numbers_keep_the_same_books() -> None:
    assert _run(300.0, 1_700_000_100.0) == _run(1.0, 0.0) == _run(60.0, 0.5)


def test_a_gap_drops_the_entry_and_no_ask_keeps_the_decision_s_own() -> None:
    ledger = Ledger(60.0, lead=1)
    ledger.expect(120.0, (1.0,))
    assert ledger.settle(120.0, math.nan) is None and not ledger.pending
    ledger.expect(180.0, (2.0,))
    ledger.decided(120.0, 180.0, 3, None)
    assert ledger.settle(180.0, 5.0) == ((2.0,), 3, None)
    assert ledger.settle(180.0, 5.0) is None  # settled once


def test_a_decision_for_an_unexpected_target_only_records_its_ask() -> None:
    ledger = Ledger(1.0, lead=1)
    ledger.decided(5, 6, 2, 3)
    assert not ledger.pending and ledger.asks == {5: 3}


@pytest.mark.parametrize(("lo", "hi", "left"), [(0, 10, {2, 5, 9}), (3, 8, {5}), (10, 20, set())])
def test_trim_forgets_entries_and_asks_outside_the_range(lo: float, hi: float, left: set[int]) -> None:
    ledger = Ledger(1.0, lead=20)
    for key in (2, 5, 9):
        ledger.expect(key, (1.0,))
        ledger.decided(key, key, 1, 1)
    ledger.trim(lo, hi)
    assert set(ledger.pending) == set(ledger.asks) == left
