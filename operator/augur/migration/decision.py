"""What the Migration executor's state machine (:mod:`augur.migration.machine`) reads and returns, and the
words it writes: the :class:`Migration` and the :class:`Facts` the cluster shows now go in; a
:class:`Decision` comes out (the status to persist, at most one :class:`Action` with its body, and an
:class:`Event`); the operator reports an eviction request back as an :class:`EvictionResult`. The
constants name every outcome reason the executor writes (:data:`OUTCOME_REASONS`) and the terminal phase
each one ends in (:data:`OUTCOME_PHASE`, :func:`outcome_phase`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from augur.api.v1alpha1.migration import MigrationSpec, MigrationStatus
from augur.migration.reservation import OwnerTemplate

FINISHED = "Finished"

ROLLED_BACK = frozenset({"ReservationNotReady", "PodGone", "ReservationLost"})
"""Outcomes recorded as ``RolledBack``: the reservation was removed, the pod was never evicted."""
OUTCOME_PHASE: Mapping[str, str] = {"Moved": "Succeeded", **dict.fromkeys(ROLLED_BACK, "RolledBack")}
"""Terminal phase of an outcome reason; any other reason is ``Failed``."""


MOVABILITY_REASONS = (
    "PodTerminating",
    "PodNotRunning",
    "MirrorPod",
    "NoController",
    "DaemonSetPod",
    "OwnerNotSupported",
    "CriticalPod",
    "EvictionDisabled",
    "LocalStorage",
    "LastAvailableReplica",
)
OUTCOME_REASONS = (
    "Moved",
    "InvalidSpec",
    "PodNotFound",
    "AlreadyMoving",
    *MOVABILITY_REASONS,
    "TargetNodeNotFound",
    "TargetNodeUnschedulable",
    "AlreadyOnTarget",
    "ReservationNotSupported",
    "OwnerNotFound",
    "PodGone",
    "TargetNodeFull",
    "NoNodeAvailable",
    "ReservationNotReady",
    "ReservationLost",
    "DisruptionBudgetBlocked",
    "EvictionRefused",
    "ReplacementNotReady",
    "ReplacementLost",
    "AdoptionFailed",
)
"""Every outcome reason the executor writes (docs/migration.md explains each)."""


def outcome_phase(reason: str) -> str:
    return OUTCOME_PHASE.get(reason, "Failed")


class Action(enum.Enum):
    NONE = "None"
    CREATE_RESERVATION = "CreateReservation"
    EVICT = "Evict"
    ADOPT = "Adopt"
    CLEAR_DELETION_COST = "ClearDeletionCost"
    DELETE_RESERVATION = "DeleteReservation"


class EvictionResult(enum.Enum):
    EVICTED = "Evicted"
    BLOCKED = "Blocked"
    """429: a PodDisruptionBudget allows no disruption now."""
    GONE = "Gone"
    """404: the pod no longer exists."""
    REFUSED = "Refused"
    """Any other refusal (several budgets match, RBAC, ...): not retried."""


@dataclass(frozen=True)
class Facts:
    """What the cluster shows now (read by the operator right before :func:`decide`)."""

    now: datetime
    pod: Mapping[str, Any] | None
    """The pod named ``spec.podName`` (whatever its UID)."""
    available: int = 0
    """Ready pods of the pod's controller, this one included."""
    owner: OwnerTemplate | None = None
    """The pod's ReplicaSet (ReservationFirst); None when it is not one or is gone."""
    priority: int = 0
    """The pod's priority (``spec.priority``), which the reservation keeps."""
    target_exists: bool = True
    target_unschedulable: bool = False
    reservation: Mapping[str, Any] | None = None
    """The reservation pod (``status.replacementPod``) when it exists."""
    replacement: Mapping[str, Any] | None = None
    """EvictDirectly: the Ready pod of the same controller created since the eviction."""
    moving: str = ""
    """Another Migration already moving this pod (past ``Pending``), if any."""


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Decision:
    status: MigrationStatus
    """To persist before the action."""
    action: Action = Action.NONE
    body: dict[str, Any] | None = None
    """Manifest (create) or merge patch (adopt, clear) of the action; for ``EVICT`` of a ReservationFirst
    move, the adoption patch to send at once when the eviction succeeded."""
    event: Event | None = None
    again: bool = False
    """Decide again right away (the phase moved on and the next step needs no waiting)."""


@dataclass(frozen=True)
class Migration:
    """The parts of a Migration the machine needs."""

    name: str
    namespace: str
    uid: str
    generation: int
    spec: MigrationSpec
    status: MigrationStatus
