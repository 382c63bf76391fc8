"""Requests in flight, so that the background planner can step aside while the scheduler waits for a reply.

The planner shares the interpreter (the GIL) with the request path. kube-scheduler calls the extender
synchronously in its scheduling cycle, so every millisecond a request waits for the planner's thread is a
millisecond of the scheduler's cycle. :class:`InFlightMiddleware` counts the HTTP requests being served; the
planner's search calls :meth:`InFlight.wait_idle` every few hundred steps and sleeps (releasing the GIL)
while the count is above zero, up to a bound so that a constant stream of requests cannot starve it.
The planner's child process (:mod:`augur_extender.planner_process`) does the same through ``shared``, a
shared-memory integer the count is mirrored into (:func:`wait_while_busy`): it holds no GIL of ours, but
it takes CPU from the cores kube-scheduler's cycle is waiting on.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_WAIT_SECONDS = 0.05
"""Longest single wait of the planner for the requests to drain."""
POLL_SECONDS = 0.0005


class InFlight:
    """A counter of requests being served (touched only by the event loop; read by the planner's thread)."""

    def __init__(self) -> None:
        self._count = 0
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
        shared = self.shared
        if shared is not None:
            shared.value = value

    def busy(self) -> bool:
        return self.count > 0

    def wait_idle(self, limit: float = MAX_WAIT_SECONDS) -> None:
        """Sleep while requests are in flight, at most ``limit`` seconds."""
        if self.count <= 0:
            return
        self.waits += 1
        deadline = time.monotonic() + limit
        while self.count > 0 and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)


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
