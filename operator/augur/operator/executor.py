"""Stepping one ``Migration``: gather the facts, :func:`augur.migration.machine.decide` (pure), persist
the decided status with server-side apply, and only then act, so a restart resumes from the persisted
phase. Cluster reads and writes are :mod:`augur.kube.moves` and :mod:`augur.kube.eviction`; the loop that
calls this is :mod:`augur.operator.migrations`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from augur.api.v1alpha1.migration import TERMINAL_PHASES, MigrationSpec, MigrationStatus
from augur.api.validation import SpecError, parse
from augur.kube.client import KubeError
from augur.kube.eviction import evict
from augur.kube.moves import Moves
from augur.kube.status import apply_status
from augur.migration.decision import OUTCOME_REASONS, Action, Decision, EvictionResult, Facts, Migration
from augur.migration.machine import after_eviction, decide, enter, fail
from augur.migration.movability import available_by_controller, controller_of
from augur.migration.reservation import CLEAR_DELETION_COST_PATCH, MIGRATION_LABEL, priority_of_class
from augur.migration.timeline import evicted_at, find_replacement
from augur.operator import metrics

logger = logging.getLogger("augur.operator.migrations")
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


def gather(m: Migration, moves: Moves, now: datetime, moving: str = "") -> Facts:
    """What :func:`decide` needs for ``m``'s phase, read from the API server."""
    ns, spec, status = m.namespace, m.spec, m.status
    pod = moves.pod(ns, spec.pod_name)
    priority = int(((pod or {}).get("spec") or {}).get("priority") or 0)
    facts: dict[str, Any] = {"now": now, "pod": pod, "priority": priority, "moving": moving}
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
        ours = (((reservation or {}).get("metadata") or {}).get("labels") or {}).get(MIGRATION_LABEL) == m.name
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
        self.not_before: dict[str, float] = {}
        """Migration UID → monotonic time before which it is not stepped (a refused eviction waits)."""

    def persist(self, m: Migration, decision: Decision) -> Migration:
        if decision.status != m.status:
            status = decision.status.model_dump(by_alias=True, exclude_none=True, mode="json")
            apply_status(self.api, "Migration", "migrations", m.namespace, m.name, status)
        if decision.event is not None:
            event = decision.event
            self.moves.post_event(m.namespace, m.name, m.uid, event.type, event.reason, event.message)
            logger.info(f"[{m.namespace}/{m.name}] {event.reason}: {event.message}")
        if decision.status.phase in TERMINAL_PHASES and m.status.phase not in TERMINAL_PHASES:
            _count(decision.status)
        return Migration(m.name, m.namespace, m.uid, m.generation, m.spec, decision.status)

    def step(self, m: Migration, moving: str = "") -> Migration:
        """Decide and act until the move has to wait (at most :data:`MAX_STEPS` decisions); the Migration
        as persisted last."""
        if not m.spec.approved:  # a plan: nothing to read, the decision only records AwaitingApproval
            return self.persist(m, decide(m, Facts(now=utcnow(), pod=None)))
        for _ in range(MAX_STEPS):
            decision = decide(m, gather(m, self.moves, utcnow(), moving))
            m = self.persist(m, decision)
            if decision.action is Action.NONE and not decision.again:
                return m
            if decision.action is not Action.NONE:
                m, wait = self.act(m, decision)
                if wait:
                    self.not_before[m.uid] = time.monotonic() + BLOCKED_RETRY_SECONDS
                    return m
        return m

    def act(self, m: Migration, decision: Decision) -> tuple[Migration, bool]:
        """Take the decided action; True when the move must wait before the next step."""
        ns, status = m.namespace, m.status
        if decision.action is Action.CREATE_RESERVATION:
            assert decision.body is not None
            self.moves.ensure_priority_class(priority_of_class(str(decision.body["spec"]["priorityClassName"])))
            self.moves.create_pod(decision.body)
        elif decision.action is Action.EVICT:
            result, message = evict(self.api, ns, m.spec.pod_name, status.pod_uid)
            if decision.body is not None and result in (EvictionResult.EVICTED, EvictionResult.GONE):
                # no read or write in between: the ReplicaSet must see the reservation before its own
                # replacement is Ready (docs/migration.md, "One Ready pod per move")
                try:
                    self.moves.patch_pod(ns, status.replacement_pod, decision.body)
                except KubeError as exc:  # Rescheduling adopts it again
                    logger.warning(f"[{ns}/{m.name}] adoption right after the eviction failed: {exc}")
            metrics.eviction(result.value)
            m = self.persist(m, after_eviction(m, result, message, utcnow()))
            if result is EvictionResult.BLOCKED:
                logger.info(
                    f"[{m.namespace}/{m.name}] eviction refused, retrying in {BLOCKED_RETRY_SECONDS:.0f} s: {message}"
                )
                return m, True
        elif decision.action in (Action.ADOPT, Action.CLEAR_DELETION_COST):
            patch = decision.body if decision.action is Action.ADOPT else CLEAR_DELETION_COST_PATCH
            assert patch is not None
            self.moves.patch_pod(ns, status.replacement_pod, patch)
        elif decision.action is Action.DELETE_RESERVATION:
            reservation = self.moves.pod(ns, status.replacement_pod) or {}
            self.moves.delete_pod(ns, status.replacement_pod, str((reservation.get("metadata") or {}).get("uid", "")))
        return m, False

    def handle(self, raw: dict[str, Any], moving: str = "") -> str:
        """Step one listed Migration (re-read first: never act on a stale copy); errors stay per object.
        ``moving``: another Migration already moving the same pod (this one then fails ``AlreadyMoving``).
        Returns the phase the Migration was left in (the listed one when it was not stepped), ``""`` when a
        failed step leaves it unknown."""
        meta = raw.get("metadata") or {}
        uid, where = str(meta.get("uid", "")), f"{meta.get('namespace')}/{meta.get('name')}"
        phase = str((raw.get("status") or {}).get("phase") or "Pending")
        if phase in TERMINAL_PHASES or time.monotonic() < self.not_before.get(uid, 0):
            return phase
        self.not_before.pop(uid, None)
        if _waiting_for_approval(raw):
            return phase
        try:
            fresh = self.moves.migration(str(meta["namespace"]), str(meta["name"]))
            if fresh is None:
                return phase
            loaded = _load(fresh)
            if loaded.migration is None:
                self._invalid(fresh, loaded.invalid)
                return "Failed"
            return self.step(loaded.migration, moving).status.phase
        except KubeError as exc:
            level = logging.INFO if exc.status.transient else logging.ERROR
            logger.log(level, f"[{where}] step failed, retrying next tick: {exc}")
            return ""  # unknown: it may have started

    def _invalid(self, raw: dict[str, Any], message: str) -> None:
        """A spec the schema let through but the models refuse (an older CRD): Failed, nothing touched."""
        meta = raw["metadata"]
        spec = MigrationSpec.model_construct(pod_name=str((raw.get("spec") or {}).get("podName", "")), approved=True)
        status = MigrationStatus.model_validate(raw.get("status") or {})
        m = Migration(meta["name"], meta["namespace"], meta["uid"], int(meta.get("generation") or 1), spec, status)
        decided = fail(m, m.status, "InvalidSpec", message, utcnow()).status
        self.persist(m, enter(m, decided, "Failed", message, utcnow()))


def _waiting_for_approval(raw: dict[str, Any]) -> bool:
    """An unapproved plan whose status already says so for its generation: nothing to read or write."""
    meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
    if spec.get("approved") is not False:
        return False
    conditions: list[dict[str, Any]] = status.get("conditions") or []
    cond = next((c for c in conditions if c.get("type") == "Finished"), {})
    return bool(cond.get("reason") == "AwaitingApproval" and cond.get("observedGeneration") == meta.get("generation"))


def _count(status: MigrationStatus) -> None:
    durations = status.durations
    predicted = (status.predicted_gain.kind, status.predicted_gain.value) if status.predicted_gain else None
    measured = (status.measured_gain.kind, status.measured_gain.value) if status.measured_gain else None
    seconds = durations.total_seconds if durations else None
    metrics.migration_finished(status.phase, status.reason, OUTCOME_REASONS, seconds, predicted, measured)
