"""One reconcile at a time per profile, each starting from the newest status this replica wrote.

kopf runs a profile's change handlers (create, update, resume) and its timer independently, each with
its own snapshot of the object. Two of them can reconcile the same profile at once, or one right after
the other from a snapshot that predates the other's status write; both then see the same condition
transition and post the same Event twice (seen in e2e: two ``Conflict`` Events 1.7 s apart).
:class:`ProfileSerializer` serializes the reconciles of one object and hands each the status this
replica applied last. While it leads, this replica is the only writer of the status, so that status is
never older than the object's; after a restart (or a new leader) nothing is remembered and the
object's own status is used.

It also says whether a new status is worth applying (:meth:`ProfileSerializer.needs_apply`): a status
that differs from the last applied one only in its times (:data:`VOLATILE`) is re-applied at most every
``refresh`` seconds. At a 30 s cadence and a 5-minute demand step most cycles change nothing else, and
each apply costs an API write plus a watch event that every watcher of the object (kopf included)
processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

VOLATILE = (("lastDecision", "time"), ("forecast", "generatedAt"))
"""Status fields that change at every cycle even when nothing else does."""


def without_times(status: dict[str, Any]) -> dict[str, Any]:
    """``status`` without the :data:`VOLATILE` fields (a shallow copy where needed)."""
    out = dict(status)
    for outer, inner in VOLATILE:
        if isinstance(out.get(outer), dict) and inner in out[outer]:
            out[outer] = {k: v for k, v in out[outer].items() if k != inner}
    return out


class ProfileSerializer:
    def __init__(self, refresh: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._applied: dict[str, dict[str, Any]] = {}
        self._applied_at: dict[str, float] = {}
        self.refresh, self.clock = refresh, clock

    def lock(self, uid: str) -> threading.Lock:
        """The lock that serializes the reconciles of the object ``uid``."""
        with self._guard:
            return self._locks.setdefault(uid, threading.Lock())

    def latest(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the status this replica applied last, when that is known."""
        applied = self._applied.get(uid)
        return body if applied is None else {**body, "status": applied}

    def applied(self, uid: str, status: dict[str, Any]) -> None:
        """Remember the complete status just applied to ``uid``."""
        self._applied[uid] = status
        self._applied_at[uid] = self.clock()

    def needs_apply(self, uid: str, status: dict[str, Any]) -> bool:
        """False when ``status`` equals the one applied last, times aside, and that one is younger than
        ``refresh`` seconds."""
        applied = self._applied.get(uid)
        if applied is None or self.clock() - self._applied_at.get(uid, -1e18) >= self.refresh:
            return True
        return without_times(applied) != without_times(status)

    def forget(self, uid: str) -> None:
        with self._guard:
            self._locks.pop(uid, None)
        self._applied.pop(uid, None)
        self._applied_at.pop(uid, None)
