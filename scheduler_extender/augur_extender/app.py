"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from augur_extender import __version__
from augur_extender.deps import ExtenderState
from augur_extender.gcfreeze import start_freezer
from augur_extender.inflight import InFlightMiddleware
from augur_extender.responses import OrjsonResponse
from augur_extender.routers import debug, health, metrics, scheduler
from augur_extender.settings import Settings
from augur_extender.verbs import VerbFastPath

log = logging.getLogger(__name__)


def create_app(settings: Settings, state: ExtenderState) -> FastAPI:
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

    app = FastAPI(
        title="Augur scheduler extender",
        version=__version__,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.extender = state
    if settings.verb_fast_path:
        app.add_middleware(VerbFastPath, state=state)
    if state.planner is not None:  # added last: outermost, so it counts the fast path's requests too
        app.add_middleware(InFlightMiddleware, counter=state.planner.in_flight)
    app.include_router(scheduler.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    if settings.debug_endpoints:
        app.include_router(debug.router)
    return app
