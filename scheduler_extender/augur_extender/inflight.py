"""Requests in flight, so that the background planner can step aside while the scheduler waits for a reply.

The planner shares the interpreter (the GIL) with the request path. kube-scheduler calls the extender
synchronously in its scheduling cycle, so every millisecond a request waits for the planner's thread is a
millisecond of the scheduler's cycle. :class:`InFlightMiddleware` counts the HTTP requests being served; the
planner's search calls :meth:`InFlight.wait_idle` every few hundred steps and sleeps (releasing the GIL)
while the count is above zero, up to a bound so that a constant stream of requests cannot starve it.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_WAIT_SECONDS = 0.05
"""Longest single wait of the planner for the requests to drain."""
POLL_SECONDS = 0.0005


class InFlight:
    """A counter of requests being served (touched only by the event loop; read by the planner's thread)."""

    def __init__(self) -> None:
        self.count = 0
        self.waits = 0
        """How many times the planner stepped aside (diagnosis)."""

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
