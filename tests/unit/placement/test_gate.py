"""Which pods the plan gate lets through (augur.placement.gate.lifts), on hand-computed cases."""

from __future__ import annotations

from augur.placement.gate import LIFT_REASONS, Gated, lifts


def held(uid: str, workload: str | None = "shop/web", waited: float = 0.0) -> Gated:
    return Gated(uid, "shop", uid, workload, waited)


def test_free_slots_go_to_the_longest_waiting_pods_first_and_no_further() -> None:
    pods = [held("a", waited=1.0), held("b", waited=3.0), held("c", waited=2.0)]
    out = lifts(pods, {"shop/web": 2}, {}, max_wait=30.0)
    assert [(lift.pod.uid, lift.reason) for lift in out] == [("b", "planned"), ("c", "planned")]


def test_pods_let_through_and_not_bound_take_their_slots_first() -> None:
    pods = [held("a"), held("b")]
    assert lifts(pods, {"shop/web": 3}, {"shop/web": 2}, max_wait=30.0) == [lifts(pods, {"shop/web": 1}, {}, 30.0)[0]]
    assert lifts(pods, {"shop/web": 2}, {"shop/web": 5}, max_wait=30.0) == []


def test_without_a_slot_a_pod_waits_until_the_deadline() -> None:
    pods = [held("young", waited=29.9), held("old", waited=30.0)]
    out = lifts(pods, {}, {}, max_wait=30.0)
    assert [(lift.pod.uid, lift.reason) for lift in out] == [("old", "deadline")]


def test_pods_no_profile_selects_and_pods_without_a_planner_go_at_once() -> None:
    out = lifts([held("stray", workload=None), held("web")], None, {}, max_wait=30.0)
    assert [(lift.pod.uid, lift.reason) for lift in out] == [("stray", "unplanned"), ("web", "no_planner")]
    assert {"planned", "unplanned", "no_planner", "deadline"} == set(LIFT_REASONS)


def test_ties_in_waiting_time_are_broken_by_uid_not_by_input_order() -> None:
    pods = [held("z"), held("m"), held("a")]
    for order in (pods, pods[::-1], [pods[1], pods[0], pods[2]]):
        assert [lift.pod.uid for lift in lifts(order, {"shop/web": 2}, {}, 30.0)] == ["a", "m"]


def test_a_gate_of_zero_seconds_lets_every_pod_through_at_once() -> None:
    out = lifts([held("a"), held("b")], {}, {}, max_wait=0.0)
    assert [lift.reason for lift in out] == ["deadline", "deadline"]


def test_the_in_flight_limit_lets_one_pod_of_a_workload_through_at_a_time() -> None:
    pods = [held("a", waited=2.0), held("b", waited=1.0), held("c", "shop/api", waited=1.0)]
    free = {"shop/web": 5, "shop/api": 5}
    out = lifts(pods, free, {}, max_wait=30.0, in_flight_limit=1)
    assert [(lift.pod.uid, lift.reason) for lift in out] == [("c", "planned"), ("a", "planned")]
    assert [lift.pod.uid for lift in lifts(pods, free, {"shop/web": 1}, 30.0, in_flight_limit=1)] == ["c"]
    # the deadline still lets a pod through whatever is in flight
    late = [held("a", waited=31.0)]
    assert [lift.reason for lift in lifts(late, free, {"shop/web": 1}, 30.0, in_flight_limit=1)] == ["deadline"]
    assert len(lifts(pods, free, {}, 30.0, in_flight_limit=0)) == 3
