"""``augur placement replay`` on the real kube-scheduler: the shipped three-tier scenario replayed with the
extender matches the simulator's prediction, scheduling survives a frozen and then a killed extender, and
the cost does not depend on the order the nodes are listed in.

The module runs its own control plane without nodes (as ``augur placement replay`` does without
``--kubeconfig``): the session cluster's six nodes would be seen by the extender's planner too."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from augur.devcluster.placement_replay import (
    HARD_RULES_EXTENDER,
    SHIPPED_EXTENDER,
    ReplayOptions,
    ReplaySession,
    replay_cluster,
    replay_report,
)
from augur.devcluster.tools import Tools
from augur.sim.placement import Scenario, parse_scenario, simulate

from .conftest import REPO

SCENARIO = REPO / "examples" / "placement" / "three-tier.yaml"
TOLERANCE = 0.10


def three_tier() -> Scenario:
    import yaml

    return parse_scenario(yaml.safe_load(SCENARIO.read_text()))


Cluster = tuple[Path, Tools]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with replay_cluster(None, tmp_path_factory.mktemp("replay")) as (kubeconfig, tools):
        yield kubeconfig, tools


def session(cluster: Cluster, tmp_path: Path, sc: Scenario, **options: object) -> ReplaySession:
    kubeconfig, tools = cluster
    return ReplaySession(sc, kubeconfig, tmp_path, tools, ReplayOptions(**options), print)  # type: ignore[arg-type]


def within(a: float, b: float, tolerance: float = TOLERANCE) -> bool:
    return abs(a - b) <= tolerance * max(a, b, 1e-9)


def test_replay_matches_the_simulator_and_beats_the_default_scheduler(cluster: Cluster, tmp_path: Path) -> None:
    sc = three_tier()
    with session(cluster, tmp_path, sc) as s:
        outcomes = {v: s.run_pass(v) for v in ("augur", "default")}
        nodes_listed = s.names.nodes
    report = replay_report(sc, outcomes, search_rounds=50)
    predicted = simulate(sc, search_rounds=50)
    print({k: report[k]["network_cost"] for k in ("augur", "default", "best")}, predicted["augur"]["network_cost"])
    assert set(report) >= {"augur", "default", "best"}
    assert report["augur"]["unplaced"] == report["default"]["unplaced"] == 0
    assert len(report["augur"]["assignment"]) == sum(w.replicas for w in sc.workloads)
    assert set(report["augur"]["assignment"].values()) <= {n.name for n in sc.nodes}
    assert all(n.startswith(f"replay-{s.names.run}-") for n in nodes_listed)
    # db avoids west-a (soft): with the extender it never lands there.
    west = {n.name for n in sc.nodes if n.zone == "west-a"}
    assert not {node for pod, node in report["augur"]["assignment"].items() if pod.startswith("db-")} & west
    assert within(report["augur"]["network_cost"], predicted["augur"]["network_cost"]), (report, predicted["augur"])
    assert report["augur"]["network_cost"] * 1.5 <= report["default"]["network_cost"]
    assert report["best"]["network_cost"] <= report["augur"]["network_cost"] + 1e-6


@pytest.mark.parametrize("entry", [SHIPPED_EXTENDER, HARD_RULES_EXTENDER], ids=["shipped", "with_filter"])
def test_scheduling_goes_on_when_the_extender_is_frozen_then_killed(
    cluster: Cluster, tmp_path: Path, entry: dict[str, object]
) -> None:
    """ignorable + httpTimeout: a frozen extender (SIGSTOP) makes calls time out, a dead one refuses them;
    either way every pod is still bound, and the extender scores again after it resumes. With the shipped
    entry (prioritize only) kube-scheduler ignores the failed calls without a word at its default verbosity;
    with the filter verb too, it logs each skipped call (``ignorable``)."""
    sc = three_tier()
    events: list[str] = []
    scored: list[float] = []

    def chaos(index: int, s: ReplaySession) -> None:
        assert s.extenders is not None and len(s.extenders.procs) == 1
        if index in (2, 7):
            scored.append(_prioritize_calls(s.extender_url))
        if index == 2:
            os.kill(s.extenders.procs[0].pid, signal.SIGSTOP)
            events.append("frozen")
        elif index == 4:
            os.kill(s.extenders.procs[0].pid, signal.SIGCONT)
            events.append("resumed")
        elif index == 8:
            s.extenders.procs[0].stop()
            events.append("killed")

    with session(cluster, tmp_path, sc, bind_timeout=20.0, plan_timeout=2.0, extender=entry) as s:
        outcome = s.run_pass("augur", on_pod=chaos)
        log = (tmp_path / "logs" / f"kube-scheduler-{s.names.run}-augur.log").read_text()
    assert events == ["frozen", "resumed", "killed"]
    assert outcome.unplaced == 0 and len(outcome.assignment) == sum(w.replicas for w in sc.workloads)
    assert 0 < scored[0] < scored[1], scored  # it scored before it froze and again after it resumed
    if "filterVerb" in entry:
        # kube-scheduler saw the failures (timeouts, then refused connections) and went on without them.
        assert "Skipping extender" in log and "Timeout" in log and "connection refused" in log, log[-3000:]


def test_scheduling_goes_on_when_the_planner_is_slow_then_crashes(cluster: Cluster, tmp_path: Path) -> None:
    """With ``--planner-process`` the planner's search runs in a child of the extender: frozen (SIGSTOP, a
    planner that falls behind) the plan goes stale and scores fall back; killed, the failure is counted and
    a new child plans again. Every pod is bound either way, and the extender keeps answering with its own
    scores throughout.

    The planner finds out about its child only when it next hands it an update, after the pause that
    follows each plan (up to ``maxAgeSeconds / 2``, longer after an expensive plan): so the test waits for
    each effect (a stale plan while frozen; the failure counted and a new child's plan after the kill)
    instead of assuming it happened within a number of pods."""
    sc = three_tier()
    pods = sum(w.replicas for w in sc.workloads)
    events: list[str] = []
    planners: list[int] = []
    states: list[str] = []
    metrics: dict[str, float] = {}
    full_plans: list[float] = []

    def chaos(index: int, s: ReplaySession) -> None:
        assert s.extenders is not None and len(s.extenders.procs) == 1
        if index == 2:
            planners.append(_planner_child(s.extenders.procs[0].pid))
            os.kill(planners[-1], signal.SIGSTOP)
            events.append("frozen")
        elif index == 4:  # pods were created and bound since the freeze: the plan ages past maxAgeSeconds
            states.append(_wait_for(lambda: _plan_state(s) == "stale", "a stale plan", s))
        elif index == 5:
            full_plans.append(_metric_values(s.extender_url).get('augur_extender_plans_total{kind="full"}', 0))
            os.kill(planners[-1], signal.SIGKILL)
            events.append("killed")
        elif index == pods - 1:  # the last pod is bound: read the extender before the pass stops it
            _wait_for(lambda: _replanned(s.extender_url, full_plans[0]), "a counted failure and a new plan", s)
            metrics.update(_metric_values(s.extender_url))
            planners.append(_planner_child(s.extenders.procs[0].pid))

    with session(cluster, tmp_path, sc, bind_timeout=20.0, plan_timeout=3.0, extender_args=("--planner-process",)) as s:
        outcome = s.run_pass("augur", on_pod=chaos)
    successor = planners[-1]
    assert events == ["frozen", "killed"]
    assert states == ["stale"]
    assert outcome.unplaced == 0 and len(outcome.assignment) == pods
    assert metrics.get('augur_extender_plans_total{kind="failed"}', 0) >= 1, metrics
    assert successor != planners[0]  # a new planner process replaced the killed one
    scored = metrics.get('augur_extender_requests_total{outcome="scored",verb="prioritize"}', 0)
    assert scored >= pods, metrics  # no error, no neutral fallback of the verb


WAIT_SECONDS = 90.0
"""Longest wait for a planner effect: maxAgeSeconds (10) plus the planner's pause and a new child's start
(imports and a full plan at nice 19 on a loaded machine)."""


def _wait_for(check: Callable[[], bool], what: str, s: ReplaySession) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT_SECONDS:g} s: {_metric_values(s.extender_url)}")
        time.sleep(0.25)
    return _plan_state(s)


def _plan_state(s: ReplaySession) -> str:
    """The plan's state in the extender's explanation of a pod of the pass (``current``, ``stale``, ``absent``)."""
    ns = s.names.namespace("augur")
    name = s.kube.list_pods(ns)["items"][0]["metadata"]["name"]
    body = httpx.get(f"{s.extender_url}/debug/pods/{ns}/{name}", timeout=5).json()
    return str(body["plan"]["state"])


def _replanned(url: str, full_before: float) -> bool:
    """The killed child's failure is counted and a new child has made a full plan since."""
    values = _metric_values(url)
    failed = values.get('augur_extender_plans_total{kind="failed"}', 0)
    return failed >= 1 and values.get('augur_extender_plans_total{kind="full"}', 0) > full_before


def _planner_child(pid: int) -> int:
    """The extender's planner process: its ``multiprocessing`` spawn child (not the resource tracker)."""
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline:  # a dead child not reaped yet (zombie) has an empty command line
                return int(child)
    raise AssertionError(f"no planner process under the extender (pid {pid})")


def _metric_values(url: str) -> dict[str, float]:
    out = {}
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("augur_extender_") and "{" in line:
            name, value = line.rsplit(" ", 1)
            labels = ",".join(sorted(name[name.index("{") + 1 : -1].split(",")))
            out[f"{name[: name.index('{')]}{{{labels}}}"] = float(value)
    return out


def _prioritize_calls(url: str) -> float:
    lines = httpx.get(f"{url}/metrics", timeout=5).text.splitlines()
    return sum(
        float(line.split()[-1])
        for line in lines
        if line.startswith("augur_extender_requests_total{") and 'verb="prioritize"' in line
    )


def test_shuffled_node_order_gives_the_same_cost(cluster: Cluster, tmp_path: Path) -> None:
    sc = three_tier()
    order = list(range(len(sc.nodes)))
    random.Random(7).shuffle(order)
    costs = []
    for i, node_order in enumerate((tuple(range(len(sc.nodes))), tuple(reversed(order)))):
        with session(cluster, tmp_path / str(i), sc, node_order=node_order, variants=("augur",)) as s:
            outcome = s.run_pass("augur")
        costs.append(replay_report(sc, {"augur": outcome}, search_rounds=0)["augur"]["network_cost"])
    print("costs by node order", costs)
    assert within(costs[0], costs[1]), costs


@pytest.mark.parametrize("mode", [{"wait_for_plan": False}, {"burst": True}], ids=["one-by-one", "burst"])
def test_ungated_arrivals_place_every_pod(cluster: Cluster, tmp_path: Path, mode: dict[str, bool]) -> None:
    """Without the plan gate (``--no-wait-for-plan``: one pod at a time; ``--burst``: every Deployment scaled
    at once) no pod carries the scheduling gate and every pod is placed (before, ``--no-wait-for-plan``
    created gated pods it never released: none was scheduled)."""
    sc = three_tier()
    started = time.monotonic()
    with session(cluster, tmp_path, sc, variants=("augur",), bind_timeout=60.0, **mode) as s:
        assert not s._gated()
        outcome = s.run_pass("augur")
    report = replay_report(sc, {"augur": outcome}, search_rounds=0)
    print(mode, "network cost", report["augur"]["network_cost"], "in", round(time.monotonic() - started, 1), "s")
    assert outcome.unplaced == 0
    assert sorted(outcome.assignment) == sorted(pod for _, pod in sc.pods())
    assert set(outcome.assignment.values()) <= {n.name for n in sc.nodes}


@pytest.mark.parametrize("how", [{"plan_gate": True}, {"gate_webhook": True}], ids=["template", "webhook"])
def test_a_burst_behind_the_plan_gate_follows_the_final_plan(
    cluster: Cluster, tmp_path: Path, how: dict[str, bool]
) -> None:
    """Every Deployment scaled at once with the plan gate (``augur.dev/plan``) in its pod template, or added by
    the chart's admission webhook (the extender over HTTPS, kube-scheduler calling it with the replay's CA): the
    extender's gate keeper lets each pod through once its final plan has a slot for it, so the burst costs what
    the simulator predicts for pods that follow the plan (without the gate, 10x the best in the e2e run of
    2026-12-04), and every pod is placed."""
    sc = three_tier()
    started = time.monotonic()
    with session(cluster, tmp_path, sc, variants=("augur",), bind_timeout=60.0, burst=True, **how) as s:
        assert not s._gated()  # the replay's own gate is not used: only the product's
        outcome = s.run_pass("augur")
        gate = s.gate["augur"]
    report = replay_report(sc, {"augur": outcome}, search_rounds=0)
    predicted = simulate(sc, search_rounds=50)
    cost = report["augur"]["network_cost"]
    print("plan gate", gate, "network cost", cost, "in", round(time.monotonic() - started, 1), "s")
    assert outcome.unplaced == 0
    assert sorted(outcome.assignment) == sorted(pod for _, pod in sc.pods())
    pods = sum(w.replicas for w in sc.workloads)
    assert gate.get("planned", 0) + gate.get("deadline", 0) == pods, gate
    assert gate.get("planned", 0) >= 1 and "unplanned" not in gate, gate
    assert within(cost, predicted["augur"]["network_cost"]), (cost, predicted["augur"]["network_cost"])


def test_sessions_back_to_back_remove_their_crds_and_reinstall_one_still_being_deleted(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A session removes the CRDs it installed and waits until they are gone; a session that finds a CRD
    still being deleted waits for it and installs it anew (before, it counted as present and its API
    vanished under the next session: a WorkloadProfile create answered 404 in a three-order bench run)."""
    import yaml

    from augur.api import KINDS
    from augur.api.crdgen import render_all
    from augur.devcluster.replay_kube import CRDS, KubeSession

    names = [yaml.safe_load(text)["metadata"]["name"] for text in render_all(KINDS).values()]
    kube = KubeSession(cluster[0])
    try:
        with session(cluster, tmp_path / "first", three_tier(), variants=("augur",)):
            pass
        assert [n for n in names if kube._crd(n) is not None] == []  # gone when the session is
        assert kube.ensure_crds() == names
        kube.rest.request("DELETE", f"{CRDS}/{names[0]}")  # no wait: it may still be there, being deleted
        assert kube.ensure_crds() == [names[0]]
        crd = kube._crd(names[0])
        assert crd is not None and not crd["metadata"].get("deletionTimestamp")
        kube.delete_crds(names)
        assert [n for n in names if kube._crd(n) is not None] == []
    finally:
        kube.delete_crds(names)
        kube.close()


def test_cli_rejects_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes: [{name: n1, cpu: 1, memory: 1}]\nworkloads: [{name: Web_1, replicas: 1}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "augur", "placement", "replay", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "workloads[0]" in result.stderr, result.stderr
