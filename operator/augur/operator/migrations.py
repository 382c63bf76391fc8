"""The Migration executor: kopf timers that step each unfinished ``Migration`` and garbage-collect
finished ones. Decisions are :func:`augur.migration.machine.decide` (pure); cluster reads and writes are
:mod:`augur.kube.moves` and :mod:`augur.kube.eviction`.

Every step re-reads the Migration (never a stale snapshot), gathers the facts, persists the decided
status with server-side apply, and only then acts, so an operator restart resumes from the persisted
phase. Only the replica that runs kopf acts: with leader election that is the leader. The executor acts
on the Migrations matching ``AUGUR_SHARD_SELECTOR`` and is off with ``AUGUR_MIGRATIONS=false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf

from augur.api import GROUP, VERSION
from augur.api.v1alpha1.migration import TERMINAL_PHASES, MigrationSpec, MigrationStatus
from augur.api.validation import SpecError, parse
from augur.kube.client import KubeError, api_client
from augur.kube.eviction import evict
from augur.kube.moves import Moves
from augur.kube.status import apply_status
from augur.migration.machine import (
    OUTCOME_REASONS,
    Action,
    Decision,
    EvictionResult,
    Facts,
    Migration,
    after_eviction,
    decide,
    enter,
    evicted_at,
    fail,
    find_replacement,
)
from augur.migration.movability import available_by_controller, controller_of
from augur.migration.reservation import CLEAR_DELETION_COST_PATCH, MIGRATION_LABEL, priority_of_class
from augur.operator import metrics
from augur.operator.settings import SETTINGS
from augur.operator.sharding import kopf_labels

SHARD = kopf_labels(SETTINGS.shard_selector)
MAX_STEPS = 6
"""Decisions per tick at most (a phase change is followed at once by the next phase's first action)."""
BLOCKED_RETRY_SECONDS = 5.0
"""Delay before an eviction refused by a PodDisruptionBudget is tried again."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Loaded:
    migration: Migration | None
    invalid: str = ""


def _load(raw: dict[str, Any]) -> _Loaded:
    meta = raw.get("metadata") or {}
    status = MigrationStatus.model_validate(raw.get("status") or {})
    base = {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]}
    generation = int(meta.get("generation") or 1)
    try:
        spec = parse(MigrationSpec, raw.get("spec") or {})
    except SpecError as exc:
        return _Loaded(None, str(exc))
    return _Loaded(Migration(spec=spec, status=status, generation=generation, **base))


def gather(m: Migration, moves: Moves, now: datetime) -> Facts:
    """What :func:`decide` needs for ``m``'s phase, read from the API server."""
    ns, spec, status = m.namespace, m.spec, m.status
    pod = moves.pod(ns, spec.pod_name)
    priority = int(((pod or {}).get("spec") or {}).get("priority") or 0)
    facts: dict[str, Any] = {"now": now, "pod": pod, "priority": priority}
    owner = controller_of(pod) if pod is not None and status.phase == "Pending" else None
    owner_kind = owner.kind if owner else (status.owner.kind if status.owner else "")
    owner_name = owner.name if owner else (status.owner.name if status.owner else "")
    if owner is not None:
        facts["available"] = available_by_controller(moves.pods_of(ns, owner.uid, ""))[owner.uid]
    if spec.mode == "ReservationFirst" and owner_kind == "ReplicaSet":
        facts["owner"] = moves.replica_set(ns, owner_name)
    if spec.target_node and status.phase == "Pending":
        node = moves.node(spec.target_node)
        facts["target_exists"] = node is not None
        facts["target_unschedulable"] = bool(((node or {}).get("spec") or {}).get("unschedulable"))
    if status.replacement_pod and spec.mode == "ReservationFirst":
        reservation = moves.pod(ns, status.replacement_pod)
        ours = ((reservation or {}).get("metadata") or {}).get("labels", {}).get(MIGRATION_LABEL) == m.name
        facts["reservation"] = reservation if ours else None
    since = evicted_at(status)
    if spec.mode == "EvictDirectly" and status.phase == "Rescheduling" and status.owner and since:
        pods = moves.pods_of(ns, status.owner.uid, "")
        facts["replacement"] = find_replacement(pods, status.owner.uid, status.pod_uid, since)
    return Facts(**facts)


class Executor:
    """Steps one Migration: decide, persist, act, repeat while the move can go on at once."""

    def __init__(self, moves: Moves, api: Any) -> None:
        self.moves = moves
        self.api = api

    def persist(self, m: Migration, decision: Decision, body: kopf.Body, logger: kopf.Logger | None) -> Migration:
        if decision.status != m.status:
            status = decision.status.model_dump(by_alias=True, exclude_none=True, mode="json")
            apply_status(self.api, "Migration", "migrations", m.namespace, m.name, status)
        if decision.event is not None:
            kopf.event(body, type=decision.event.type, reason=decision.event.reason, message=decision.event.message)
            if logger is not None:
                logger.info(f"{decision.event.reason}: {decision.event.message}")
        if decision.status.phase in TERMINAL_PHASES and m.status.phase not in TERMINAL_PHASES:
            _count(decision.status)
        return Migration(m.name, m.namespace, m.uid, m.generation, m.spec, decision.status)

    def step(self, m: Migration, body: kopf.Body, logger: kopf.Logger) -> None:
        for _ in range(MAX_STEPS):
            decision = decide(m, gather(m, self.moves, utcnow()))
            m = self.persist(m, decision, body, logger)
            if decision.action is Action.NONE and not decision.again:
                return
            if decision.action is not Action.NONE:
                m = self.act(m, decision, body, logger)

    def act(self, m: Migration, decision: Decision, body: kopf.Body, logger: kopf.Logger) -> Migration:
        ns, status = m.namespace, m.status
        if decision.action is Action.CREATE_RESERVATION:
            assert decision.body is not None
            self.moves.ensure_priority_class(priority_of_class(str(decision.body["spec"]["priorityClassName"])))
            self.moves.create_pod(decision.body)
        elif decision.action is Action.EVICT:
            result, message = evict(self.api, ns, m.spec.pod_name, status.pod_uid)
            metrics.eviction(result.value)
            m = self.persist(m, after_eviction(m, result, message, utcnow()), body, logger)
            if result is EvictionResult.BLOCKED:
                raise kopf.TemporaryError(f"eviction refused: {message}", delay=BLOCKED_RETRY_SECONDS)
        elif decision.action in (Action.ADOPT, Action.CLEAR_DELETION_COST):
            patch = decision.body if decision.action is Action.ADOPT else CLEAR_DELETION_COST_PATCH
            assert patch is not None
            self.moves.patch_pod(ns, status.replacement_pod, patch)
        elif decision.action is Action.DELETE_RESERVATION:
            reservation = self.moves.pod(ns, status.replacement_pod) or {}
            self.moves.delete_pod(ns, status.replacement_pod, str((reservation.get("metadata") or {}).get("uid", "")))
        return m


def _count(status: MigrationStatus) -> None:
    durations = status.durations
    predicted = (status.predicted_gain.kind, status.predicted_gain.value) if status.predicted_gain else None
    measured = (status.measured_gain.kind, status.measured_gain.value) if status.measured_gain else None
    seconds = durations.total_seconds if durations else None
    metrics.migration_finished(status.phase, status.reason, OUTCOME_REASONS, seconds, predicted, measured)


@kopf.on.startup()
def configure_migrations(memo: kopf.Memo, **_: Any) -> None:
    api = api_client()
    memo["migration_executor"] = Executor(Moves(api), api)


def _unfinished(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") not in TERMINAL_PHASES


def _collectable(status: kopf.Status, spec: kopf.Spec, **_: Any) -> bool:
    return status.get("phase") in TERMINAL_PHASES or spec.get("approved") is False


@kopf.timer(GROUP, VERSION, "migrations", interval=SETTINGS.migration_poll_seconds, when=_unfinished, labels=SHARD)
def migration_step(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    executor: Executor = memo["migration_executor"]
    meta = body.metadata
    try:
        raw = executor.moves.migration(str(meta.namespace), str(meta.name))
        if raw is None:
            return  # deleted meanwhile
        loaded = _load(raw)
        if loaded.migration is None:
            _invalid(executor, raw, loaded.invalid, body)
            return
        executor.step(loaded.migration, body, logger)
    except KubeError as exc:
        if exc.status.transient:
            raise kopf.TemporaryError(str(exc), delay=SETTINGS.migration_poll_seconds * 2) from exc
        if exc.status.code == 404:
            return
        raise kopf.PermanentError(str(exc)) from exc


def _invalid(executor: Executor, raw: dict[str, Any], message: str, body: kopf.Body) -> None:
    """A spec the schema let through but the models refuse (an older CRD): Failed, nothing touched."""
    meta = raw["metadata"]
    m = Migration(
        meta["name"],
        meta["namespace"],
        meta["uid"],
        int(meta.get("generation") or 1),
        MigrationSpec.model_construct(pod_name=str((raw.get("spec") or {}).get("podName", "")), approved=True),
        MigrationStatus.model_validate(raw.get("status") or {}),
    )
    decided = fail(m, m.status, "InvalidSpec", message, utcnow()).status
    executor.persist(m, enter(m, decided, "Failed", message, utcnow()), body, None)


@kopf.timer(
    GROUP,
    VERSION,
    "migrations",
    interval=min(60.0, SETTINGS.migration_retention_seconds / 2),
    when=_collectable,
    labels=SHARD,
)
def migration_gc(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Delete a finished Migration (an unapproved plan) ``AUGUR_MIGRATION_RETENTION_SECONDS`` after it
    finished (was created)."""
    status, meta = body.status, body.metadata
    since = status.get("completionTime") if status.get("phase") in TERMINAL_PHASES else meta.creation_timestamp
    if not since:
        return
    age = (utcnow() - datetime.fromisoformat(str(since).replace("Z", "+00:00"))).total_seconds()
    if age < SETTINGS.migration_retention_seconds:
        return
    executor: Executor = memo["migration_executor"]
    try:
        executor.moves.delete_migration(str(meta.namespace), str(meta.name), str(meta.uid))
    except KubeError as exc:
        raise kopf.TemporaryError(str(exc), delay=30) from exc
    logger.info(f"deleted after the retention period ({age:.0f} s old)")
