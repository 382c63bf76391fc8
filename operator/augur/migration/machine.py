"""The Migration executor's state machine (pure): from the persisted status and what the cluster shows
now, the next status and the one action to take.

The operator persists the returned status *before* it takes the action, so after a restart the phase says
what may have been done: ``Reserving`` (a reservation pod may exist), ``Evicting`` (the pod may be gone),
``Rescheduling`` (the pod was evicted). A decided but unfinished outcome (``status.reason`` set while the
phase is not terminal) means "clean up, then finish": the reservation pod, if the workload has not
adopted it, is deleted before the terminal phase is written, so no reservation is left behind.

Phases: ``Pending`` → (``Reserving`` →) ``Evicting`` → ``Rescheduling`` → ``Succeeded``; or ``Failed``
(the pod was not evicted, or its replacement did not come: see :data:`.decision.OUTCOME_PHASE`) or
``RolledBack`` (the reservation was not Ready in time and was removed; the pod stays where it was).

This module holds the transitions (:func:`decide`, :func:`after_eviction`, and :func:`enter` and
:func:`fail`, which the operator also uses); what they read and return (:class:`.decision.Facts`,
:class:`.decision.Decision`, ...) and the outcome reasons are :mod:`augur.migration.decision`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from augur.api.conditions import ConditionUpdate, Status, merge_condition
from augur.api.durations import parse_duration
from augur.api.meta import Condition, parse_time
from augur.api.v1alpha1.migration import TERMINAL_PHASES, MigrationStatus, OwnerRef, PhaseTransition
from augur.migration.decision import (
    FINISHED,
    Action,
    Decision,
    Event,
    EvictionResult,
    Facts,
    Migration,
    outcome_phase,
)
from augur.migration.movability import check_movable, controller_of, is_ready
from augur.migration.reservation import (
    DELETION_COST_ANNOTATION,
    ReservationNotPossibleError,
    adoption_patch,
    reservation_name,
    reservation_pod,
    withheld_label,
)
from augur.migration.timeline import durations, entered, node_of, overdue, uid_of


def _condition(status: MigrationStatus, cond: Status, reason: str, message: str, generation: int, now: datetime) -> Any:
    existing = [c.model_dump(mode="json") for c in status.conditions]
    merged, _ = merge_condition(
        existing, ConditionUpdate(FINISHED, cond, reason, message), generation, now.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return [Condition.model_validate(c) for c in merged]


def _progress(m: Migration, status: MigrationStatus, reason: str, message: str, now: datetime) -> MigrationStatus:
    conditions = _condition(status, "False", reason, message, m.generation, now)
    return status.model_copy(update={"conditions": conditions, "observed_generation": m.generation})


def enter(m: Migration, status: MigrationStatus, phase: str, message: str, now: datetime, **fields: Any) -> Decision:
    """Move to ``phase`` (persisted before any action of the new phase) with an Event."""
    history = [*status.phase_history, PhaseTransition(phase=phase, time=now, message=message[:1024])][-32:]
    updated = status.model_copy(update={"phase": phase, "phase_history": history, **fields})
    if phase in TERMINAL_PHASES:
        reason = updated.reason or "Moved"
        updated = updated.model_copy(
            update={
                "reason": reason,
                "message": message,
                "completion_time": now,
                "conditions": _condition(updated, "True", reason, message, m.generation, now),
                "observed_generation": m.generation,
            }
        )
        updated = updated.model_copy(update={"durations": durations(updated)})
        kind = "Normal" if phase == "Succeeded" else "Warning"
        return Decision(updated, event=Event(kind, reason, message))
    updated = _progress(m, updated, phase, message, now)
    return Decision(updated, event=Event("Normal", phase, message), again=True)


def fail(m: Migration, status: MigrationStatus, reason: str, message: str, now: datetime) -> Decision:
    """Decide the outcome; :func:`decide` then cleans up and finishes (persisted first: restart-safe)."""
    decided = status.model_copy(update={"reason": reason, "message": message})
    return Decision(_progress(m, decided, reason, message, now), again=True)


def decide(m: Migration, facts: Facts) -> Decision:
    """The next status and action of ``m`` given ``facts``."""
    status, now = m.status, facts.now
    if status.phase in TERMINAL_PHASES:
        return Decision(status)
    if not m.spec.approved:
        message = "a plan only (dry run): set spec.approved to true to carry it out"
        return Decision(_progress(m, status, "AwaitingApproval", message, now))
    if status.reason:
        return _finish(m, facts)
    if status.phase == "Pending":
        return _start(m, facts)
    if status.phase == "Reserving":
        return _reserving(m, facts)
    if status.phase == "Evicting":
        return _evicting(m, facts)
    return _rescheduling(m, facts)


def _finish(m: Migration, facts: Facts) -> Decision:
    """Remove a reservation the workload has not adopted, then write the terminal phase."""
    reservation = facts.reservation
    if reservation is not None and controller_of(reservation) is None:
        if (reservation.get("metadata") or {}).get("deletionTimestamp"):
            return Decision(m.status)  # being deleted; finish once it is gone
        return Decision(m.status, Action.DELETE_RESERVATION)
    status = m.status
    return enter(m, status, outcome_phase(status.reason), status.message, facts.now)


def _start(m: Migration, facts: Facts) -> Decision:
    spec, status, now, pod = m.spec, m.status, facts.now, facts.pod
    if facts.moving:
        return fail(m, status, "AlreadyMoving", f"Migration {facts.moving} is moving pod {spec.pod_name}", now)
    if pod is None:
        return fail(m, status, "PodNotFound", f"pod {spec.pod_name} does not exist in {m.namespace}", now)
    verdict = check_movable(pod, facts.available)
    if not verdict.movable:
        return fail(m, status, verdict.reason, verdict.message, now)
    owner = controller_of(pod)
    assert owner is not None  # movable pods have one
    source = node_of(pod)
    if spec.target_node:
        if not facts.target_exists:
            return fail(m, status, "TargetNodeNotFound", f"node {spec.target_node} does not exist", now)
        if facts.target_unschedulable:
            return fail(m, status, "TargetNodeUnschedulable", f"node {spec.target_node} is cordoned", now)
        if spec.target_node == source:
            return fail(m, status, "AlreadyOnTarget", f"pod {spec.pod_name} already runs on {source}", now)
    fields: dict[str, Any] = {
        "pod_uid": uid_of(pod),
        "source_node": source,
        "owner": OwnerRef(kind=owner.kind, name=owner.name, uid=owner.uid),
        "start_time": now,
        "predicted_gain": spec.expected_gain,
    }
    if spec.mode == "EvictDirectly":
        return enter(m, status, "Evicting", f"evicting {spec.pod_name} from {source}", now, **fields)
    if owner.kind != "ReplicaSet" or facts.owner is None:
        why = f"{owner.kind} {owner.name}" + ("" if owner.kind == "ReplicaSet" else " (use mode EvictDirectly)")
        reason = "ReservationNotSupported" if owner.kind != "ReplicaSet" else "OwnerNotFound"
        return fail(m, status, reason, f"a reservation pod cannot be made for {why}", now)
    try:
        withheld_label(facts.owner)
    except ReservationNotPossibleError as exc:
        return fail(m, status, "ReservationNotSupported", str(exc), now)
    where = f"on {spec.target_node}" if spec.target_node else f"on any node but {source}"
    name = reservation_name(spec.pod_name, m.uid)
    return enter(
        m, status, "Reserving", f"starting reservation pod {name} {where}", now, replacement_pod=name, **fields
    )


def _pod_replaced(m: Migration, facts: Facts) -> bool:
    return facts.pod is None or uid_of(facts.pod) != m.status.pod_uid


def _unschedulable(pod: Mapping[str, Any]) -> str | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable":
            return str(c.get("message") or "unschedulable")
    return None


def _reserving(m: Migration, facts: Facts) -> Decision:
    spec, status, now, reservation = m.spec, m.status, facts.now, facts.reservation
    if _pod_replaced(m, facts):
        return fail(m, status, "PodGone", f"pod {spec.pod_name} went away before the eviction", now)
    if reservation is None:
        if facts.owner is None:
            return fail(m, status, "OwnerNotFound", f"ReplicaSet of {spec.pod_name} is gone", now)
        manifest = reservation_pod(
            facts.owner,
            name=status.replacement_pod,
            namespace=m.namespace,
            migration=(m.name, m.uid),
            target=spec.target_node,
            source=status.source_node,
            priority=facts.priority,
        )
        return Decision(status, Action.CREATE_RESERVATION, manifest)
    refusal = _unschedulable(reservation)
    if refusal is not None:
        reason = "TargetNodeFull" if spec.target_node else "NoNodeAvailable"
        where = spec.target_node or "any other node"
        return fail(m, status, reason, f"no room for {spec.pod_name} on {where}: {refusal}", now)
    if is_ready(reservation):
        late = _ready_late(status, reservation, spec.ready_timeout)
        if late:
            return fail(m, status, "ReservationNotReady", late, now)
        node = node_of(reservation)
        return enter(m, status, "Evicting", f"reservation Ready on {node}; evicting {spec.pod_name}", now,
                     destination_node=node)  # fmt: skip
    if overdue(status, "Reserving", spec.ready_timeout, now):
        return fail(m, status, "ReservationNotReady", f"reservation pod not Ready within {spec.ready_timeout}", now)
    return Decision(status)


def _ready_late(status: MigrationStatus, reservation: Mapping[str, Any], timeout: str) -> str:
    """Why the reservation counts as not Ready in time although it is Ready now (it became Ready after the
    deadline, e.g. while no operator ran), else ``""``."""
    started = entered(status, "Reserving")
    conditions: list[dict[str, Any]] = (reservation.get("status") or {}).get("conditions") or []
    cond = next((c for c in conditions if c.get("type") == "Ready"), {})
    ready_at = parse_time(cond.get("lastTransitionTime"))
    if started is None or ready_at is None:
        return ""
    late = (ready_at - started).total_seconds() - parse_duration(timeout)
    return f"reservation pod Ready only {late + parse_duration(timeout):.0f} s after it was started" if late > 1 else ""


def _evicting(m: Migration, facts: Facts) -> Decision:
    spec, status, now = m.spec, m.status, facts.now
    if _pod_replaced(m, facts):  # evicted before a restart, or by someone else
        return enter(m, status, "Rescheduling", f"pod {spec.pod_name} is gone; waiting for its replacement", now)
    if spec.mode == "ReservationFirst":
        if facts.reservation is None:
            return fail(m, status, "ReservationLost", f"reservation pod {status.replacement_pod} disappeared", now)
        if not is_ready(facts.reservation):
            if overdue(status, "Evicting", spec.ready_timeout, now):
                return fail(m, status, "ReservationNotReady", "reservation pod is no longer Ready", now)
            return Decision(status)
    if overdue(status, "Evicting", spec.eviction_timeout, now):
        budget = _last_block(status)
        return fail(m, status, "DisruptionBudgetBlocked", f"not evicted within {spec.eviction_timeout}: {budget}", now)
    if spec.mode == "ReservationFirst" and facts.owner is not None:
        # adopt right after a successful eviction, before the ReplicaSet's own replacement can be Ready
        return Decision(status, Action.EVICT, adoption_patch(facts.owner))
    return Decision(status, Action.EVICT)


def _last_block(status: MigrationStatus) -> str:
    cond = next((c for c in status.conditions if c.type == FINISHED), None)
    return cond.message if cond is not None and cond.reason == "DisruptionBudgetBlocked" else "eviction refused"


def after_eviction(m: Migration, result: EvictionResult, message: str, now: datetime) -> Decision:
    """Status after an eviction request (the pod's fate is re-read on the next decision)."""
    status = m.status.model_copy(update={"eviction_attempts": m.status.eviction_attempts + 1})
    if result in (EvictionResult.EVICTED, EvictionResult.GONE):
        text = f"pod {m.spec.pod_name} evicted" if result is EvictionResult.EVICTED else "pod already gone"
        return enter(m, status, "Rescheduling", f"{text}; waiting for the replacement", now)
    if result is EvictionResult.BLOCKED:
        before = next((c for c in status.conditions if c.type == FINISHED), None)
        first = before is None or before.reason != "DisruptionBudgetBlocked"
        event = Event("Warning", "DisruptionBudgetBlocked", message) if first else None
        return Decision(_progress(m, status, "DisruptionBudgetBlocked", message, now), event=event)
    return fail(m, status, "EvictionRefused", message, now)


def _rescheduling(m: Migration, facts: Facts) -> Decision:
    spec, status, now = m.spec, m.status, facts.now
    if spec.mode == "EvictDirectly":
        if facts.replacement is not None:
            node = node_of(facts.replacement)
            name = str((facts.replacement.get("metadata") or {}).get("name", ""))
            return enter(m, status, "Succeeded", f"replacement {name} Ready on {node}", now,
                         destination_node=node, replacement_pod=name)  # fmt: skip
        if overdue(status, "Rescheduling", spec.ready_timeout, now):
            return fail(m, status, "ReplacementNotReady", f"no Ready replacement within {spec.ready_timeout}", now)
        return Decision(status)
    reservation, owner = facts.reservation, facts.owner
    if reservation is None:
        return fail(m, status, "ReplacementLost", f"reservation pod {status.replacement_pod} disappeared", now)
    controller = controller_of(reservation)
    if controller is None:
        if owner is None or overdue(status, "Rescheduling", spec.ready_timeout, now):
            return fail(m, status, "AdoptionFailed", "the ReplicaSet did not adopt the reservation pod", now)
        return Decision(status, Action.ADOPT, adoption_patch(owner))
    if status.owner is None or controller.uid != status.owner.uid:
        return fail(m, status, "AdoptionFailed", f"reservation adopted by {controller.kind} {controller.name}", now)
    settled = owner is not None and owner.status_replicas == owner.replicas
    if not settled or not is_ready(reservation):
        if overdue(status, "Rescheduling", spec.ready_timeout, now):
            return fail(m, status, "ReplacementNotReady", "the ReplicaSet did not settle in time", now)
        return Decision(status)
    annotations = (reservation.get("metadata") or {}).get("annotations") or {}
    if DELETION_COST_ANNOTATION in annotations:
        return Decision(status, Action.CLEAR_DELETION_COST)
    node = node_of(reservation)
    return enter(m, status, "Succeeded", f"{status.replacement_pod} Ready on {node}, owned by {controller.name}", now,
                 destination_node=node)  # fmt: skip
