"""``/healthz`` (the process answers) and ``/readyz`` (the cache has synced)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from augur_extender.deps import State
from augur_extender.responses import OrjsonResponse

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(state: State) -> OrjsonResponse:
    synced = state.cache.synced()
    state.metrics.cache_synced.set(1 if synced else 0)
    return OrjsonResponse({"status": "ok" if synced else "cache not synced"}, status_code=200 if synced else 503)
