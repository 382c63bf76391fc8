"""Requests in flight, so that the background planner can step aside while the scheduler waits for a reply.

The planner shares the interpreter (the GIL) with the request path. kube-scheduler calls the extender
synchronously in its scheduling cycle, so every millisecond a request waits for the planner's thread is a
millisecond of the scheduler's cycle. :class:`InFlightMiddleware` counts the HTTP requests being served; the
planner's search calls :meth:`InFlight.wait_idle` every few hundred steps and sleeps (releasing the GIL)
while the count is above zero or the last request ended less than ``quiet`` seconds ago, up to a bound per
wait so that a constant stream of requests slows it down but cannot stop it.
The planner's child process (:mod:`augur_extender.planner_process`) does the same through ``shared``, a
shared-memory integer the count is mirrored into (:func:`wait_while_busy`): it holds no GIL of ours, but
it takes CPU from the cores kube-scheduler's cycle is waiting on.

Between two requests kube-scheduler's cycle is busy too (its own plugins, the bind, the API server), on the
same cores. So the planner also waits for a *quiet gap* before it starts an update (:meth:`InFlight.idle_for`,
see :meth:`augur_extender.planning.BackgroundPlanner.wait_for_quiet`), and a search on the planner's thread
keeps stepping aside during the gap: during a scheduling burst it hardly plans at all, up to a bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_WAIT_SECONDS = 0.05
"""Longest single wait of the planner for the requests to drain."""
POLL_SECONDS = 0.0005


class InFlight:
    """A counter of requests being served (touched only by the event loop; read by the planner's thread)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._count = 0
        self.clock = clock
        self.last_seen = float("-inf")
        """When the last request ended (or, while one is in flight, the last time the count changed)."""
        self.quiet = 0.0
        """Seconds after a request during which an in-process search keeps stepping aside (``--plan-quiet``)."""
        self.waits = 0
        """How many times the planner stepped aside (diagnosis)."""
        self.shared: Any = None
        """A shared-memory integer (``multiprocessing`` ``RawValue``) the count is mirrored into, or ``None``."""

    @property
    def count(self) -> int:
        return self._count

    @count.setter
    def count(self, value: int) -> None:
        self._count = value
        self.last_seen = self.clock()
        shared = self.shared
        if shared is not None:
            shared.value = value

    def busy(self) -> bool:
        return self.count > 0

    def idle_for(self) -> float:
        """Seconds since the last request ended; 0 while one is in flight."""
        if self.count > 0:
            return 0.0
        return max(0.0, self.clock() - self.last_seen)

    def wait_idle(self, limit: float = MAX_WAIT_SECONDS) -> None:
        """Sleep while requests are in flight or the last one ended less than :attr:`quiet` seconds ago (a
        scheduling burst), at most ``limit`` seconds."""
        if not self.bursting():
            return
        self.waits += 1
        deadline = time.monotonic() + limit
        while self.bursting() and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, self.nap()))

    def nap(self) -> float:
        """How long to sleep before looking again: :data:`POLL_SECONDS` while only requests in flight count,
        else until the quiet gap could be over. Each look takes the GIL, and a look while a request is being
        answered forces the request's thread to give the GIL up and wait for it (and, on a busy node, for a
        CPU): polling every half millisecond during a burst slowed every request."""
        if self.quiet <= 0:
            return POLL_SECONDS
        return max(POLL_SECONDS, self.quiet - self.idle_for())

    def bursting(self) -> bool:
        return self.count > 0 or self.idle_for() < self.quiet


def wait_while_busy(shared: Any, limit: float = MAX_WAIT_SECONDS) -> None:
    """:meth:`InFlight.wait_idle` for another process: sleep while ``shared.value`` is above zero, at most
    ``limit`` seconds."""
    if shared.value <= 0:
        return
    deadline = time.monotonic() + limit
    while shared.value > 0 and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


class InFlightMiddleware:
    """Pure ASGI middleware counting HTTP requests from the call until the response is sent."""

    def __init__(self, app: ASGIApp, counter: InFlight) -> None:
        self.app, self.counter = app, counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.counter.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.count -= 1
