"""Which pods the plan gate lets through (augur.placement.gate.lifts), on hand-computed cases."""

from __future__ import annotations

import jsonpatch

from augur.constants import PLAN_GATE, PLAN_GATE_OPT_OUT
from augur.placement.gate import ADMIT_OUTCOMES, LIFT_REASONS, Gated, admit, lifts


def held(uid: str, workload: str | None = "shop/web", waited: float = 0.0, created: float = 0.0) -> Gated:
    return Gated(uid, "shop", uid, workload, waited, created)


def test_free_slots_go_to_the_oldest_pods_first_and_no_further() -> None:
    pods = [held("a", created=103.0), held("b", created=101.0), held("c", created=102.0)]
    out = lifts(pods, {"shop/web": 2}, {}, max_wait=30.0)
    assert [(lift.pod.uid, lift.reason) for lift in out] == [("b", "planned"), ("c", "planned")]


def test_replicas_that_first_saw_the_pods_at_other_times_pick_the_same_ones() -> None:
    """Two extender replicas each time the wait from when their own watch showed a pod: the pods they let
    through depend on creation time and UID only, so both patch the same pods (a second patch changes nothing)."""
    first = [held("a", waited=0.1, created=100.0), held("b", waited=5.0, created=100.0), held("c", created=99.0)]
    second = [held("a", waited=4.0, created=100.0), held("b", waited=0.2, created=100.0), held("c", created=99.0)]
    picks = [[lift.pod.uid for lift in lifts(pods, {"shop/web": 2}, {}, 30.0)] for pods in (first, second)]
    assert picks == [["c", "a"], ["c", "a"]]


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


def test_ties_in_creation_time_are_broken_by_uid_not_by_input_order() -> None:
    pods = [held("z"), held("m"), held("a")]
    for order in (pods, pods[::-1], [pods[1], pods[0], pods[2]]):
        assert [lift.pod.uid for lift in lifts(order, {"shop/web": 2}, {}, 30.0)] == ["a", "m"]


def test_a_gate_of_zero_seconds_lets_every_pod_through_at_once() -> None:
    out = lifts([held("a"), held("b")], {}, {}, max_wait=0.0)
    assert [lift.reason for lift in out] == ["deadline", "deadline"]


def test_the_in_flight_limit_lets_one_pod_of_a_workload_through_at_a_time() -> None:
    pods = [held("a", created=1.0), held("b", created=2.0), held("c", "shop/api", created=2.0)]
    free = {"shop/web": 5, "shop/api": 5}
    out = lifts(pods, free, {}, max_wait=30.0, in_flight_limit=1)
    assert [(lift.pod.uid, lift.reason) for lift in out] == [("c", "planned"), ("a", "planned")]
    assert [lift.pod.uid for lift in lifts(pods, free, {"shop/web": 1}, 30.0, in_flight_limit=1)] == ["c"]
    # the deadline still lets a pod through whatever is in flight
    late = [held("a", waited=31.0)]
    assert [lift.reason for lift in lifts(late, free, {"shop/web": 1}, 30.0, in_flight_limit=1)] == ["deadline"]
    assert len(lifts(pods, free, {}, 30.0, in_flight_limit=0)) == 3


# -- the admission webhook's decision --------------------------------------------------------------------------


def new_pod(labels: dict[str, str] | None = None, **spec: object) -> dict[str, object]:
    return {
        "metadata": {"generateName": "web-", "labels": labels or {"app": "web"}},
        "spec": {"containers": [], **spec},
    }


def test_a_new_pod_a_profile_selects_gets_the_gate_and_keeps_its_other_gates() -> None:
    assert admit(new_pod(), "shop/web", True, True) == (
        "gated",
        [{"op": "add", "path": "/spec/schedulingGates", "value": [{"name": PLAN_GATE}]}],
    )
    outcome, patch = admit(new_pod(schedulingGates=[{"name": "other"}]), "shop/web", True, True)
    assert outcome == "gated"
    assert patch == [{"op": "add", "path": "/spec/schedulingGates/-", "value": {"name": PLAN_GATE}}]
    # applied as an RFC 6902 patch (jsonpatch, which kopf brings): the other gate stays, the plan gate follows it
    patched = jsonpatch.apply_patch(new_pod(schedulingGates=[{"name": "other"}]), patch)
    assert patched["spec"]["schedulingGates"] == [{"name": "other"}, {"name": PLAN_GATE}]
    assert jsonpatch.apply_patch(new_pod(), admit(new_pod(), "shop/web", True, True)[1])["spec"]["schedulingGates"] == [
        {"name": PLAN_GATE}
    ]


def test_pods_that_must_not_wait_are_admitted_unchanged_with_the_reason() -> None:
    cases = {
        "unprofiled": admit(new_pod(), None, True, True),
        "opted_out": admit(new_pod({"app": "web", PLAN_GATE_OPT_OUT: "off"}), "shop/web", True, True),
        "has_gate": admit(new_pod(schedulingGates=[{"name": PLAN_GATE}]), "shop/web", True, True),
        "bound": admit(new_pod(nodeName="n1"), "shop/web", True, True),
        "no_gate_keeper": admit(new_pod(), "shop/web", False, True),
        "not_synced": admit(new_pod(), None, True, False),
        "malformed": admit({"metadata": {}}, "shop/web", True, True),
    }
    assert {outcome: result for outcome, result in cases.items()} == {o: (o, None) for o in cases}
    assert set(cases) | {"gated"} == set(ADMIT_OUTCOMES)
    # any other value of the opt-out label does not opt out
    assert admit(new_pod({"app": "web", PLAN_GATE_OPT_OUT: "on"}), "shop/web", True, True)[0] == "gated"
