"""Times in a Migration's life (pure): when phases were entered, how long they took, when a Migration
expires, and which pod replaced an evicted one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from augur.api.durations import parse_duration
from augur.api.meta import epoch_seconds
from augur.api.v1alpha1.migration import TERMINAL_PHASES, Durations, MigrationStatus
from augur.migration.movability import controller_of, is_ready


def entered(status: MigrationStatus, phase: str) -> datetime | None:
    return next((t.time for t in reversed(status.phase_history) if t.phase == phase), None)


def overdue(status: MigrationStatus, phase: str, timeout: str, now: datetime) -> bool:
    since = entered(status, phase)
    return since is not None and (now - since).total_seconds() > parse_duration(timeout)


def node_of(pod: Mapping[str, Any] | None) -> str:
    return str(((pod or {}).get("spec") or {}).get("nodeName") or "")


def uid_of(pod: Mapping[str, Any] | None) -> str:
    return str(((pod or {}).get("metadata") or {}).get("uid") or "")


def durations(status: MigrationStatus) -> Durations:
    def between(a: str, b: str) -> float | None:
        start, end = entered(status, a), entered(status, b)
        return None if start is None or end is None else max(0.0, (end - start).total_seconds())

    end = status.completion_time
    total = None if status.start_time is None or end is None else max(0.0, (end - status.start_time).total_seconds())
    following = {"Reserving": "Evicting", "Evicting": "Rescheduling"}
    last = status.phase_history[-1].phase if status.phase_history else ""
    return Durations(
        reserving_seconds=between("Reserving", "Evicting") or _until_end(status, "Reserving", last, following),
        evicting_seconds=between("Evicting", "Rescheduling") or _until_end(status, "Evicting", last, following),
        rescheduling_seconds=_until_end(status, "Rescheduling", last, following),
        total_seconds=total,
    )


def _until_end(status: MigrationStatus, phase: str, last: str, following: Mapping[str, str]) -> float | None:
    """Time from entering ``phase`` to the end, when the move ended in it (no later phase entered)."""
    start, end = entered(status, phase), status.completion_time
    if start is None or end is None or (phase in following and entered(status, following[phase]) is not None):
        return None
    return max(0.0, (end - start).total_seconds()) if last in TERMINAL_PHASES else None


def evicted_at(status: MigrationStatus) -> datetime | None:
    """When the pod was seen evicted (``Rescheduling`` entered)."""
    return entered(status, "Rescheduling")


def find_replacement(
    pods: Sequence[Mapping[str, Any]], owner_uid: str, evicted_uid: str, since: datetime
) -> Mapping[str, Any] | None:
    """EvictDirectly: the oldest Ready pod of the controller ``owner_uid`` other than the evicted one,
    created at or after ``since`` (creation times have whole seconds, so one second of slack)."""
    floor = since.timestamp() - 1.0
    candidates = []
    for pod in pods:
        owner = controller_of(pod)
        created = _created(pod)
        if owner is None or owner.uid != owner_uid or uid_of(pod) == evicted_uid or not is_ready(pod):
            continue
        if created is not None and created >= floor:
            candidates.append((created, pod))
    candidates.sort(key=lambda c: c[0])
    return candidates[0][1] if candidates else None


def _created(pod: Mapping[str, Any]) -> float | None:
    return epoch_seconds((pod.get("metadata") or {}).get("creationTimestamp"))


def expired(raw: Mapping[str, Any], now: float, retention_seconds: float) -> bool:
    """Whether a Migration (raw) is due for deletion: finished more than ``retention_seconds`` ago, or an
    unapproved plan created that long ago. Moves in progress never expire."""
    status, spec, meta = raw.get("status") or {}, raw.get("spec") or {}, raw.get("metadata") or {}
    if status.get("phase") in TERMINAL_PHASES:
        since = status.get("completionTime")
    elif spec.get("approved") is False and status.get("phase", "Pending") == "Pending":
        since = meta.get("creationTimestamp")
    else:
        return False
    finished = epoch_seconds(since)
    return finished is not None and now - finished >= retention_seconds
