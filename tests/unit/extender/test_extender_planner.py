"""The background planner: requests read its plan, never wait for it, and fall back when it is stale,
absent or failing; outcomes in /metrics say what happened; node watch order does not matter."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from augur.placement import ScoringConfig
from augur.placement.plan import Plan
from augur_extender import service
from augur_extender.app import create_app
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.inflight import InFlightMiddleware, wait_while_busy
from augur_extender.kubeobjects import pod_facts
from augur_extender.planner_process import Patience, PlannerProcess, PlannerProcessError
from augur_extender.planning import BackgroundPlanner
from augur_extender.settings import Settings
from augur_extender.verbs import VerbFastPath, answer
from augur_extender.wire import parse_extender_args

from .extender_objects import ZONES, fill, node, pod, profile


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def planned_cache() -> MemoryCache:
    """``fill`` plus three web replicas expected (status) and a batch workload competing for room on b1."""
    cache = MemoryCache()
    fill(cache)
    web = profile("web", {"dependencies": [{"name": "api", "traffic": 100}]}, selector="app=web")
    web["status"] = {"desiredReplicas": 3}
    cache.apply("workloadprofiles", "MODIFIED", web)
    return cache


def state(cache: MemoryCache, clock: Clock | None = None, planner: bool = True) -> ExtenderState:
    st = ExtenderState.build(cache, Settings(planner=planner, planner_process=False))
    if st.planner is not None and clock is not None:
        st.planner.clock = clock
    return st


def args(name: str = "web-0", app: str = "web") -> Any:
    return parse_extender_args(orjson.dumps({"Pod": pod(name, app), "NodeNames": list(ZONES)}))


def test_a_current_plan_guides_scores_and_shows_in_the_explanation() -> None:
    cache, clock = planned_cache(), Clock()
    st = state(cache, clock)
    assert st.planner is not None
    plan = st.planner.run_once()
    assert plan is not None and plan.workloads == ("shop/api", "shop/web")
    body = st.scheduler.explain(pod_facts(pod("web-0", "web")))
    assert body["plan"]["state"] == "current" and body["plan"]["ageSeconds"] == 0.0
    slots = {n["node"]: n["planSlots"] for n in body["nodes"]}
    assert sum(slots.values()) == 3  # three web replicas expected, none running
    best = body["nodes"][0]
    assert best["planSlots"] > 0 and best["components"]["plan"]["raw"] == 100.0
    assert {n["planAgeSeconds"] for n in body["nodes"]} == {0.0}  # the plan's age on every node's breakdown
    assert best["components"]["plan"]["contribution"] > 0


def test_a_stale_plan_is_not_used_and_scoring_falls_back() -> None:
    cache, clock = planned_cache(), Clock()
    st, plain = state(cache, clock), state(cache, planner=False)
    assert st.planner is not None and st.planner.run_once() is not None
    cache.apply("pods", "ADDED", pod("other-0", "other", "a1"))  # the cache moves on, the planner does not
    clock.now += 5
    assert st.planner.lookup(cache.view()) is not None  # younger than maxAgeSeconds: still current
    clock.now += 60
    assert st.planner.lookup(cache.view()) is None
    body = st.scheduler.explain(pod_facts(pod("web-0", "web")))
    assert body["plan"]["state"] == "stale"
    assert {n["components"]["plan"]["raw"] for n in body["nodes"]} == {100.0}
    assert {n["planAgeSeconds"] for n in body["nodes"]} == {None}
    assert st.scheduler.prioritize(args()) == plain.scheduler.prioritize(args())


def test_metrics_count_the_plan_each_scored_prioritize_saw() -> None:
    """``augur_extender_prioritize_plans``: absent before the first plan, current after it, stale once it no
    longer holds for the view, provisional for the best-so-far plan of a full plan under way; a pod without a
    profile is not counted (neutral)."""
    cache, clock = planned_cache(), Clock()
    st = state(cache, clock)
    assert st.planner is not None
    counted = st.metrics.prioritize_plans
    body = orjson.dumps({"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)})
    assert answer(st, "prioritize", body)[0] == 200
    plan = st.planner.run_once()
    assert plan is not None
    assert answer(st, "prioritize", body)[0] == 200
    assert answer(st, "prioritize", orjson.dumps({"Pod": pod("x-0", "unprofiled"), "NodeNames": list(ZONES)}))[0] == 200
    cache.apply("pods", "ADDED", pod("other-0", "other", "a1"))  # the cache moves on, the planner does not
    clock.now += 60  # past maxAgeSeconds
    assert answer(st, "prioritize", body)[0] == 200
    assert {k: counted.labels(k)._value.get() for k in ("absent", "stale", "current", "provisional")} == {
        "absent": 1.0,
        "stale": 1.0,
        "current": 1.0,
        "provisional": 0.0,
    }
    assert st.metrics.requests.labels("prioritize", "neutral")._value.get() == 1.0
    assert service._plan_use(replace(plan, provisional=True), True) == "provisional"
    assert service._plan_use(None, False) == "absent" and service._plan_use(None, True) == "stale"


def test_refreshed_provisional_plans_are_counted_apart_and_as_provisional() -> None:
    """``augur_extender_plans{kind="refreshed"}`` (``plan.refreshProvisionalPlans``) counts the provisional
    plans handed over again, which also count as provisional."""
    cache, clock = planned_cache(), Clock()
    st = state(cache, clock)
    assert st.planner is not None
    plan = st.planner.run_once()
    assert plan is not None
    kinds, counts = st.metrics.plans, st.planner.counts
    before = kinds.labels("provisional")._value.get(), counts["provisional"]
    assert kinds.labels("refreshed")._value.get() == 0 and counts["refreshed"] == 0
    st.planner._provisional(replace(plan, provisional=True))
    st.planner._provisional(replace(plan, provisional=True, refreshed=True))
    assert kinds.labels("provisional")._value.get() == before[0] + 2 and counts["provisional"] == before[1] + 2
    assert kinds.labels("refreshed")._value.get() == 1 and counts["refreshed"] == 1


def test_a_full_plan_is_repaired_at_once_when_pods_were_bound_while_it_searched() -> None:
    """``repairAfterFullPlan`` (default on): after a full plan, a change in the cache since its view (a pod
    bound during the search) calls for an immediate repair, which is incremental and accounts for the pod;
    no change, a repair, or the setting off: the usual pause."""
    cache = planned_cache()
    st = state(cache, Clock())
    planner = st.planner
    assert planner is not None and planner.args.repair_after_full_plan
    cache.wait_for_change(timeout=0)  # the fill's changes, seen by the planner's first wait
    full = planner.run_once()
    assert full is not None and not full.incremental
    assert not planner.repair_due(full)  # nothing changed while it searched
    cache.apply("pods", "MODIFIED", pod("web-0", "web", "a1"))  # bound meanwhile
    assert planner.repair_due(full)
    repaired = planner.run_once()
    assert repaired is not None and repaired.incremental
    assert repaired.slots("shop/web", cache.view().snapshot) is not None
    cache.apply("pods", "ADDED", pod("web-1", "web", "a1"))
    assert not planner.repair_due(repaired)  # repairs are followed by the usual pause
    off = ScoringConfig(plan=replace(ScoringConfig().plan, repair_after_full_plan=False))
    quiet = ExtenderState.build(cache, Settings(scoring=off, planner_process=False)).planner
    assert quiet is not None
    cache.wait_for_change(timeout=0)
    plan = quiet.run_once()
    cache.apply("pods", "ADDED", pod("web-2", "web", "a2"))
    assert plan is not None and not plan.incremental and not quiet.repair_due(plan)


def test_a_failing_planner_never_blocks_scoring(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = planned_cache()
    st, plain = state(cache, Clock()), state(cache, planner=False)
    assert st.planner is not None

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("planner crashed")

    monkeypatch.setattr(st.planner._engine(), "update", boom)
    assert st.planner.run_once() is None
    assert st.planner.counts["failed"] == 1
    assert st.scheduler.prioritize(args()) == plain.scheduler.prioritize(args())
    assert st.scheduler.explain(pod_facts(pod("web-0", "web")))["plan"]["state"] == "absent"
    assert st.metrics.plans.labels("failed")._value.get() == 1.0


def test_the_planner_thread_replans_after_cache_changes() -> None:
    cache = planned_cache()
    planner = BackgroundPlanner(cache, Settings().scoring.plan, interval=0.0)
    planner.start()
    try:
        deadline = time.monotonic() + 60  # generous: the machine may be saturated by other jobs
        while planner.lookup(cache.view()) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first = planner.lookup(cache.view())
        assert first is not None
        cache.apply("pods", "ADDED", pod("web-1", "web", "b1"))
        deadline = time.monotonic() + 60
        while planner.counts["incremental"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert planner.counts["incremental"] >= 1
    finally:
        planner.stop()


def test_node_watch_order_does_not_change_scores_or_plans() -> None:
    a, b = planned_cache(), planned_cache()
    b.replace("nodes", [node(n, z, r) for n, (z, r) in reversed(list(ZONES.items()))])
    sa, sb = state(a, Clock()), state(b, Clock())
    assert sa.planner is not None and sb.planner is not None
    pa, pb = sa.planner.run_once(), sb.planner.run_once()
    assert pa is not None and pb is not None
    assert pa.nodes == pb.nodes and (pa.total == pb.total).all()
    assert sa.scheduler.prioritize(args()) == sb.scheduler.prioritize(args())


def test_outcomes_are_labelled_truthfully(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = planned_cache()
    settings = Settings(planner=False)
    with TestClient(create_app(settings, ExtenderState.build(cache, settings))) as client:
        client.post("/prioritize", json={"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)})
        client.post("/prioritize", json={"Pod": pod("x-0", "nobody"), "NodeNames": list(ZONES)})
        client.post("/filter", json={"Pod": pod("x-0", "nobody"), "NodeNames": list(ZONES)})
        client.post("/filter", json={"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)})

        def broken(*_: Any, **__: Any) -> None:
            raise RuntimeError("bug")

        monkeypatch.setattr(service, "score_nodes", broken)
        reply = client.post("/prioritize", json={"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)}).json()
        assert {h["Score"] for h in reply} == {5}
        text = client.get("/metrics").text
    for verb, outcome in (("prioritize", "scored"), ("prioritize", "neutral"), ("prioritize", "error")):
        assert f'augur_extender_requests_total{{outcome="{outcome}",verb="{verb}"}} 1.0' in text
    assert 'augur_extender_requests_total{outcome="neutral",verb="filter"} 1.0' in text
    assert 'augur_extender_requests_total{outcome="scored",verb="filter"} 1.0' in text
    assert "augur_extender_plan_age_seconds -1.0" in text


def test_the_first_plan_does_not_wait_for_a_change_after_the_sync() -> None:
    """The list that completes the sync may signal its change before the cache counts as synced: the
    planner must still plan the expected replicas without waiting for the first pod event."""
    cache = planned_cache()
    assert cache.wait_for_change(timeout=0)  # the sync's changes were seen (and dropped) before it completed
    planner = BackgroundPlanner(cache, Settings().scoring.plan, interval=0.0)
    planner.start()
    try:
        deadline = time.monotonic() + 10
        while planner.counts["full"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        planner.stop()
    assert planner.counts["full"] == 1


def test_a_plan_made_before_a_workload_was_known_is_stale_until_the_planner_catches_up() -> None:
    """Pods must not race ahead of the plan: once a new workload's size is known (its first pod is seen),
    the plan made without it is stale whatever its age, and the planner's next update makes it current."""
    cache, clock = planned_cache(), Clock()
    batch = profile("batch", {"dependencies": [{"name": "web", "traffic": 10}]}, selector="app=batch")
    batch["status"] = {"desiredReplicas": 2}
    cache.apply("workloadprofiles", "ADDED", batch)
    st = state(cache, clock)
    assert st.planner is not None
    plan = st.planner.run_once()
    assert plan is not None and "shop/batch" not in plan.workloads  # size unknown: not planned
    cache.apply("pods", "ADDED", pod("other-0", "other", "a1"))  # a pod of no workload: the plan still holds
    assert st.planner.lookup(cache.view()) is plan
    cache.apply("pods", "ADDED", pod("batch-0", "batch"))  # batch's size is known now (pending pod)
    assert st.planner.lookup(cache.view()) is None  # younger than maxAgeSeconds, but made without batch
    about = st.scheduler.explain(pod_facts(pod("batch-0", "batch")))["plan"]
    assert about["state"] == "stale" and "workloads" in about["staleReason"], about
    fresh = st.planner.run_once()
    assert fresh is not None and "shop/batch" in fresh.workloads
    assert st.planner.lookup(cache.view()) is fresh


def test_a_workload_sized_by_its_template_is_planned_before_its_first_pod_and_the_pod_keeps_the_plan() -> None:
    """With ``podRequestsFromStatus`` and ``status.podRequests`` (the operator reads the target's template) a
    new workload is in the plan before any of its pods exists, so its first pod is scored against a current
    plan; that pod, of the same size, leaves the plan current (no full re-plan)."""
    cache, clock = planned_cache(), Clock()
    batch = profile("batch", {"dependencies": [{"name": "web", "traffic": 10}]}, selector="app=batch")
    batch["status"] = {"desiredReplicas": 2, "podRequests": {"cpu": "500m", "memory": "1048576Ki"}}
    cache.apply("workloadprofiles", "ADDED", batch)
    st = state(cache, clock)
    assert st.planner is not None
    plan = st.planner.run_once()
    assert plan is not None and "shop/batch" in plan.workloads
    cache.apply("pods", "ADDED", pod("batch-0", "batch"))  # 500m and 1Gi, as the template said
    assert st.planner.lookup(cache.view()) is plan
    about = st.scheduler.explain(pod_facts(pod("batch-0", "batch")))
    assert about["plan"]["state"] == "current" and sum(n["planSlots"] for n in about["nodes"]) == 2


def test_the_planner_steps_aside_while_requests_are_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app counts requests in flight; the planner's search pauses while the count is above zero."""
    cache = planned_cache()
    st = state(cache)
    assert st.planner is not None
    counted: list[int] = []
    original = st.scheduler.prioritize_json

    def spy(a: Any) -> Any:
        counted.append(st.planner.in_flight.count if st.planner else -1)
        return original(a)

    monkeypatch.setattr(st.scheduler, "prioritize_json", spy)
    with TestClient(create_app(Settings(), st)) as client:
        reply = client.post("/prioritize", content=orjson.dumps({"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)}))
        assert reply.status_code == 200
    assert counted == [1]
    assert st.planner.in_flight.count == 0
    gate = st.planner.in_flight
    started = time.monotonic()
    gate.wait_idle(limit=1.0)  # idle: returns at once
    assert time.monotonic() - started < 0.1
    gate.count, before = 1, gate.waits  # a request that never ends: the wait is bounded
    started = time.monotonic()
    gate.wait_idle(limit=0.05)
    assert 0.04 <= time.monotonic() - started < 1.0 and gate.waits == before + 1
    gate.count = 0


def test_the_verbs_are_answered_in_front_of_fastapi() -> None:
    """The in-flight count, then the verbs' fast path, then FastAPI itself (its telemetry check, middleware
    stack and routes); without the fast path and the planner, FastAPI directly."""
    app = create_app(Settings(), state(planned_cache()))
    assert isinstance(app.front, InFlightMiddleware) and isinstance(app.front.app, VerbFastPath)
    bare = create_app(Settings(verb_fast_path=False), state(planned_cache(), planner=False))
    assert not isinstance(bare.front, InFlightMiddleware | VerbFastPath)
    with TestClient(bare) as client:  # and every route still answers through FastAPI
        assert client.get("/readyz").status_code == 200
        reply = client.post("/prioritize", content=orjson.dumps({"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)}))
        assert reply.status_code == 200 and len(reply.json()) == len(ZONES)


def test_planning_uses_a_bounded_share_of_a_core() -> None:
    st = state(planned_cache())
    assert st.planner is not None
    assert st.planner.pause_after(0.0) == st.planner.interval
    assert st.planner.pause_after(1.0) == pytest.approx(3.0)  # at most 25% of a core
    assert st.planner.pause_after(60.0) == st.planner.args.max_age_seconds / 2


def test_the_pause_after_a_slow_plan_ends_when_the_plan_is_due_for_a_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full plan's age counts from the view it was made from, and it takes wall time: the pause after it
    (its CPU share) must not outlast half its maximum age, or pods binding against it meanwhile find it
    expired before the first repair (seen in a replay on the real scheduler)."""
    cache, clock = planned_cache(), Clock()
    st = state(cache, clock)
    planner = st.planner
    assert planner is not None
    engine = planner._engine()
    real = engine.update

    def slow(snapshot: Any, now: float = 0.0) -> Any:
        plan = real(snapshot, now)
        clock.now += 6.0  # six seconds of wall time while requests came first
        return replace(plan, cpu_seconds=4.0)

    monkeypatch.setattr(engine, "update", slow)
    plan = planner.run_once()
    assert plan is not None and plan.made_at == 100.0
    half = planner.args.max_age_seconds / 2
    assert planner.pause_after(4.0) == half  # the CPU share alone would wait 5 s more: the plan 11 s old
    assert planner.pause() == planner.interval  # due at 105, now 106: repair at once
    assert planner._refresh_at == 100.0 + half
    monkeypatch.setattr(engine, "update", real)
    clock.now += 0.5
    repaired = planner.run_once()
    assert repaired is not None and repaired.incremental and repaired.made_at == clock.now
    assert planner.pause() == planner.pause_after(planner._spent)  # a quick repair: the share decides
    np.testing.assert_array_equal(repaired.total, plan.total)  # nothing changed: the same plan, younger


def test_a_plan_is_refreshed_before_it_ages_out_while_nothing_changes() -> None:
    """Nothing the plan reads changes, pods keep following it: the planner repairs it (a no-op) at half its
    maximum age, so it stays current while the planner is alive."""
    cache = planned_cache()
    planner = BackgroundPlanner(cache, replace(Settings().scoring.plan, max_age_seconds=2.0), interval=0.0)
    planner.start()
    try:
        deadline = time.monotonic() + 60
        while planner.lookup(cache.view()) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first = planner.lookup(cache.view())
        assert first is not None
        time.sleep(3.0)  # one and a half maximum ages without a cache change
        latest = planner.lookup(cache.view())
        assert latest is not None and latest.made_at > first.made_at
        assert planner.counts["incremental"] >= 1
        np.testing.assert_array_equal(latest.total, first.total)
    finally:
        planner.stop()


def test_a_failed_update_is_not_retried_until_the_cache_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """No refresh timer after a failure (a failing planner would otherwise retry every pause): it is retried
    when the cache changes, and its last plan ages out."""
    cache, clock = planned_cache(), Clock()
    st = state(cache, clock)
    planner = st.planner
    assert planner is not None and planner.run_once() is not None
    assert planner._refresh_at < float("inf")

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("planner crashed")

    monkeypatch.setattr(planner._engine(), "update", boom)
    assert planner.run_once() is None
    assert planner._refresh_at == float("inf")  # no refresh loop on a failing planner: the plan ages out


def test_the_cache_reads_allocatable_pods_and_counts_the_pods_on_each_node() -> None:
    """``status.allocatable.pods`` (110 when absent) and every bound, non-terminal pod (with a profile or
    not) reach the node table the planner plans from."""
    cache = MemoryCache()
    small = node("a1", "a", "east")
    small["status"]["allocatable"]["pods"] = "3"
    cache.replace("nodes", [small, node("b1", "b", "east")])
    done = pod("old", "batch", "a1")
    done["status"]["phase"] = "Succeeded"
    cache.replace("pods", [pod("x", "nobody", "a1"), pod("y", "api", "a1"), pod("z", "api"), done])
    cache.replace("workloadprofiles", [profile("api", {}, selector="app=api")])
    cache.replace("networktopologies", [])
    table = cache.view().snapshot.table
    assert table.max_pods.tolist() == [3.0, 110.0]
    assert table.pods.tolist() == [2.0, 0.0]
    assert table.pod_room().tolist() == [1.0, 110.0]
    cache.apply("pods", "DELETED", pod("x", "nobody", "a1"))
    assert cache.view().snapshot.table.pods.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("reaped", [False, True], ids=["racing", "reaped"])
def test_the_planner_process_plans_what_the_pure_planner_plans_and_recovers_from_a_crash(reaped: bool) -> None:
    """The child runs the same :class:`Planner` (same plan, incremental repairs across updates); a child
    that dies is a counted failure, scores fall back, and the next update starts a new child. Reaped
    before the next update, the death shows as a broken pipe when the update is sent (else, usually,
    as the end of the reply): the same failure either way."""
    cache = planned_cache()
    local = state(cache)
    remote = ExtenderState.build(cache, Settings(planner_process=True))
    assert local.planner is not None and remote.planner is not None
    try:
        expected, got = local.planner.run_once(), remote.planner.run_once()
        assert expected is not None and got is not None
        np.testing.assert_array_equal(got.total, expected.total)
        assert got.cost == pytest.approx(expected.cost)
        assert got.nodes == cache.view().snapshot.table.names_tuple
        assert remote.planner.lookup(cache.view()) is got
        cache.apply("pods", "ADDED", pod("web-1", "web", "a1"))
        again = remote.planner.run_once()
        assert again is not None and again.incremental
        engine = remote.planner._engine()
        assert isinstance(engine, PlannerProcess) and engine.pid is not None
        remote.planner.in_flight.count = 2  # requests in flight are mirrored to the child's shared counter
        assert engine.busy.value == 2
        started = time.monotonic()
        wait_while_busy(engine.busy, limit=0.05)  # what the child's search calls: bounded while busy
        assert 0.04 <= time.monotonic() - started < 1.0
        remote.planner.in_flight.count = 0
        assert engine.busy.value == 0
        os.kill(engine.pid, signal.SIGKILL)
        if reaped:
            engine._proc.join(timeout=10)
            assert not engine._proc.is_alive()
        cache.apply("pods", "ADDED", pod("web-2", "web", "a2"))
        assert remote.planner.run_once() is None
        assert remote.planner.counts["failed"] == 1 and "died" in remote.planner.last_error
        fresh = remote.planner.run_once()
        assert fresh is not None and not fresh.incremental
        assert remote.planner._engine() is not engine
    finally:
        remote.planner.stop()


@pytest.mark.parametrize("priority", ["idle", "nice", "normal"])
def test_the_planner_process_runs_at_the_priority_asked_for(priority: str) -> None:
    """``idle``: the child's scheduling policy is ``SCHED_IDLE`` (on Linux); ``nice``: it stays a normal task,
    ``CHILD_NICENESS`` nicer than this process (capped at 19); anything else is refused before a child starts."""
    from augur_extender.planner_child import CHILD_NICENESS

    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("no SCHED_IDLE on this platform")
    engine = PlannerProcess(priority=priority)
    try:
        assert engine.priority_in_effect() is None  # not read before the child's first answer
        assert engine.update(planned_cache().view().snapshot) is not None  # the child has lowered itself
        assert engine.pid is not None
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        # at niceness 19 (a test run under nice -n 19) there is nothing lower: the child says so
        assert engine.priority_in_effect() == ("normal" if priority == "nice" and ours >= 19 else priority)
        policy = os.sched_getscheduler(engine.pid)
        if priority == "idle":
            assert policy == os.SCHED_IDLE
        else:
            assert policy == os.SCHED_OTHER
            lowered = min(19, ours + CHILD_NICENESS) if priority == "nice" else ours
            assert os.getpriority(os.PRIO_PROCESS, engine.pid) == lowered
    finally:
        engine.close()
    with pytest.raises(ValueError, match="nice, idle, normal"):
        PlannerProcess(priority="realtime")


def test_lower_priority_falls_back_to_nice_and_reports_what_took_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    """``idle`` refused (or missing) → ``nice``; ``nice`` refused, or nothing lower left (niceness 19) →
    ``normal`` (the child plans anyway)."""
    from augur_extender import planner_child

    niced: list[int] = []
    niceness = [0]

    def nice(inc: int) -> int:  # as os.nice: the new niceness, capped at 19
        if inc:
            niced.append(inc)
        niceness[0] = min(19, niceness[0] + inc)
        return niceness[0]

    monkeypatch.setattr(planner_child.os, "nice", nice)

    def refuse(*_: object) -> None:
        raise PermissionError("not allowed")

    monkeypatch.setattr(planner_child.os, "sched_setscheduler", refuse, raising=False)
    assert planner_child.lower_priority("idle", 10) == "nice" and niced == [10]
    monkeypatch.delattr(planner_child.os, "SCHED_IDLE", raising=False)
    assert planner_child.lower_priority("idle", 7) == "nice" and niced == [10, 7]
    niceness[0] = 19
    assert planner_child.lower_priority("nice", 10) == "normal"  # at 19 already: nothing was lowered
    niced.pop()
    monkeypatch.setattr(planner_child.os, "nice", refuse)
    assert planner_child.lower_priority("nice", 10) == "normal"
    assert planner_child.lower_priority("normal", 10) == "normal" and niced == [10, 7]


@pytest.mark.parametrize("refused", [False, True], ids=["granted", "refused"])
def test_the_priority_the_planner_process_got_is_in_metrics_and_a_refusal_is_logged(
    refused: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After the child's first update the extender reads its priority from the kernel: the
    ``augur_extender_planner_priority`` gauge says which, and a priority the platform refused (``idle`` asked,
    ``nice`` got) is a warning. With the planner on a thread there is none."""
    from augur_extender import planner_process

    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("no SCHED_IDLE on this platform")
    if refused:
        monkeypatch.setattr(planner_process, "priority_of", lambda pid: "nice")
    cache = planned_cache()
    st = ExtenderState.build(cache, Settings(planner_process=True, planner_priority="idle"))
    assert st.planner is not None
    try:
        assert st.planner.run_once() is not None
        got = "nice" if refused else "idle"
        assert st.planner.priority_in_effect == got
        gauge = st.metrics.planner_priority
        assert {p: gauge.labels(p)._value.get() for p in ("idle", "nice", "normal")} == {
            p: float(p == got) for p in ("idle", "nice", "normal")
        }
        warned = [r.getMessage() for r in caplog.records if "CPU priority" in r.getMessage()]
        assert warned == (
            ["the planner process runs at CPU priority nice, not idle as asked (the platform refused it)"]
            if refused
            else []
        )
    finally:
        st.planner.stop()
    local = state(cache)
    assert local.planner is not None and local.planner.run_once() is not None
    assert local.planner.priority_in_effect is None
    assert "augur_extender_planner_priority{" not in generate_latest(local.metrics.registry).decode()


def test_the_planner_process_starts_with_the_planner_not_at_the_first_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``--planner-process`` the child is started by :meth:`BackgroundPlanner.start` (it imports while the
    cache lists); a child that cannot be started does not stop the extender: the first update tries again."""
    from augur_extender import planning

    cache = MemoryCache()  # never synced: the planner's thread makes no plan
    planner = BackgroundPlanner(cache, Settings().scoring.plan, process=True)
    planner.start()
    try:
        engine = planner._planner
        assert isinstance(engine, PlannerProcess) and engine.pid is not None
    finally:
        planner.stop()
    assert planner._planner is None and not engine._proc.is_alive()

    def refuse(*_: object, **__: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(planning.PlannerProcess, "__init__", refuse)
    failing = BackgroundPlanner(cache, Settings().scoring.plan, process=True)
    failing.start()
    try:
        assert failing._planner is None
    finally:
        failing.stop()


def test_a_daemonic_process_plans_on_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemonic process may not start children: the planner then searches on its thread (and says so)."""
    from types import SimpleNamespace

    from augur.placement.plan import Planner
    from augur_extender import planning

    monkeypatch.setattr(planning.multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    planner = BackgroundPlanner(planned_cache(), Settings().scoring.plan, process=True)
    assert isinstance(planner._engine(), Planner) and planner.process is False
    assert planner.run_once() is not None


def test_patience_waits_while_the_child_works_and_gives_up_when_it_stalls() -> None:
    """A slow child that keeps using CPU (or steps aside for requests) is waited for past ``stall``;
    one that uses no CPU for ``stall`` seconds, or too much CPU, is given up on; without CPU figures
    only the wall clock counts."""
    working = Patience(stall=5.0, cpu_limit=100.0, started=0.0, cpu_at_start=1.0)
    for t in range(1, 30):  # 29 s of steady work: never given up on
        assert working.check(1.0 + 0.5 * t, False, float(t)) is None
    assert working.check(15.5, True, 40.0) is None  # paused for requests: still progress
    assert working.check(15.5, False, 44.0) is None
    assert "used no CPU for 5 s" in str(working.check(15.5, False, 45.5))
    hungry = Patience(stall=5.0, cpu_limit=10.0, started=0.0, cpu_at_start=0.0)
    assert "more than 10 s of CPU" in str(hungry.check(10.5, False, 11.0))
    blind = Patience(stall=5.0, cpu_limit=10.0, started=0.0, cpu_at_start=None)
    assert blind.check(None, False, 4.0) is None and "did not answer for 5 s" in str(blind.check(None, False, 6.0))


def test_a_frozen_planner_process_is_given_up_on_after_its_stall_timeout() -> None:
    """A stopped child (SIGSTOP: alive, no CPU) fails the update after ``timeout`` seconds, not never."""
    cache = planned_cache()
    engine = PlannerProcess(timeout=1.0)
    try:
        snapshot = cache.view().snapshot
        assert engine.update(snapshot) is not None
        assert engine.pid is not None
        os.kill(engine.pid, signal.SIGSTOP)
        cache.apply("pods", "ADDED", pod("web-1", "web", "a1"))
        started = time.monotonic()
        with pytest.raises(PlannerProcessError, match="used no CPU for 1 s"):
            engine.update(cache.view().snapshot)
        assert 1.0 <= time.monotonic() - started < 10.0
        os.kill(engine.pid, signal.SIGCONT)
    finally:
        engine.close()


def test_full_plans_are_counted_by_why_the_plan_could_not_be_repaired() -> None:
    cache = planned_cache()
    st = state(cache, Clock())
    assert st.planner is not None
    assert st.planner.run_once() is not None
    cache.apply("pods", "ADDED", pod("web-1", "web", "b1"))  # a pod starts: repaired
    assert st.planner.run_once() is not None
    chattier = profile("web", {"dependencies": [{"name": "api", "traffic": 40}]}, selector="app=web")
    chattier["status"] = {"desiredReplicas": 3}
    cache.apply("workloadprofiles", "MODIFIED", chattier)
    plan = st.planner.run_once()
    assert plan is not None and plan.reason == "traffic"
    full = st.metrics.full_plans
    assert full.labels("first")._value.get() == 1.0
    assert full.labels("traffic")._value.get() == 1.0
    assert st.metrics.plans.labels("full")._value.get() == 2.0
    assert st.metrics.plans.labels("incremental")._value.get() == 1.0


def test_a_node_label_that_placement_does_not_key_on_keeps_the_table_and_the_plan() -> None:
    """kube-controller-manager adds beta.kubernetes.io/* labels to each new node some time after it
    registers (at 1,000 nodes, for minutes): each used to rebuild the node table and force a full plan."""
    cache = planned_cache()
    st = state(cache, Clock())
    assert st.planner is not None and st.planner.run_once() is not None
    before = cache.view()
    labelled = node("a1", *ZONES["a1"])
    labelled["metadata"]["labels"]["rack"] = "r7"
    cache.apply("nodes", "MODIFIED", labelled)
    after = cache.view()
    table = after.snapshot.table
    assert after is not before and table.memo is before.snapshot.table.memo
    assert table.nodes[table.position["a1"]].labels["rack"] == "r7"  # a spread over "rack" sees it
    rack = table.domains("rack")
    assert rack[table.position["a1"]] != rack[table.position["a2"]]
    plan = st.planner.run_once()
    assert plan is not None and plan.incremental and plan.reason == ""
    moved = node("a1", "b", ZONES["b1"][1])  # a zone label is read: the table is rebuilt, the plan made anew
    cache.apply("nodes", "MODIFIED", moved)
    assert cache.view().snapshot.table.memo is not table.memo
    plan = st.planner.run_once()
    assert plan is not None and plan.reason == "nodes"


def batch_profile() -> dict[str, Any]:
    batch = profile("batch", {"dependencies": [{"name": "web", "traffic": 10}]}, selector="app=batch")
    batch["status"] = {"desiredReplicas": 2}
    return batch


def test_a_full_plan_overtaken_by_a_new_workload_is_abandoned_and_the_next_plans_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A workload whose size becomes known while a full plan searches makes that plan stale before it is
    done: the planner abandons it (counted as ``superseded`` in /metrics, not as a failure), keeps the
    previous plan, and its next update plans the new workload. A changed replica count abandons nothing."""
    cache = MemoryCache()
    fill(cache)
    cache.apply("workloadprofiles", "ADDED", batch_profile())
    st = state(cache, Clock())
    planner = st.planner
    assert planner is not None
    arrivals = [pod("batch-0", "batch")]
    idle = planner.in_flight.wait_idle

    def pause_while_pods_arrive(*a: Any, **k: Any) -> None:  # the cache moves on while the search runs
        if arrivals:
            cache.apply("pods", "ADDED", arrivals.pop())
        idle(*a, **k)

    monkeypatch.setattr(planner.in_flight, "wait_idle", pause_while_pods_arrive)
    assert planner.run_once() is None
    assert planner.counts == {
        "full": 0,
        "incremental": 0,
        "provisional": 0,
        "failed": 0,
        "superseded": 1,
        "cut_short": 0,
        "refreshed": 0,
    }
    assert planner.pause_after(planner._spent) == planner.interval  # its CPU counts in the share
    assert planner._latest is None and not planner.superseded()  # nothing in progress
    plan = planner.run_once()
    assert plan is not None and "shop/batch" in plan.workloads and planner.lookup(cache.view()) is plan
    web = cache.view().snapshot.rulebook.get("shop/web")
    assert web is not None
    more = profile("web", {"dependencies": [{"name": "api", "traffic": 100}]}, selector="app=web")
    more["status"] = {"desiredReplicas": (web.replicas or 0) + 2}
    planner._planning = plan.signature  # as if a plan were in progress
    cache.apply("workloadprofiles", "MODIFIED", more)
    assert not planner.superseded()  # more replicas: repaired, never a reason to abandon
    cache.apply("pods", "ADDED", pod("cache-0", "cache"))
    cache.apply("workloadprofiles", "ADDED", profile("cache", {}, selector="app=cache"))
    assert planner.superseded()  # a new plannable workload
    planner._planning = None
    text = TestClient(create_app(Settings(planner=False), st)).get("/metrics").text
    assert 'augur_extender_plans_total{kind="superseded"} 1.0' in text


def test_a_full_plan_cut_short_at_search_seconds_is_current_counted_and_explained() -> None:
    """With ``plan.searchSeconds`` (here a nanosecond: always met before the first annealing run), the full plan
    is the best start and says so: requests use it like any plan, /metrics counts it as ``full`` and as
    ``cut_short``, and the explanation's plan shows ``cutShort``."""
    cache = planned_cache()
    scoring = ScoringConfig.from_dict({"plan": {"searchSeconds": 1e-9}})
    st = ExtenderState.build(cache, Settings(planner=True, planner_process=False, scoring=scoring))
    planner = st.planner
    assert planner is not None
    plan = planner.run_once()
    assert plan is not None and plan.cut_short and not plan.incremental and planner.lookup(cache.view()) is plan
    assert planner.counts["full"] == planner.counts["cut_short"] == 1
    assert planner.describe(cache.view())["cutShort"] is True
    text = TestClient(create_app(Settings(planner=False), st)).get("/metrics").text
    assert 'augur_extender_plans_total{kind="cut_short"} 1.0' in text
    assert 'augur_extender_plans_total{kind="full"} 1.0' in text


def test_the_planner_process_abandons_a_plan_when_told_and_keeps_its_previous_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In the child as in process: the parent raises the shared flag when ``superseded`` says so, the child
    abandons the full plan, and its next update plans as the pure planner does."""
    from augur.placement.plan import Planner, PlanSettings, PlanSuperseded
    from augur_extender import planner_process

    monkeypatch.setattr(planner_process, "POLL_SECONDS", 0.001)
    snap = _twelve_workloads()
    asked: list[int] = []

    def superseded() -> bool:
        asked.append(1)
        return True

    quick = PlanSettings(anneal_steps=5_000, kicks=5, starts=2)  # a short search: the test is about the protocol
    engine = PlannerProcess(quick, superseded=superseded)
    try:
        with pytest.raises(PlanSuperseded) as abandoned:
            engine.update(snap)
        assert asked and abandoned.value.cpu_seconds > 0 and engine.cancel.value == 1
        engine.superseded = None
        got, expected = engine.update(snap), Planner(quick).update(snap)
        assert got is not None and expected is not None and not got.incremental
        np.testing.assert_array_equal(got.total, expected.total)
    finally:
        engine.close()


def _twelve_workloads() -> Any:
    """32 nodes in 8 zones, 12 workloads of 3-7 one-core pods, each talking to up to 3 others (seeded)."""
    from augur.placement import NodeInfo, Snapshot, WorkloadRules

    rng = np.random.default_rng(7)
    nodes = [NodeInfo(f"n{i:03d}", zone=f"z{i % 8}", region=f"r{i % 2}", cpu=16, memory=64) for i in range(32)]
    rules = [
        WorkloadRules(f"w{i}", (), replicas=int(rng.integers(3, 8)), pod_cpu=1.0, pod_memory=1.0) for i in range(12)
    ]
    rules = [replace(r, dependencies=tuple(_deps(rules, i, rng))) for i, r in enumerate(rules)]
    return Snapshot.build(nodes, rules=rules)


def _deps(rules: list[Any], i: int, rng: np.random.Generator) -> list[Any]:
    from augur.placement import DependencyRule

    peers = rng.choice(len(rules), size=3, replace=False)
    return [DependencyRule(rules[int(j)].key, float(rng.integers(1, 100))) for j in peers if int(j) != i]


def test_a_full_plan_under_way_serves_its_best_plan_so_far_when_asked_to() -> None:
    """``provisionalPlans`` (default on): while a full plan searches, requests score against its best plan so
    far (current for the update's view, shown as provisional, counted apart in /metrics); the final plan
    replaces it. Off: nothing is published before the update ends."""
    cache = planned_cache()
    st = ExtenderState.build(cache, Settings(planner_process=False))
    planner = st.planner
    assert planner is not None and planner.args.provisional_plans
    seen: list[tuple[bool, bool, Any]] = []
    metrics = planner.on_plan
    assert metrics is not None

    def observe(plan: Plan) -> None:
        described = planner.describe(cache.view())
        seen.append((plan.provisional, planner.lookup(cache.view()) is plan, described.get("provisional")))
        metrics(plan)

    planner.on_plan = observe
    plan = planner.run_once()
    assert plan is not None and not plan.provisional
    assert seen[0] == (True, True, True)  # requests during the search see the provisional plan, current
    assert seen[-1] == (False, True, False) and planner.lookup(cache.view()) is plan
    assert planner.counts["provisional"] == len(seen) - 1 >= 1 and planner.counts["full"] == 1
    text = TestClient(create_app(Settings(planner=False), st)).get("/metrics").text
    assert 'augur_extender_plans_total{kind="full"} 1.0' in text  # provisional plans are not full plans
    assert f'augur_extender_plans_total{{kind="provisional"}} {len(seen) - 1}.0' in text
    off = ScoringConfig(plan=replace(ScoringConfig().plan, provisional_plans=False))
    quiet = ExtenderState.build(planned_cache(), Settings(planner_process=False, scoring=off)).planner
    assert quiet is not None and not quiet.args.provisional_plans
    kinds: list[bool] = []
    quiet.on_plan = lambda p: kinds.append(p.provisional)
    assert quiet.run_once() is not None and kinds == [False] and quiet.counts["provisional"] == 0


def test_the_planner_process_forwards_provisional_plans_with_their_names() -> None:
    """The child sends each provisional plan before its answer; the parent restores node names and rules and
    hands it over while it waits. The final plan is the pure planner's."""
    from augur.placement.plan import Planner, PlanSettings

    snap = _twelve_workloads()
    quick = PlanSettings(anneal_steps=5_000, kicks=5, starts=2, restarts=3)
    published: list[Plan] = []
    engine = PlannerProcess(quick, publish=published.append)
    try:
        got, expected = engine.update(snap), Planner(quick).update(snap)
        assert got is not None and expected is not None
        np.testing.assert_array_equal(got.total, expected.total)
        assert published and all(p.provisional for p in published)
        assert all(p.nodes == snap.table.names_tuple and p.signature == got.signature for p in published)
        assert all(p.cost >= got.cost - 1e-9 for p in published)
    finally:
        engine.close()


def test_the_planner_process_repairs_provisional_plans_against_the_newest_view_as_the_thread_does() -> None:
    """``repairProvisionalPlans`` on the planner process: the child asks the parent for the newest view each
    time it hands a plan over, and repairs against it exactly as the in-process planner does with the same
    ``latest`` (pods bound meanwhile keep their node; every replica placed once), the first provisional plan
    included. A newest view whose rule book was rebuilt (same rules, another object: a workload's first pod
    seen) is used too. On the thread, the planner's ``latest`` is the cache's newest view."""
    from augur.placement import Occupancy, RuleBook, Snapshot
    from augur.placement.plan import Planner, PlanSettings

    snap = _twelve_workloads()
    settings = PlanSettings(
        anneal_steps=40_000, kicks=20, starts=2, restarts=6, provisional_updates=True, first_kicks=0
    )
    plain: list[Plan] = []
    Planner(settings, publish=plain.append).update(snap)
    first = plain[0]
    w0 = first.workloads.index("w0")
    empty = next(n for n in snap.table.names_tuple if first.total[w0, snap.table.position[n]] == 0)
    # equal rules, another rule book (and signature) object
    rebuilt = RuleBook(r for r in map(snap.rulebook.get, snap.rulebook.keys()) if r is not None)
    bound = Snapshot(snap.table, Occupancy({"w0": {empty: 2}}), rebuilt)
    in_process: list[Plan] = []
    expected = Planner(settings, publish=in_process.append, latest=lambda: bound).update(snap)
    published: list[Plan] = []
    engine = PlannerProcess(settings, publish=published.append, latest=lambda: bound)
    try:
        got = engine.update(snap)
        assert got is not None and got.nodes == snap.table.names_tuple
    finally:
        engine.close()
    assert expected is not None and len(published) == len(in_process) >= 2
    for mine, theirs in zip([*published, got], [*in_process, expected], strict=True):
        np.testing.assert_array_equal(mine.total, theirs.total)
        assert mine.total[w0, snap.table.position[empty]] >= 2 and mine.nodes == snap.table.names_tuple
        np.testing.assert_allclose(mine.total.sum(axis=1), got.total.sum(axis=1))
    cache = MemoryCache()
    thread = BackgroundPlanner(cache, ScoringConfig().plan)  # on by default
    engine_on_thread = thread._engine()
    assert isinstance(engine_on_thread, Planner) and engine_on_thread.latest == thread._newest
    off = ScoringConfig(plan=replace(ScoringConfig().plan, repair_provisional_plans=False))
    quiet = BackgroundPlanner(cache, off.plan)._engine()
    assert isinstance(quiet, Planner) and quiet.latest is None
    refreshed = ScoringConfig.from_dict({"plan": {"refreshProvisionalPlans": True}}).plan
    fresh = BackgroundPlanner(cache, refreshed)._engine()
    assert isinstance(fresh, Planner) and fresh.settings.refresh_seconds == refreshed.max_age_seconds * 0.8
    assert engine_on_thread.settings.refresh_seconds == 8  # on by default (0.8 x maxAgeSeconds)


def test_neither_the_first_requests_nor_the_first_plan_import_a_module() -> None:
    """Imports hold the GIL and the import lock (numpy.ma, numpy.random); the planner's module
    imports them at start so that its first plan, which may overlap a scheduling burst, does not; the verbs
    import nothing on their first call either. A fresh interpreter, as the extender is."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "from tests.unit.extender.test_extender_planner import planned_cache, state\n"
        "import orjson\n"
        "from augur_extender.verbs import answer\n"
        "from tests.unit.extender.extender_objects import ZONES, pod\n"
        "st = state(planned_cache())\n"
        "body = orjson.dumps({'Pod': pod('web-9', 'web'), 'NodeNames': list(ZONES)})\n"
        "before = set(sys.modules)\n"
        "assert answer(st, 'filter', body)[0] == 200 and answer(st, 'prioritize', body)[0] == 200\n"
        "assert st.planner is not None and st.planner.run_once() is not None\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(root / p) for p in ("operator", "scheduler_extender", "."))}
    run = [sys.executable, "-c", script]
    out = subprocess.run(run, check=False, env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
