from __future__ import annotations

import math

import numpy as np
import pytest

from augur.sim.live_report import VariantRecord, _step_path, render_live_report, summarize, summary_line
from augur.sim.protocol import backtest_setup, compute_metrics, policy_spec
from augur.sim.report import HEIGHT, PAD, WIDTH


def _record(name: str, ready: list[int]) -> VariantRecord:
    return VariantRecord(
        name, 50.0, replicas=list(ready), ready=list(ready), forecast_p50=[math.nan] * len(ready),
        forecast_upper=[math.nan] * len(ready),
    )  # fmt: skip


def test_under_provisioned_minutes_and_replica_hours_in_trace_time() -> None:
    demand = np.array([80.0, 120.0, 160.0, 90.0])
    late = _record("reactive", [2, 2, 3, 3])  # capacity 100, 100, 150, 150: short at steps 1 and 2
    early = _record("augur", [2, 4, 4, 3])
    s_late, s_early = (summarize(demand, r, 300.0) for r in (late, early))
    assert s_late.under_provisioned_minutes == pytest.approx(10.0)
    assert s_early.under_provisioned_minutes == 0.0
    assert s_late.replica_hours == pytest.approx(10 * 300 / 3600)
    assert s_early.replica_hours == pytest.approx(13 * 300 / 3600)
    line = summary_line([s_early, s_late])
    assert line.startswith("augur: 0 under-provisioned min, 1.1 replica-h; reactive: 10 under-provisioned min")


def test_observed_metrics_match_the_backtest_definition() -> None:
    # With ready replicas that follow the modelled lag, the live metrics equal compute_metrics'.
    demand = np.array([40.0, 90.0, 150.0, 150.0, 60.0])
    desired = [1, 3, 4, 4, 2]
    setup = backtest_setup(60.0, 50.0, policy_spec(lead_time="60s"))
    modelled = compute_metrics(demand, desired, setup, np.ones(5, dtype=bool))
    ready = [1, 1, 3, 4, 2]  # min over the lead window
    live = summarize(demand, VariantRecord("x", 50.0, replicas=desired, ready=ready), 60.0)
    assert live.metrics == modelled


def test_report_is_self_contained_html_with_both_variants() -> None:
    demand = np.array([80.0, 120.0, 160.0, 90.0])
    augur = _record("augur", [2, 4, 4, 3])
    augur.forecast_p50 = [90.0, 130.0, 150.0, 100.0]
    augur.forecast_upper = [110.0, 160.0, 180.0, 120.0]
    page = render_live_report(
        "augur demo", [0.0, 300.0, 600.0, 900.0], demand, [augur, _record("reactive", [2] * 4)], 300
    )
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "reactive: 10 under-provisioned min" in page


def test_staircase_holds_each_value_for_its_step_and_lifts_the_pen_at_gaps() -> None:
    path = _step_path(np.array([0.0, 10.0, math.nan, 10.0]), top=10.0)
    bottom, top_y, step = HEIGHT - PAD, PAD, (WIDTH - 2 * PAD) / 4
    x = [PAD + step * k for k in range(5)]
    assert path == (
        f"M{x[0]:.1f},{bottom:.1f} L{x[1]:.1f},{bottom:.1f} L{x[1]:.1f},{top_y:.1f} L{x[2]:.1f},{top_y:.1f} "
        f"M{x[3]:.1f},{top_y:.1f} L{x[4]:.1f},{top_y:.1f}"
    )
