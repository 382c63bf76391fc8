"""The executor's state machine, step by step, with the cluster described by plain facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from augur.api.v1alpha1.migration import MigrationSpec, MigrationStatus
from augur.migration.decision import (
    OUTCOME_REASONS,
    Action,
    Decision,
    EvictionResult,
    Facts,
    Migration,
    outcome_phase,
)
from augur.migration.machine import after_eviction, decide
from augur.migration.movability import controller_of
from augur.migration.reservation import DELETION_COST_ANNOTATION, OwnerTemplate, adoption_patch
from augur.migration.timeline import find_replacement

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RS = OwnerTemplate(
    name="web-abc",
    uid="rs-uid",
    match_labels={"app": "web", "pod-template-hash": "abc"},
    template={"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {"containers": []}},
    replicas=3,
    status_replicas=3,
)


def pod(name: str = "web-1", uid: str = "p1", node: str = "n1", kind: str = "ReplicaSet", ready: bool = True) -> Any:
    owner = {"apiVersion": "apps/v1", "kind": kind, "name": "web-abc", "uid": "rs-uid", "controller": True}
    return {
        "metadata": {"name": name, "uid": uid, "ownerReferences": [owner], "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"nodeName": node},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def reservation(node: str = "n2", ready: bool = True, owned: bool = False, cost: bool = True) -> Any:
    r = pod("web-1-mig-uid123", uid="r1", node=node, ready=ready)
    if not owned:
        r["metadata"]["ownerReferences"] = [{"kind": "Migration", "name": "m", "uid": "uid123", "controller": False}]
    r["metadata"]["annotations"] = {DELETION_COST_ANNOTATION: "1000000"} if cost else {}
    return r


def mig(status: MigrationStatus | None = None, **spec: Any) -> Migration:
    return Migration(
        "m", "ns", "uid123", 1, MigrationSpec.model_validate({"podName": "web-1", **spec}), status or MigrationStatus()
    )


def run(m: Migration, facts: Facts) -> tuple[Migration, Decision]:
    d = decide(m, facts)
    return Migration(m.name, m.namespace, m.uid, m.generation, m.spec, d.status), d


def finished(status: MigrationStatus) -> tuple[str, str]:
    cond = next(c for c in status.conditions if c.type == "Finished")
    assert cond.status == "True" and cond.reason == status.reason
    return status.phase, status.reason


def test_a_plan_waits_for_approval() -> None:
    d = decide(mig(approved=False), Facts(now=T0, pod=pod(), available=3))
    assert d.action is Action.NONE and d.status.phase == "Pending"
    assert d.status.conditions[0].reason == "AwaitingApproval"


def test_refusals_fail_without_acting() -> None:
    m, d = run(mig(), Facts(now=T0, pod=None))
    assert d.action is Action.NONE and d.again and m.status.reason == "PodNotFound"
    _, d = run(m, Facts(now=T0, pod=None))
    assert finished(d.status) == ("Failed", "PodNotFound") and d.event and d.event.type == "Warning"
    for facts, reason in [
        (Facts(now=T0, pod=pod(kind="DaemonSet"), available=3), "DaemonSetPod"),
        (Facts(now=T0, pod=pod(), available=1), "LastAvailableReplica"),
        (Facts(now=T0, pod=pod(), available=3, owner=RS, target_exists=False), "TargetNodeNotFound"),
        (Facts(now=T0, pod=pod(), available=3, owner=RS, target_unschedulable=True), "TargetNodeUnschedulable"),
        (Facts(now=T0, pod=pod(node="n2"), available=3, owner=RS), "AlreadyOnTarget"),
        (Facts(now=T0, pod=pod(kind="StatefulSet"), available=3), "ReservationNotSupported"),
    ]:
        assert decide(mig(targetNode="n2"), facts).status.reason == reason


def test_reservation_first_happy_path() -> None:
    m = mig(targetNode="n2", expectedGain={"kind": "NodeLoadStdDev", "value": 0.05})
    m, d = run(m, Facts(now=T0, pod=pod(), available=3, owner=RS))
    assert m.status.phase == "Reserving" and d.again and m.status.replacement_pod == "web-1-mig-uid123"
    assert m.status.source_node == "n1" and m.status.owner and m.status.owner.uid == "rs-uid"
    assert m.status.predicted_gain and m.status.predicted_gain.value == 0.05
    m, d = run(m, Facts(now=T0, pod=pod(), owner=RS))
    assert d.action is Action.CREATE_RESERVATION and d.body is not None
    assert d.body["metadata"]["name"] == "web-1-mig-uid123"
    _, d = run(m, Facts(now=T0, pod=pod(), owner=RS, reservation=reservation(ready=False)))
    assert d.action is Action.NONE and d.status == m.status  # waits
    m, d = run(m, Facts(now=T0 + timedelta(seconds=2), pod=pod(), owner=RS, reservation=reservation()))
    assert m.status.phase == "Evicting" and m.status.destination_node == "n2"
    m, d = run(m, Facts(now=T0 + timedelta(seconds=2), pod=pod(), owner=RS, reservation=reservation()))
    assert d.action is Action.EVICT
    assert d.body == adoption_patch(RS)  # sent at once after the eviction: one Ready pod per move
    d = after_eviction(m, EvictionResult.EVICTED, "ok", T0 + timedelta(seconds=3))
    m = Migration(m.name, m.namespace, m.uid, 1, m.spec, d.status)
    assert m.status.phase == "Rescheduling" and m.status.eviction_attempts == 1
    facts = Facts(now=T0 + timedelta(seconds=3), pod=None, owner=RS, reservation=reservation())
    m, d = run(m, facts)
    assert d.action is Action.ADOPT and d.body == {
        "metadata": {"labels": {"pod-template-hash": "abc"}, "ownerReferences": None}
    }
    unsettled = OwnerTemplate(**{**RS.__dict__, "status_replicas": 4})
    _, d = run(m, Facts(now=T0 + timedelta(seconds=4), pod=None, owner=unsettled, reservation=reservation(owned=True)))
    assert d.action is Action.NONE and d.status == m.status  # the ReplicaSet still deletes its surplus
    m, d = run(m, Facts(now=T0 + timedelta(seconds=4), pod=None, owner=RS, reservation=reservation(owned=True)))
    assert d.action is Action.CLEAR_DELETION_COST
    m, d = run(
        m, Facts(now=T0 + timedelta(seconds=5), pod=None, owner=RS, reservation=reservation(owned=True, cost=False))
    )
    assert finished(m.status) == ("Succeeded", "Moved") and m.status.destination_node == "n2"
    assert [t.phase for t in m.status.phase_history] == ["Reserving", "Evicting", "Rescheduling", "Succeeded"]
    assert m.status.durations and m.status.durations.total_seconds == 5.0
    assert m.status.durations.reserving_seconds == 2.0 and m.status.durations.rescheduling_seconds == 2.0
    assert decide(m, Facts(now=T0, pod=None)).status == m.status  # terminal: nothing more


def reserving(**spec: Any) -> Migration:
    m = mig(**spec)
    m, _ = run(m, Facts(now=T0, pod=pod(), available=3, owner=RS))
    return m


def test_full_target_fails_and_removes_the_reservation() -> None:
    m = reserving(targetNode="n2")
    stuck = reservation(ready=False)
    stuck["spec"]["nodeName"] = ""
    stuck["status"] = {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/6 nodes: Insufficient cpu"}
    ]}  # fmt: skip
    m, d = run(m, Facts(now=T0, pod=pod(), owner=RS, reservation=stuck))
    assert m.status.reason == "TargetNodeFull" and "Insufficient cpu" in m.status.message
    m, d = run(m, Facts(now=T0, pod=pod(), owner=RS, reservation=stuck))
    assert d.action is Action.DELETE_RESERVATION and m.status.phase == "Reserving"  # cleanup before the end
    m, d = run(m, Facts(now=T0, pod=pod(), owner=RS, reservation=None))
    assert finished(m.status) == ("Failed", "TargetNodeFull")


def test_reservation_not_ready_in_time_rolls_back() -> None:
    m = reserving(targetNode="n2", readyTimeout="30s")
    late = Facts(now=T0 + timedelta(seconds=31), pod=pod(), owner=RS, reservation=reservation(ready=False))
    m, _ = run(m, late)
    assert m.status.reason == "ReservationNotReady"
    _, d = run(m, late)
    assert d.action is Action.DELETE_RESERVATION
    m, _ = run(m, Facts(now=late.now, pod=pod(), owner=RS, reservation=None))
    assert finished(m.status) == ("RolledBack", "ReservationNotReady")


def test_budget_refusals_retry_then_fail_after_the_timeout() -> None:
    m = reserving(evictionTimeout="20s")
    m, _ = run(m, Facts(now=T0, pod=pod(), owner=RS, reservation=reservation()))
    assert m.status.phase == "Evicting"
    first = after_eviction(m, EvictionResult.BLOCKED, "The disruption budget web needs 4 healthy pods", T0)
    assert first.event is not None and first.event.reason == "DisruptionBudgetBlocked" and not first.again
    m = Migration(m.name, m.namespace, m.uid, 1, m.spec, first.status)
    again = after_eviction(m, EvictionResult.BLOCKED, "still", T0 + timedelta(seconds=5))
    assert again.event is None and again.status.eviction_attempts == 2  # one Event per blocked episode
    m = Migration(m.name, m.namespace, m.uid, 1, m.spec, again.status)
    assert (
        decide(m, Facts(now=T0 + timedelta(seconds=10), pod=pod(), owner=RS, reservation=reservation())).action
        is Action.EVICT
    )
    m, _ = run(m, Facts(now=T0 + timedelta(seconds=21), pod=pod(), owner=RS, reservation=reservation()))
    assert m.status.reason == "DisruptionBudgetBlocked" and "still" in m.status.message
    _, d = run(m, Facts(now=T0 + timedelta(seconds=21), pod=pod(), owner=RS, reservation=reservation()))
    assert d.action is Action.DELETE_RESERVATION
    m, _ = run(m, Facts(now=T0 + timedelta(seconds=22), pod=pod(), owner=RS, reservation=None))
    assert finished(m.status) == ("Failed", "DisruptionBudgetBlocked")


def test_resume_after_a_restart_in_evicting_when_the_pod_is_gone() -> None:
    m = reserving()
    m, _ = run(m, Facts(now=T0, pod=pod(), owner=RS, reservation=reservation()))
    assert m.status.phase == "Evicting"
    m, d = run(m, Facts(now=T0, pod=None, owner=RS, reservation=reservation()))
    assert m.status.phase == "Rescheduling" and d.action is Action.NONE
    namesake = pod(uid="p2")  # a StatefulSet-like replacement with the same name is not the pod
    m2 = reserving()
    m2, _ = run(m2, Facts(now=T0, pod=namesake, owner=RS, reservation=reservation()))
    assert m2.status.reason == "PodGone"


def test_adopted_reservation_is_never_deleted() -> None:
    m = reserving()
    m = Migration(m.name, m.namespace, m.uid, 1, m.spec, m.status.model_copy(update={"reason": "AdoptionFailed"}))
    d = decide(m, Facts(now=T0, pod=None, owner=RS, reservation=reservation(owned=True)))
    assert d.action is Action.NONE and d.status.phase == "Failed"


def test_evict_directly_waits_for_the_controllers_replacement() -> None:
    m = mig(mode="EvictDirectly")
    m, _ = run(m, Facts(now=T0, pod=pod(kind="StatefulSet"), available=3))
    assert m.status.phase == "Evicting"
    m, d = run(m, Facts(now=T0, pod=pod(kind="StatefulSet")))
    assert d.action is Action.EVICT
    m = Migration(m.name, m.namespace, m.uid, 1, m.spec, after_eviction(m, EvictionResult.GONE, "", T0).status)
    assert m.status.phase == "Rescheduling"
    fresh = pod(uid="p2", node="n5")
    fresh["metadata"]["creationTimestamp"] = "2026-01-01T00:00:01Z"
    m, _ = run(m, Facts(now=T0 + timedelta(seconds=2), pod=fresh, replacement=fresh))
    assert finished(m.status) == ("Succeeded", "Moved") and m.status.destination_node == "n5"


def test_find_replacement_ignores_old_unready_and_foreign_pods() -> None:
    old, new, unready = pod(uid="old"), pod(uid="new"), pod(uid="slow", ready=False)
    new["metadata"]["creationTimestamp"] = "2026-01-01T00:00:10Z"
    unready["metadata"]["creationTimestamp"] = "2026-01-01T00:00:10Z"
    foreign = pod(uid="x")
    foreign["metadata"]["ownerReferences"][0]["uid"] = "other"
    foreign["metadata"]["creationTimestamp"] = "2026-01-01T00:00:10Z"
    since = T0 + timedelta(seconds=5)
    assert find_replacement([old, unready, foreign, new], "rs-uid", "p1", since) is new
    assert find_replacement([old], "rs-uid", "p1", since) is None


def test_every_outcome_has_a_terminal_phase() -> None:
    assert outcome_phase("Moved") == "Succeeded" and outcome_phase("ReservationNotReady") == "RolledBack"
    assert {outcome_phase(r) for r in OUTCOME_REASONS} == {"Succeeded", "Failed", "RolledBack"}
    assert controller_of(pod()) is not None


def test_a_reservation_ready_only_after_the_deadline_rolls_back() -> None:
    """After a restart the reservation may be Ready by now, but it became Ready too late."""
    m = reserving(targetNode="n2", readyTimeout="10s")
    late = reservation()
    late["status"]["conditions"][0]["lastTransitionTime"] = "2026-01-01T00:00:30Z"
    m, _ = run(m, Facts(now=T0 + timedelta(seconds=40), pod=pod(), owner=RS, reservation=late))
    assert m.status.reason == "ReservationNotReady" and "30 s after" in m.status.message
    in_time = reservation()
    in_time["status"]["conditions"][0]["lastTransitionTime"] = "2026-01-01T00:00:05Z"
    m2, _ = run(
        reserving(targetNode="n2", readyTimeout="10s"),
        Facts(now=T0 + timedelta(seconds=40), pod=pod(), owner=RS, reservation=in_time),
    )
    assert m2.status.phase == "Evicting"


def test_expiry_counts_from_the_end_or_from_creation_of_a_plan() -> None:
    from augur.migration.timeline import expired

    done = {"status": {"phase": "Failed", "completionTime": "2026-01-01T00:00:00Z"}, "spec": {}, "metadata": {}}
    assert not expired(done, T0.timestamp() + 59, 60) and expired(done, T0.timestamp() + 60, 60)
    plan = {"spec": {"approved": False}, "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}}
    assert expired(plan, T0.timestamp() + 61, 60)
    running = {"status": {"phase": "Evicting"}, "spec": {}, "metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"}}
    assert not expired(running, T0.timestamp(), 60)  # moves in progress never expire
    unreadable = {"status": {"phase": "Failed", "completionTime": "last week"}, "spec": {}, "metadata": {}}
    assert not expired(unreadable, T0.timestamp() + 10**9, 60)  # kept rather than deleted on a guess


def test_a_pod_already_being_moved_is_not_moved_twice() -> None:
    m, _ = run(mig(), Facts(now=T0, pod=pod(), available=3, owner=RS, moving="other"))
    assert m.status.reason == "AlreadyMoving" and "other" in m.status.message
