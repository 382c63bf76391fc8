"""The gate keeper: pods held at the plan gate are let through when the final plan has a slot for them, at
the deadline, or at once when nothing will plan them; patches that fail are tried again, gone pods dropped;
the cache tracks held pods through watch events."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import generate_latest

from augur.constants import PLAN_GATE
from augur.placement import ScoringConfig
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.gatekeeper import RETRY_SECONDS, GoneError
from augur_extender.kubeobjects import pod_facts
from augur_extender.settings import Settings

from .extender_objects import fill, pod, profile
from .test_extender_planner import Clock


def gated_pod(name: str, app: str = "web", gates: tuple[str, ...] = (PLAN_GATE,)) -> dict[str, Any]:
    obj = pod(name, app)
    obj["spec"]["schedulingGates"] = [{"name": g} for g in gates]
    return obj


class Lifter:
    def __init__(self, cache: MemoryCache, fail: int = 0, gone: bool = False) -> None:
        self.cache, self.fail, self.gone = cache, fail, gone
        self.calls: list[str] = []

    def __call__(self, namespace: str, name: str) -> None:
        self.calls.append(name)
        if self.gone:
            raise GoneError(name)
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("503 Service Unavailable")


def web_cache(replicas: int = 3, *held: str) -> MemoryCache:
    cache = MemoryCache()
    fill(cache)
    cache.apply("pods", "DELETED", pod("web-0", "web"))
    web = profile("web", {"dependencies": [{"name": "api", "traffic": 100}]}, selector="app=web")
    web["status"] = {"desiredReplicas": replicas}
    cache.apply("workloadprofiles", "MODIFIED", web)
    for name in held:
        cache.apply("pods", "ADDED", gated_pod(name))
    return cache


def keeper(
    cache: MemoryCache, lifter: Lifter, planner: bool = True, clock: Clock | None = None, in_flight: int = 0
) -> ExtenderState:
    """The extender's state with a gate keeper; ``in_flight``: ``plan.gateInFlight`` (0: no limit)."""
    scoring = ScoringConfig.from_dict({"plan": {"gateInFlight": in_flight}})
    st = ExtenderState.build(cache, Settings(scoring=scoring, planner=planner, planner_process=False), lifter)
    assert st.gatekeeper is not None
    if clock is not None:
        st.gatekeeper.clock = clock
        if st.planner is not None:
            st.planner.clock = clock
    return st


def test_pod_facts_read_the_plan_gate_among_other_gates() -> None:
    assert pod_facts(gated_pod("a", gates=("other", PLAN_GATE))).gated
    assert not pod_facts(gated_pod("b", gates=("other",))).gated
    assert not pod_facts(pod("c", "web")).gated


def test_the_cache_tracks_held_pods_and_pods_on_their_way_through_watch_events() -> None:
    cache = web_cache(3, "web-1", "web-2")
    held, in_flight = cache.gate_state()
    assert sorted(p.name for p, _ in held) == ["web-1", "web-2"] and in_flight == {}
    assert {w for _, w in held} == {"shop/web"}
    cache.apply("pods", "MODIFIED", pod("web-1", "web"))  # gate removed, not bound yet
    held, in_flight = cache.gate_state()
    assert [p.name for p, _ in held] == ["web-2"] and in_flight == {"shop/web": 1}
    cache.apply("pods", "MODIFIED", pod("web-1", "web", "a1"))  # bound
    cache.apply("pods", "DELETED", gated_pod("web-2"))
    assert cache.gate_state() == ([], {})


def test_held_pods_wait_for_a_final_plan_then_go_through_as_many_as_it_has_slots() -> None:
    clock = Clock()
    cache = web_cache(2, "web-1", "web-2", "web-3")  # three held, the plan expects 3 (pods seen win)
    lifter = Lifter(cache)
    st = keeper(cache, lifter, clock=clock)
    gk, planner = st.gatekeeper, st.planner
    assert gk is not None and planner is not None
    assert gk.run_once() == [] and gk.held == 3  # no plan yet: held
    plan = planner.run_once()
    assert plan is not None and not plan.provisional
    done = gk.run_once()
    assert sorted(lift.pod.name for lift in done) == ["web-1", "web-2", "web-3"]
    assert {lift.reason for lift in done} == {"planned"}
    assert gk.run_once() == []  # patched, the watch has not shown it yet: not patched again
    assert len(lifter.calls) == 3
    text = generate_latest(st.metrics.registry).decode()
    assert 'augur_extender_plan_gate_lifts_total{reason="planned"} 3.0' in text


def test_slots_taken_by_pods_on_their_way_are_not_handed_out_again() -> None:
    clock = Clock()
    cache = web_cache(3, "web-1")
    cache.apply("pods", "ADDED", pod("web-2", "web"))  # let through earlier, not bound yet
    cache.apply("pods", "ADDED", pod("web-3", "web"))
    st = keeper(cache, Lifter(cache), clock=clock)
    assert st.planner is not None and st.planner.run_once() is not None
    assert st.gatekeeper is not None
    # 3 planned, none bound, two on their way: one slot for web-1
    assert [lift.pod.name for lift in st.gatekeeper.run_once()] == ["web-1"]


def test_a_provisional_plan_holds_pods_and_the_deadline_lets_them_through() -> None:
    clock = Clock()
    cache = web_cache(3, "web-1")
    lifter = Lifter(cache)
    st = keeper(cache, lifter, clock=clock)
    assert st.gatekeeper is not None and st.planner is not None
    st.planner.lookup = lambda view: None  # type: ignore[method-assign]  # no current plan, ever
    assert st.gatekeeper.run_once() == []
    clock.now += st.gatekeeper.max_wait
    assert [lift.reason for lift in st.gatekeeper.run_once()] == ["deadline"]


def test_without_a_planner_or_a_profile_held_pods_go_at_once() -> None:
    cache = web_cache(3, "web-1")
    cache.apply("pods", "ADDED", gated_pod("batch-0", app="batch"))
    st = keeper(cache, Lifter(cache), planner=False)
    assert st.gatekeeper is not None
    reasons = {lift.pod.name: lift.reason for lift in st.gatekeeper.run_once()}
    assert reasons == {"web-1": "no_planner", "batch-0": "unplanned"}


def test_a_failed_patch_is_tried_again_later_and_a_gone_pod_is_dropped() -> None:
    clock = Clock()
    cache = web_cache(3, "web-1")
    lifter = Lifter(cache, fail=1)
    st = keeper(cache, lifter, planner=False, clock=clock)
    gk = st.gatekeeper
    assert gk is not None
    assert gk.run_once() == [] and lifter.calls == ["web-1"]
    assert gk.run_once() == [] and lifter.calls == ["web-1"]  # not before RETRY_SECONDS
    clock.now += RETRY_SECONDS
    assert [lift.pod.name for lift in gk.run_once()] == ["web-1"]
    gone = Lifter(cache, gone=True)
    gk.lift = gone
    clock.now += RETRY_SECONDS
    assert gk.run_once() == [] and gone.calls == ["web-1"]


def test_no_gate_keeper_without_a_way_to_lift_and_gate_seconds_is_validated() -> None:
    from augur.api.validation import SpecError
    from augur.placement import ScoringConfig

    assert ExtenderState.build(MemoryCache(), Settings(planner=False)).gatekeeper is None
    with pytest.raises(SpecError, match="gateSeconds"):
        ScoringConfig.from_dict({"plan": {"gateSeconds": -1}})
    with pytest.raises(SpecError, match="gateInFlight"):
        ScoringConfig.from_dict({"plan": {"gateInFlight": -1}})


def test_the_app_runs_the_gate_keeper_while_it_serves() -> None:
    import time

    from fastapi.testclient import TestClient

    from augur_extender.app import create_app

    cache = web_cache(3, "web-1")
    lifter = Lifter(cache)
    settings = Settings(planner=False)
    st = ExtenderState.build(cache, settings, lifter)
    with TestClient(create_app(settings, st)) as client:
        deadline = time.monotonic() + 10
        while not lifter.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lifter.calls == ["web-1"]
        # the fake lift leaves the pod held in the cache: still counted
        assert "augur_extender_plan_gate_held_pods 1.0" in client.get("/metrics").text
    assert st.gatekeeper is not None and st.gatekeeper._daemon._thread is None  # stopped with the app


def test_with_one_in_flight_a_workload_s_next_pod_waits_for_the_previous_bind() -> None:
    clock = Clock()
    cache = web_cache(3, "web-1", "web-2", "web-3")
    st = keeper(cache, Lifter(cache), clock=clock, in_flight=1)
    gk, planner = st.gatekeeper, st.planner
    assert gk is not None and planner is not None and planner.run_once() is not None
    assert [lift.pod.name for lift in gk.run_once()] == ["web-1"]  # no creation times: by uid
    cache.apply("pods", "MODIFIED", pod("web-1", "web"))  # the watch shows it let through, not bound
    clock.now += RETRY_SECONDS
    assert gk.run_once() == []
    cache.apply("pods", "MODIFIED", pod("web-1", "web", "a1"))  # bound
    assert [lift.pod.name for lift in gk.run_once()] == ["web-2"]
    assert ScoringConfig().plan.gate_in_flight == 1


def test_two_replicas_that_saw_the_pods_in_another_order_let_the_same_pod_through() -> None:
    """The chart runs two extenders, each with a gate keeper. Seeing the same pods in other orders and at other
    times (so each would call another pod the longest waiting), with one pod in flight per workload, both pick
    the oldest (creation time, then UID) and so patch the same one: one pod on its way, not two."""
    stamps = {"web-1": "2026-12-06T10:00:02Z", "web-2": "2026-12-06T10:00:01Z", "web-3": "2026-12-06T10:00:02Z"}
    picked = []
    for order in (["web-1", "web-3", "web-2"], ["web-3", "web-2", "web-1"]):
        clock = Clock()
        cache = web_cache(3)
        lifter = Lifter(cache)
        st = keeper(cache, lifter, clock=clock, in_flight=1)
        gk, planner = st.gatekeeper, st.planner
        assert gk is not None and planner is not None
        for name in order:  # seen one after the other, before any plan: the first seen waits longest here
            obj = gated_pod(name)
            obj["metadata"]["creationTimestamp"] = stamps[name]
            cache.apply("pods", "ADDED", obj)
            assert gk.run_once() == []
            clock.now += 1.0
        assert planner.run_once() is not None
        assert [lift.pod.name for lift in gk.run_once()] == ["web-2"]  # the oldest, not the first seen
        picked.append(lifter.calls)
    assert picked == [["web-2"], ["web-2"]]
