"""Typed FastAPI dependencies: the app state and the parsed extender arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from augur_extender.cache import ClusterCache
from augur_extender.metrics import Metrics
from augur_extender.service import Scheduler
from augur_extender.settings import Settings
from augur_extender.wire import BadRequestError, ExtenderArgs, parse_extender_args


@dataclass
class ExtenderState:
    """Everything the routes share; built by the caller of :func:`augur_extender.app.create_app`."""

    cache: ClusterCache
    scheduler: Scheduler
    metrics: Metrics

    @classmethod
    def build(cls, cache: ClusterCache, settings: Settings) -> ExtenderState:
        return cls(cache, Scheduler(cache, settings.scoring), Metrics())


async def get_state(request: Request) -> ExtenderState:
    state: ExtenderState = request.app.state.extender
    return state


async def get_extender_args(request: Request) -> ExtenderArgs:
    body = await request.body()
    try:
        return parse_extender_args(body)
    except BadRequestError as exc:
        verb = request.url.path.rsplit("/", 1)[-1]
        request.app.state.extender.metrics.requests.labels(verb, "bad_request").inc()
        raise HTTPException(status_code=400, detail=str(exc)) from exc


State = Annotated[ExtenderState, Depends(get_state)]
Args = Annotated[ExtenderArgs, Depends(get_extender_args)]
