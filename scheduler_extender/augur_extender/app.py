"""The FastAPI application factory."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from augur_extender import __version__
from augur_extender.deps import ExtenderState
from augur_extender.gcfreeze import start_freezer
from augur_extender.inflight import InFlightMiddleware
from augur_extender.responses import OrjsonResponse
from augur_extender.routers import admission, debug, health, metrics, scheduler
from augur_extender.settings import Settings
from augur_extender.verbs import VerbFastPath

log = logging.getLogger(__name__)


class ExtenderApp(FastAPI):
    """FastAPI with ``front`` layers in front of the whole app, FastAPI's own ``__call__`` included.

    kube-scheduler waits for ``/filter`` and ``/prioritize`` in its scheduling cycle; the verbs' fast path
    (:class:`~augur_extender.verbs.VerbFastPath`) answers them before FastAPI's per-request work: its
    telemetry check and middleware stack (error page, body limit, exceptions), which an ``add_middleware``
    layer always runs inside of (profiled with py-spy: FastAPI's ``__call__`` alone took 9 % of the
    server's samples answering filter calls)."""

    def __init__(self, *, front: Callable[[ASGIApp], ASGIApp], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front = front(functools.partial(FastAPI.__call__, self))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)


def create_app(settings: Settings, state: ExtenderState) -> ExtenderApp:
    """Build the app; the cache in ``state`` is started with the app and stopped on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.cache.start()
        freezer = start_freezer(state.cache) if settings.freeze_gc else None
        if state.planner is not None:
            state.planner.start()
        if state.gatekeeper is not None:
            state.gatekeeper.start()
        if state.leadership is not None:
            state.leadership.start()
        log.info("augur extender ready to serve on %s:%s", settings.host, settings.port)
        try:
            yield
        finally:
            if freezer is not None:
                freezer.set()
            if state.leadership is not None:
                state.leadership.stop()  # releases the Lease: a standby lets pods through at once
            if state.gatekeeper is not None:
                state.gatekeeper.stop()
            if state.planner is not None:
                state.planner.stop()
            state.cache.stop()
            log.info("augur extender stopped")

    def front(app: ASGIApp) -> ASGIApp:
        if settings.verb_fast_path:
            app = VerbFastPath(app, state)
        if state.planner is not None:  # outermost, so that it counts the fast path's requests too
            app = InFlightMiddleware(app, counter=state.planner.in_flight)
        return app

    app = ExtenderApp(
        front=front,
        title="Augur scheduler extender",
        version=__version__,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.extender = state
    app.include_router(scheduler.router)
    app.include_router(admission.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    if settings.debug_endpoints:
        app.include_router(debug.router)
    return app
