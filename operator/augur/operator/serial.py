"""One reconcile at a time per profile, each starting from the newest status this replica wrote.

kopf runs a profile's change handlers (create, update, resume) and its timer independently, each with
its own snapshot of the object. Two of them can reconcile the same profile at once, or one right after
the other from a snapshot that predates the other's status write; both then see the same condition
transition and post the same Event twice (seen in e2e: two ``Conflict`` Events 1.7 s apart).
:class:`ProfileSerializer` serializes the reconciles of one object and hands each the status this
replica applied last. While it leads, this replica is the only writer of the status, so that status is
never older than the object's; after a restart (or a new leader) nothing is remembered and the
object's own status is used.
"""

from __future__ import annotations

import threading
from typing import Any


class ProfileSerializer:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._applied: dict[str, dict[str, Any]] = {}

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

    def forget(self, uid: str) -> None:
        with self._guard:
            self._locks.pop(uid, None)
        self._applied.pop(uid, None)
