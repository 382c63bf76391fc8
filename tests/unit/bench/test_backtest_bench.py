"""bench/backtest_bench.py's per-series targets and bench/summarize.py's rows, on results made by hand."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest


@pytest.fixture(scope="module")
def bench(bench_import: Callable[[str], ModuleType]) -> tuple[ModuleType, ModuleType]:
    return bench_import("backtest_bench"), bench_import("summarize")


def result(under: int, at_goal: float, spending_more: int, **hours: float) -> dict[str, Any]:
    """An ``augur backtest --json`` object reduced to what the targets read: Augur's under-provisioned
    steps, hpa_matched's at Augur's replica-hours and of its run spending more; hpa's are 20; replica-hours
    100 (hpa_matched 110, oracle_floor 90) unless ``hours`` say otherwise."""
    h = {"augur": 100.0, "hpa": 100.0, "hpa_matched": 110.0, "oracle_floor": 90.0, **hours}
    steps = {"augur": under, "hpa": 20, "hpa_matched": spending_more, "oracle_floor": 0}
    return {
        "policies": {p: {"under_provisioned_steps": steps[p], "replica_hours": h[p]} for p in h},
        "hpa_matched": {"under_provisioned_steps_at_goal": at_goal},
        "forecast": {"augur": {"rmae": 0.7}},
    }


def test_below_hpa_matched_is_judged_at_augurs_replica_hours(bench: tuple[ModuleType, ModuleType]) -> None:
    backtest_bench, _ = bench
    # The run spending 10 % more under-provisions on 9 steps, the curve at Augur's replica-hours on 12.5.
    t = backtest_bench.targets(result(10, 12.5, 9))
    assert (t["below_hpa_matched"], t["below_hpa_matched_spending_at_least"]) == (True, False)
    assert (t["hpa_matched_under_steps"], t["hpa_matched_spending_at_least_under_steps"]) == (12.5, 9)
    assert t["hpa_matched_spending_at_least_over_augur_replica_hours"] == 1.1
    # Equal counts are a miss; neither under-provisioning is nothing to beat.
    assert backtest_bench.targets(result(12, 12.0, 12))["below_hpa_matched"] is False
    nothing = backtest_bench.targets(result(0, 0.0, 0))
    assert (nothing["below_hpa_matched"], nothing["below_hpa_matched_spending_at_least"]) == (None, None)


def test_halving_applies_only_where_the_floor_allows(bench: tuple[ModuleType, ModuleType]) -> None:
    backtest_bench, _ = bench
    # oracle_floor at 0.9x hpa: applies; 8 of hpa's 20 steps (0.4x) at 1.04x its replica-hours: met.
    t = backtest_bench.targets(result(8, 12.0, 9, augur=104.0))
    assert (t["halving_applies"], t["halving_met"], t["augur_over_hpa_under"]) == (True, True, 0.4)
    # The same at 1.06x: missed. With the floor at 1.06x hpa: does not apply.
    assert backtest_bench.targets(result(8, 12.0, 9, augur=106.0))["halving_met"] is False
    assert backtest_bench.targets(result(8, 12.0, 9, oracle_floor=106.0))["halving_met"] is None


def test_summary_rows_show_both_readings(bench: tuple[ModuleType, ModuleType]) -> None:
    backtest_bench, summarize = bench
    traces = {"a.csv": {"targets": backtest_bench.targets(result(10, 12.5, 9))}}
    s = backtest_bench.summary(traces)
    assert s["below_hpa_matched"] == {"met": 1, "missed": 0, "not_applicable": 0}
    assert s["below_hpa_matched_spending_at_least"] == {"met": 0, "missed": 1, "not_applicable": 0}
    assert (s["hpa_matched_under_steps_total"], s["hpa_matched_spending_at_least_under_steps_total"]) == (12.5, 9)
    assert summarize._matched(traces["a.csv"]["targets"]) == "12.5 (9)"
    assert summarize._matched({"hpa_matched_under_steps": 9}) == "9"  # results from before 2026-12-02
