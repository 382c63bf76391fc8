"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from augur_extender import __version__
from augur_extender.deps import ExtenderState
from augur_extender.gcfreeze import start_freezer
from augur_extender.inflight import InFlightMiddleware
from augur_extender.responses import OrjsonResponse
from augur_extender.routers import debug, health, metrics, scheduler
from augur_extender.settings import Settings
from augur_extender.verbs import VerbFastPath

log = logging.getLogger(__name__)


class ExtenderApp(FastAPI):
    """FastAPI with ``front`` layers in front of its whole middleware stack (built on the first request).

    kube-scheduler waits for ``/filter`` and ``/prioritize`` in its scheduling cycle; the verbs' fast path
    (:class:`~augur_extender.verbs.VerbFastPath`) answers them before FastAPI's own layers (error page,
    telemetry, body limit, exceptions) are entered, which an ``add_middleware`` layer cannot do (those are
    always outermost)."""

    def __init__(self, *, front: Callable[[ASGIApp], ASGIApp], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front = front

    def build_middleware_stack(self) -> ASGIApp:
        return self.front(super().build_middleware_stack())


def create_app(settings: Settings, state: ExtenderState) -> ExtenderApp:
    """Build the app; the cache in ``state`` is started with the app and stopped on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.cache.start()
        freezer = start_freezer(state.cache) if settings.freeze_gc else None
        if state.planner is not None:
            state.planner.start()
        log.info("augur extender ready to serve on %s:%s", settings.host, settings.port)
        try:
            yield
        finally:
            if freezer is not None:
                freezer.set()
            if state.planner is not None:
                state.planner.stop()
            state.cache.stop()
            log.info("augur extender stopped")

    def front(stack: ASGIApp) -> ASGIApp:
        if settings.verb_fast_path:
            stack = VerbFastPath(stack, state)
        if state.planner is not None:  # outermost, so that it counts the fast path's requests too
            stack = InFlightMiddleware(stack, counter=state.planner.in_flight)
        return stack

    app = ExtenderApp(
        front=front,
        title="Augur scheduler extender",
        version=__version__,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.extender = state
    app.include_router(scheduler.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    if settings.debug_endpoints:
        app.include_router(debug.router)
    return app
