"""The benchmarks' shared readers: bench/scrape.py (a /metrics page) and bench/procstat.py (/proc)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PAGE_BEFORE = """# HELP job_seconds How long a job took.
# TYPE job_seconds histogram
job_seconds_bucket{kind="a",le="0.1"} 1.0
job_seconds_bucket{kind="a",le="1.0"} 1.0
job_seconds_bucket{kind="a",le="+Inf"} 1.0
job_seconds_count{kind="a"} 1.0
job_seconds_sum{kind="a"} 0.05
job_seconds_bucket{kind="b",le="0.1"} 0.0
job_seconds_bucket{kind="b",le="1.0"} 0.0
job_seconds_bucket{kind="b",le="+Inf"} 0.0
job_seconds_count{kind="b"} 0.0
job_seconds_sum{kind="b"} 0.0
# HELP jobs_total Jobs by outcome.
# TYPE jobs_total counter
jobs_total{outcome="ok",verb="filter"} 3.0
jobs_total{outcome="error",verb="filter"} 1.0
# HELP backlog Jobs waiting.
# TYPE backlog gauge
backlog 7.0
"""

PAGE_AFTER = """# HELP job_seconds How long a job took.
# TYPE job_seconds histogram
job_seconds_bucket{kind="a",le="0.1"} 3.0
job_seconds_bucket{kind="a",le="1.0"} 5.0
job_seconds_bucket{kind="a",le="+Inf"} 5.0
job_seconds_count{kind="a"} 5.0
job_seconds_sum{kind="a"} 1.0
job_seconds_bucket{kind="b",le="0.1"} 0.0
job_seconds_bucket{kind="b",le="1.0"} 4.0
job_seconds_bucket{kind="b",le="+Inf"} 5.0
job_seconds_count{kind="b"} 5.0
job_seconds_sum{kind="b"} 9.0
# HELP jobs_total Jobs by outcome.
# TYPE jobs_total counter
jobs_total{outcome="ok",verb="filter"} 10.0
jobs_total{outcome="error",verb="filter"} 1.0
jobs_total{outcome="ok",verb="prioritize"} 2.0
# HELP backlog Jobs waiting.
# TYPE backlog gauge
backlog 2.0
"""


@pytest.fixture(scope="module")
def bench(bench_import: Callable[[str], ModuleType]) -> tuple[ModuleType, ModuleType]:
    return bench_import("scrape"), bench_import("procstat")


def test_totals_increases_and_labels_of_two_scrapes(bench: tuple[ModuleType, ModuleType]) -> None:
    scrape, _ = bench
    before, after = scrape.parse(PAGE_BEFORE), scrape.parse(PAGE_AFTER)
    assert scrape.total(after, "backlog") == 2.0
    assert scrape.total(after, "jobs_total") == 13.0
    assert scrape.total(after, "jobs_total", verb="filter") == 11.0
    assert scrape.total(after, "jobs_total", verb="filter", outcome="ok") == 10.0
    assert scrape.total(after, "no_such_metric") == 0.0
    assert scrape.increase(before, after, "jobs_total", outcome="ok") == 9.0
    # prioritize is new (counts from 0); error did not grow, so it is left out
    assert scrape.by_label(before, after, "jobs_total", "verb") == {"filter": 7, "prioritize": 2}
    assert scrape.by_label(before, after, "jobs_total", "outcome") == {"ok": 9}


def test_histogram_quantile_sums_the_other_labels_and_interpolates(bench: tuple[ModuleType, ModuleType]) -> None:
    scrape, _ = bench
    before, after = scrape.parse(PAGE_BEFORE), scrape.parse(PAGE_AFTER)
    # between the scrapes, summed over kind: le 0.1 -> 2 + 0, le 1.0 -> 4 + 4 = 8, +Inf -> 4 + 5 = 9 observations
    # p50: rank 4.5 falls in (0.1, 1.0] with 2 below it and 8 at its top: 0.1 + 0.9 * (4.5 - 2) / (8 - 2)
    assert scrape.histogram_quantile(before, after, "job_seconds", 0.5) == pytest.approx(0.1 + 0.9 * 2.5 / 6)
    # p10: rank 0.9 within the first bucket, from 0
    assert scrape.histogram_quantile(before, after, "job_seconds", 0.1) == pytest.approx(0.1 * 0.9 / 2)
    # p99: rank 8.91 beyond the last finite bucket: its upper bound, as PromQL answers
    assert scrape.histogram_quantile(before, after, "job_seconds", 0.99) == 1.0
    assert scrape.histogram_quantile(after, after, "job_seconds", 0.5) is None
    assert scrape.histogram_quantile(before, after, "no_such_seconds", 0.5) is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="/proc is Linux's")
def test_process_readers_see_this_process_and_a_child(bench: tuple[ModuleType, ModuleType]) -> None:
    _, procstat = bench
    before = procstat.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert procstat.cpu_seconds(os.getpid()) - before >= 0.2
    assert procstat.rss_mib(os.getpid()) > 1
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in procstat.tree(os.getpid())
        own = procstat.cpu_seconds(os.getpid())  # read first: this process keeps running between the reads
        assert procstat.cpu_seconds_with_children(os.getpid()) >= own
    finally:
        child.kill()
        child.wait()
    gone = child.pid
    assert procstat.cpu_seconds(gone) == 0.0 and procstat.rss_mib(gone) == 0.0
    cpu = procstat.machine_cpu()
    assert cpu["busy_cpu"] > 0 and cpu["steal"] >= 0


def test_burst_variants_take_turns_going_first(bench_import: Callable[[str], ModuleType]) -> None:
    """``bench/replay_burst.py`` rotates which variant runs first at each (order, repeat): over as many turns
    as variants each goes first once, and every turn runs each variant once."""
    turn_order = bench_import("replay_burst").turn_order
    names = ["a", "b", "c"]
    turns = [turn_order(names, t) for t in range(6)]
    assert [t[0] for t in turns] == ["a", "b", "c", "a", "b", "c"]
    assert all(sorted(t) == names for t in turns)
    assert turn_order(["x", "y"], 1) == ["y", "x"]


def test_replay_burst_decides_on_costs_and_a_scenario_whose_best_costs_nothing_counts(
    bench_import: Callable[[str], ModuleType],
) -> None:
    """``bench/replay_burst.py`` decides on mean and worst costs: a scenario whose best costs 0 counts as
    equal when both variants reach 0 and fails the rule when only the first does not."""
    mod = bench_import("replay_burst")

    def row(a: tuple[float, float], b: tuple[float, float]) -> dict[str, dict[str, float]]:
        return {"a": {"mean_cost": a[0], "worst_cost": a[1]}, "b": {"mean_cost": b[0], "worst_cost": b[1]}}

    equal_at_zero = row((0.0, 0.0), (0.0, 0.0))
    better = row((90.0, 100.0), (100.0, 100.0))
    decision = mod.decide([equal_at_zero, better], "a", "b")
    assert decision["geomean_mean_cost_a_over_b"] == round(0.9**0.5, 4)
    assert decision["a_passes"] is True
    lost_at_zero = row((5.0, 10.0), (0.0, 0.0))
    decision = mod.decide([lost_at_zero, better], "a", "b")
    assert decision["geomean_mean_cost_a_over_b"] is None
    assert decision["scenarios_whose_worst_run_is_worse"] == 1 and decision["worse_above"] == 1.10
    assert decision["a_passes"] is False
    tail = row((95.0, 120.0), (100.0, 100.0))  # 20 % worse worst run: fails at 1.10, passes at 1.25
    assert mod.decide([tail], "a", "b")["a_passes"] is False
    assert mod.decide([tail], "a", "b", 1.25)["a_passes"] is True
    mean_up = row((115.0, 115.0), (100.0, 100.0))  # 15 % worse on average, lifted by a scenario 30 % better
    lifted = [mean_up, row((70.0, 70.0), (100.0, 100.0))]
    assert mod.decide(lifted, "a", "b", 1.25)["a_passes"] is True
    decision = mod.decide(lifted, "a", "b", 1.25, 1.10)
    assert decision["scenarios_whose_mean_is_worse"] == 1 and decision["mean_above"] == 1.10
    assert decision["a_passes"] is False
    assert "mean_above" not in mod.decide(lifted, "a", "b")


def test_replay_burst_judges_refresh_mechanism_only_where_the_refresh_can_act(
    bench_import: Callable[[str], ModuleType],
) -> None:
    """``--compare refresh_mechanism``: a scenario counts when a refresh fired, a pod met a stale plan or a full
    plan finished in any of its runs; the rule is judged on those only, and fails when there are none."""
    mod = bench_import("replay_burst")

    def row(name: str, a: float, b: float, **seen: dict[str, int]) -> dict[str, Any]:
        runs = [{"plans": seen.get("plans", {}), "scored_by_plan": seen.get("scored_by_plan", {})}]
        return {
            "family": name,
            "size": 100,
            "runs": runs,
            "a": {"mean_cost": a, "worst_cost": a},
            "b": {"mean_cost": b, "worst_cost": b},
        }

    quiet = row("quiet", 150.0, 100.0, plans={"provisional": 3}, scored_by_plan={"absent": 4, "provisional": 96})
    refreshed = row("refreshed", 80.0, 100.0, plans={"provisional": 4, "refreshed": 1})
    stale = row("stale", 90.0, 100.0, scored_by_plan={"stale": 2})
    finished = row("finished", 95.0, 100.0, plans={"full": 1})
    assert [mod.affected(r) for r in (quiet, refreshed, stale, finished)] == [False, True, True, True]
    rows = [quiet, refreshed, stale, finished]
    judged = [r for r in rows if mod.affected(r)]
    decision = mod.decide_judged(judged, rows, ["a", "b"], (1.25, 1.10))
    assert decision["a_passes"] is True and decision["judged_scenarios"] == [
        "refreshed 100",
        "stale 100",
        "finished 100",
    ]
    assert mod.decide(rows, "a", "b", 1.25, 1.10)["a_passes"] is False  # the quiet scenario's 1.5 would fail it
    assert mod.decide_judged([], rows, ["a", "b"], (1.25, 1.10)) == {"judged_scenarios": [], "a_passes": False}
    assert "judged_scenarios" not in mod.decide_judged(rows, rows, ["a", "b"], (1.25, None))
    assert mod._ratio(0.0, 0.0) == 1.0 and mod._ratio(3.0, 0.0) is None and mod._ratio(3.0, 2.0) == 1.5


def test_replay_burst_same_config_splits_counts_the_splits_a_no_op_fails(
    bench_import: Callable[[str], ModuleType],
) -> None:
    """``same_config_splits``: four runs of two identical variants costing 1, 1, 1 and 2 split into halves
    of two: the half holding the 2 is worse in 3 of the 6 ordered splits, mean ratios 1.5 or 1/1.5."""
    mod = bench_import("replay_burst")
    runs = [{"variant": v, "cost": c} for v, c in (("a", 1.0), ("b", 1.0), ("a", 1.0), ("b", 2.0))]
    out = mod.same_config_splits([{"family": "f", "size": 4, "runs": runs}], ("a", "b"))
    (scenario,) = out["scenarios"]
    assert scenario["ordered_splits"] == 6 and scenario["worst_run_worse_fraction"] == 0.5
    assert scenario["mean_ratio_range"] == [round(1 / 1.5, 4), 1.5]
    assert out["p_no_scenario_worst_run_worse"] == 0.5
    assert abs(out["p_geomean_below_1"] - 0.5) < 0.02
    assert abs(out["p_noop_passes"] - 0.5 * out["p_geomean_below_1"]) < 1e-3


def test_code_version_names_the_commit_at_the_start_and_a_later_one(
    bench_import: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    """A result names the commit checked out when the benchmark started; one checked out by its end is named
    ``commit_at_end`` and marks the code as modified; uncommitted code at either end marks it too."""
    common = bench_import("common")

    def git(*args: str) -> str:
        cmd = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    (tmp_path / "operator").mkdir()
    git("init", "-q")
    (tmp_path / "operator" / "a.py").write_text("a = 1\n")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    first = git("rev-parse", "--short", "HEAD")
    assert common.code_version(tmp_path) == {"commit": first, "code_modified": False}  # no start recorded
    common._AT_START[tmp_path.resolve()] = common._version_now(tmp_path)
    try:
        assert common.code_version(tmp_path) == {"commit": first, "code_modified": False}
        (tmp_path / "operator" / "a.py").write_text("a = 2\n")
        assert common.code_version(tmp_path) == {"commit": first, "code_modified": True}
        git("commit", "-q", "-am", "second")
        second = git("rev-parse", "--short", "HEAD")
        assert common.code_version(tmp_path) == {"commit": first, "commit_at_end": second, "code_modified": True}
    finally:
        del common._AT_START[tmp_path.resolve()]


def test_rebalance_bench_rejects_a_bad_rebalancer_with_one_line(bench_import: Callable[[str], ModuleType]) -> None:
    mod = bench_import("rebalance_bench")
    assert mod.parse_rebalancer("augur") == ("augur", None)
    assert mod.parse_rebalancer("descheduler") == ("descheduler", None)
    assert mod.parse_rebalancer("descheduler:150") == ("descheduler", 150.0)
    for bad, says in (
        ("descheduler:abc", "must be a positive number"),
        ("descheduler:0", "must be a positive number"),
        ("descheduler:nan", "must be a positive number"),
        ("descheduler:", "must be a positive number"),
        ("augur:5", "unknown rebalancer 'augur:5'"),
        ("kube-scheduler", "unknown rebalancer"),
    ):
        with pytest.raises(SystemExit, match=says):
            mod.parse_rebalancer(bad)
