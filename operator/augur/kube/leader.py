"""Leader election on a ``coordination.k8s.io/v1`` Lease: of several replicas exactly one acts.

The rules are those of client-go's ``leaderelection`` package:

- A replica **acquires** the Lease when it does not exist, is released (no holder), or its holder has
  not renewed it for ``leaseDurationSeconds`` *as observed by this replica's own monotonic clock* (the
  time the record last changed here, not the ``renewTime`` in it, so clock skew between nodes does not
  matter).
- Every write carries the ``resourceVersion`` that was read: when two replicas race, the API server
  accepts one and refuses the other with 409 Conflict.
- The leader **renews** every ``renew_every`` seconds (retrying every ``retry_every`` after a failure)
  and counts itself leader only while its last successful renewal is younger than ``renew_deadline``,
  which is shorter than the lease duration: it stops acting before anybody else may take over.
- On a clean shutdown the leader **releases** the Lease (empty holder, duration 1 s) so a standby takes
  over at once; after a crash (SIGKILL) the standby waits for the lease duration.

:class:`Elector` holds the rules with an injected clock and store (unit-tested with an in-memory
store). The operator drives it from asyncio (:mod:`augur.operator.leader`); the scheduler extender's gate
keeper from a thread (:mod:`augur_extender.leadership`).
"""

from __future__ import annotations

import enum
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from augur.kube.client import KubeError
from augur.kube.lease import LeaseConflictError, LeaseRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseTiming:
    """Leader-election timing (the client-go defaults, with a slower renewal)."""

    duration: float = 15.0
    renew_deadline: float = 10.0
    renew_every: float = 5.0
    retry_every: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_every <= self.renew_every < self.renew_deadline < self.duration:
            raise ValueError(
                "lease timing must satisfy 0 < retry <= renew < renew deadline < duration, got "
                f"retry {self.retry_every}, renew {self.renew_every}, deadline {self.renew_deadline}, "
                f"duration {self.duration}"
            )


def identity(env: dict[str, str] | None = None) -> str:
    """This replica's name in the Lease: ``$POD_NAME`` (else the host name) and the process id."""
    env = dict(os.environ) if env is None else env
    return f"{env.get('POD_NAME') or os.uname().nodename}_{os.getpid()}"


class LeaseStore(Protocol):
    """Where the Lease lives (:class:`augur.kube.lease.KubeLeaseStore`, or a dict in unit tests)."""

    @property
    def where(self) -> str: ...

    def get(self) -> LeaseRecord | None: ...

    def create(self, record: LeaseRecord) -> LeaseRecord: ...

    def update(self, record: LeaseRecord) -> LeaseRecord: ...


class Attempt(enum.Enum):
    LEADING = "Leading"
    """Acquired or renewed: this replica leads."""
    HELD = "HeldByOther"
    """Another live replica holds the Lease."""
    CONFLICT = "Conflict"
    """Another writer changed the Lease between our read and write."""
    FAILED = "Failed"
    """The API server could not be reached or answered with a transient error."""


class LeaderElectionError(Exception):
    """The Lease cannot be used at all (RBAC refusal, missing namespace): a configuration error."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Elector:
    def __init__(
        self,
        store: LeaseStore,
        identity: str,
        timing: LeaseTiming,
        *,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = _utcnow,
        hint: str = "is the Role bound and the namespace present?",
    ) -> None:
        self.store, self.identity, self.timing = store, identity, timing
        self.hint = hint
        """What to check when the Lease cannot be used at all (added to :class:`LeaderElectionError`)."""
        self._clock, self._wallclock = clock, wallclock
        self._observed: tuple[str, datetime | None, str] | None = None
        self._observed_at = 0.0
        self._renewed_at: float | None = None
        self._resigned = False
        self._record: LeaseRecord | None = None
        self.holder = ""
        """The holder as last seen (this replica's identity while it leads)."""
        self.last_error = ""

    def is_leader(self) -> bool:
        """True while the last successful acquire/renew is younger than the renew deadline."""
        renewed = self._renewed_at
        return renewed is not None and self._clock() - renewed < self.timing.renew_deadline

    def step_down(self) -> None:
        """Stop counting as leader, for good: a renewal still in flight cannot revive it (the process exits
        after losing leadership and comes back as a new standby)."""
        self._resigned = True
        self._renewed_at = None

    def remaining(self) -> float:
        """Seconds of leadership left without another renewal (0 when not leading)."""
        renewed = self._renewed_at
        return 0.0 if renewed is None else max(0.0, self.timing.renew_deadline - (self._clock() - renewed))

    def attempt(self) -> Attempt:
        """One try to acquire or renew. Raises :class:`LeaderElectionError` for non-transient API errors."""
        now = self._clock()
        try:
            record = self.store.get()
            if record is not None:
                self._observe(record, now)
                if self._held_by_other(record, now):
                    self._renewed_at = None
                    return Attempt.HELD
            stored = self.store.create(self._claim(None)) if record is None else self.store.update(self._claim(record))
        except LeaseConflictError as exc:
            self.last_error = str(exc)
            return Attempt.CONFLICT
        except KubeError as exc:
            self.last_error = str(exc)
            if not exc.status.transient:
                raise LeaderElectionError(
                    f"leader election cannot use {self.store.where}: {exc} ({self.hint})"
                ) from exc
            return Attempt.FAILED
        self._observe(stored, now)
        self._record = stored
        if not self._resigned:
            self._renewed_at = now
        return Attempt.LEADING

    def release(self) -> bool:
        """Give the Lease up (on a clean shutdown) so a standby need not wait for it to expire."""
        if self._record is None or not self.is_leader():
            return False
        wall = self._wallclock()
        released = LeaseRecord("", 1, wall, wall, self._record.transitions, self._record.version)
        self._renewed_at = None
        try:
            self._record = self.store.update(released)
        except (LeaseConflictError, KubeError) as exc:
            logger.warning(f"could not release {self.store.where}: {exc}")
            return False
        return True

    def _observe(self, record: LeaseRecord, now: float) -> None:
        key = (record.holder, record.renew_time, record.version)
        if key != self._observed:
            self._observed, self._observed_at = key, now
        self.holder = record.holder

    def _held_by_other(self, record: LeaseRecord, now: float) -> bool:
        if not record.holder or record.holder == self.identity:
            return False
        duration = record.duration_seconds or self.timing.duration
        return now < self._observed_at + duration

    def _claim(self, record: LeaseRecord | None) -> LeaseRecord:
        wall = self._wallclock()
        ours = record is not None and record.holder == self.identity
        return LeaseRecord(
            holder=self.identity,
            duration_seconds=round(self.timing.duration),
            acquire_time=record.acquire_time if ours and record is not None else wall,
            renew_time=wall,
            transitions=0 if record is None else record.transitions + (0 if ours else 1),
            version=record.version if record else "",
        )
