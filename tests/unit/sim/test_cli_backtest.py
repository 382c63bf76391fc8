"""``augur backtest``: the JSON contract and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from augur.cli.main import main

SPIKE = [8, 8, 40, 40, 40, 8, 8, 8, 8, 8, 8, 8]
KEYS = {
    "under_provisioned_steps",
    "under_provisioned_fraction",
    "unserved_fraction",
    "replica_hours",
    "mean_utilization",
    "scale_events",
}


def _trace(tmp_path: Path, values: list[float], step: int = 60) -> Path:
    path = tmp_path / "trace.csv"
    rows = [f"{1_700_000_000 + step * i},{v}" for i, v in enumerate(values)]
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    return path


def test_json_matches_the_hand_computed_yardsticks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _trace(tmp_path, SPIKE)
    code = main(["backtest", str(path), "--capacity", "10", "--policies", "hpa,oracle", "--warmup", "0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {
        "trace", "interval_seconds", "evaluated_steps", "capacity", "target_utilization",
        "lead_time_seconds", "refit_interval", "history", "policies", "forecast", "hpa_matched", "comparisons",
        "curve", "bootstrap",
    }  # fmt: skip
    assert out["evaluated_steps"] == 12
    assert out["lead_time_seconds"] == 120.0
    assert set(out["policies"]["hpa"]) == KEYS
    assert out["policies"]["hpa"]["under_provisioned_fraction"] == 0.25
    assert out["policies"]["hpa"]["unserved_fraction"] == 90 / 192
    assert out["policies"]["hpa"]["under_provisioned_steps"] == 3
    assert out["policies"]["oracle"]["under_provisioned_fraction"] == 0.0
    assert out["forecast"] == {}
    assert out["hpa_matched"] is None and out["comparisons"] == {} and out["curve"] == {}


def test_honest_yardsticks_in_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _trace(tmp_path, SPIKE)
    policies = "augur,hpa,hpa_matched,oracle_floor"
    assert main(["backtest", str(path), "--capacity", "10", "--policies", policies, "--warmup", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # oracle_floor: 4 replicas (40 / 10 at u = 1) over steps 0-4, then 1: 27 replica-minutes, never short.
    assert out["policies"]["oracle_floor"]["replica_hours"] == 27 / 60
    assert out["policies"]["oracle_floor"]["under_provisioned_steps"] == 0
    # 12 steps are too few for a first fit: augur is the HPA rule here, so hpa_matched needs no lowering.
    assert out["policies"]["augur"] == out["policies"]["hpa"]
    assert out["hpa_matched"]["target_utilization"] == 0.8
    assert out["hpa_matched"]["reached"] is True
    ratio = out["comparisons"]["augur/hpa"]
    assert ratio["under_provisioned"] == {"value": 1.0, "interval90": [1.0, 1.0]}
    assert ratio["replica_hours"]["value"] == 1.0
    assert out["comparisons"]["augur/oracle_floor"]["under_provisioned"]["value"] is None  # 3 / 0
    assert out["bootstrap"]["block_steps"] == 3  # max(L + 1, round(sqrt(12)))
    main(["backtest", str(path), "--capacity", "10", "--policies", "hpa,hpa_matched"])
    assert "run augur too" in capsys.readouterr().err


def test_warmup_fraction_and_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _trace(tmp_path, SPIKE)
    main(["backtest", str(path), "--capacity", "10", "--policies", "hpa", "--warmup", "0.5", "--json"])
    assert json.loads(capsys.readouterr().out)["evaluated_steps"] == 6
    main(["backtest", str(path), "--capacity", "10", "--policies", "hpa", "--warmup", "3m", "--json"])
    assert json.loads(capsys.readouterr().out)["evaluated_steps"] == 9


def test_forecasting_policies_report_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = np.arange(600)
    values = (100 + 40 * np.sin(2 * np.pi * t / 60) + np.random.default_rng(1).normal(0, 3, t.size)).round(2)
    path = _trace(tmp_path, values.tolist(), step=60)
    report = tmp_path / "r.html"
    code = main(["backtest", str(path), "--capacity", "10", "--json", "--report", str(report)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out["policies"]) == {
        "augur", "hpa", "hpa_matched", "oracle", "oracle_floor", "seasonal_naive", "holt_winters",
    }  # fmt: skip
    assert set(out["forecast"]) == {"augur", "seasonal_naive", "holt_winters"}
    assert out["forecast"]["augur"]["rmae"] < 1.0
    assert out["policies"]["oracle"]["under_provisioned_fraction"] == 0.0
    page = report.read_text()
    assert page.startswith("<!doctype html>")
    # the cost curve, demand vs capacity per policy, forecast bands per forecaster
    assert page.count("<svg") == 1 + 7 + 3
    assert "cost curve" in page
    budgets = [p["headroom_budget"] for p in out["curve"]["augur"]]
    assert budgets == [0.0, 0.025, 0.05, 0.1, 0.25, 1.0]
    assert out["curve"]["hpa"][0]["target_utilization"] == 0.5
    hpa_at_default = next(p for p in out["curve"]["hpa"] if p["target_utilization"] == 0.8)
    assert hpa_at_default["replica_hours"] == out["policies"]["hpa"]["replica_hours"]
    augur_at_default = next(p for p in out["curve"]["augur"] if p["headroom_budget"] == 0.25)
    assert augur_at_default["replica_hours"] == out["policies"]["augur"]["replica_hours"]
    assert "augur/hpa_matched" in page
    assert "under-provisioned" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_the_policys_refit_interval_and_history_set_the_walks_refits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = np.arange(600)
    values = (100 + 40 * np.sin(2 * np.pi * t / 60) + np.random.default_rng(1).normal(0, 3, t.size)).round(2)
    path = _trace(tmp_path, values.tolist(), step=60)
    fits = {}
    for refit in ("1h", "3h"):
        args = ["backtest", str(path), "--capacity", "10", "--json", "--no-curve", "--policies", "augur"]
        assert main([*args, "--refit-interval", refit, "--history", "8h"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["refit_interval"], out["history"]) == (refit, "8h")
        fits[refit] = out["forecast"]["augur"]["fits"]
    # 600 one-minute steps, the first fit at 120 (the default warm-up: 20 % of the steps, two 60-step seasons).
    # 1 h: every 60 steps, 120 ... 540 (8 fits). 3 h: 240 (the 480 points held have doubled since the fit at
    # 120) and 420, 180 steps later (3 fits).
    assert fits == {"1h": 8, "3h": 3}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--capacity", "0"], "--capacity must be a positive number"),
        (["--capacity", "-3"], "--capacity must be a positive number"),
        (["--capacity", "10", "--lead-time", "soon"], "--lead-time"),
        (["--capacity", "10", "--warmup", "later"], "--warmup"),
        (["--capacity", "10", "--policies", "magic"], "unknown policy"),
        (["--capacity", "10", "--headroom-budget", "-1"], "--headroom-budget must be"),
        (["--capacity", "10", "--headroom-budget", "11"], "--headroom-budget must be"),
        (["--capacity", "10", "--headroom-budget", "lots"], "--headroom-budget must be"),
        (["--capacity", "10", "--replica-hour-cost", "-2"], "--replica-hour-cost must be"),
        (["--capacity", "10", "--refit-interval", "soon"], "--refit-interval must be"),
        (["--capacity", "10", "--history", "forever"], "--history must be"),
        (["--capacity", "10", "--under-provisioned-minute-cost", "nan"], "--under-provisioned-minute-cost must be"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    path = _trace(tmp_path, SPIKE)
    assert main(["backtest", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("timestamp,value\n0,1\n60,x\n", "non-numeric"),
        ("timestamp,value\nnoon,1\n", "unparseable timestamp"),
        ("timestamp,value\n0,1\n60,2\n", "too few points"),
    ],
)
def test_bad_traces_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    assert main(["backtest", str(path), "--capacity", "5", "--json"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
