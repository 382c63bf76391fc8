"""Leader election of the operator: :func:`acquire` and :func:`hold` drive the Lease rules of
:mod:`augur.kube.leader` from asyncio; :data:`LEADERSHIP` lets the write path check, right before writing,
that this replica still leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from augur.kube.leader import Attempt, Elector, LeaderElectionError, LeaseStore, LeaseTiming

__all__ = [
    "LEADERSHIP",
    "Attempt",
    "Elector",
    "LeaderElectionError",
    "Leadership",
    "LeaseStore",
    "LeaseTiming",
    "acquire",
    "hold",
]

logger = logging.getLogger(__name__)


async def acquire(elector: Elector, stopping: asyncio.Event) -> bool:
    """Try every ``retry_every`` seconds until this replica leads (True) or ``stopping`` is set (False)."""
    last = None
    while not stopping.is_set():
        result = await asyncio.to_thread(elector.attempt)
        if result is Attempt.LEADING:
            return True
        if result is not last:
            logger.info(f"standing by: {result.value} ({elector.holder or elector.last_error or elector.store.where})")
            last = result
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), elector.timing.retry_every)
    return False


async def hold(elector: Elector) -> str:
    """Renew until leadership is lost; returns why. Each renewal may take at most the time left before the
    renew deadline: a hung API server ends leadership on time."""
    delay = elector.timing.renew_every
    while True:
        await asyncio.sleep(delay)
        task = asyncio.ensure_future(asyncio.to_thread(elector.attempt))
        done, _ = await asyncio.wait({task}, timeout=elector.remaining())
        try:
            result = task.result() if done else None
        except LeaderElectionError as exc:
            elector.step_down()
            return str(exc)
        if result is Attempt.HELD:
            return f"{elector.holder} holds {elector.store.where}"
        if result is None or not elector.is_leader():
            elector.step_down()
            return (
                f"{elector.store.where} not renewed within the renew deadline ({elector.timing.renew_deadline:g} s): "
                f"{elector.last_error or 'the API server did not answer'}"
            )
        delay = elector.timing.renew_every if result is Attempt.LEADING else elector.timing.retry_every


class Leadership:
    """Whether this replica may act now; the write path asks right before writing ``/scale``."""

    def __init__(self) -> None:
        self.elector: Elector | None = None

    def may_act(self) -> bool:
        """Always true without leader election (standalone); else true while the Lease is renewed."""
        return self.elector is None or self.elector.is_leader()


LEADERSHIP = Leadership()
