"""``/metrics`` in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from augur_extender.deps import State

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=PlainTextResponse, response_model=str)
async def metrics(state: State) -> PlainTextResponse:
    state.metrics.cache_synced.set(1 if state.cache.synced() else 0)
    view = state.cache.view()
    state.metrics.cache_nodes.set(len(view.snapshot.table))
    state.metrics.cache_workloads.set(sum(len(profiles) for profiles in view.profiles.values()))
    about = state.planner.describe(view) if state.planner is not None else {}
    state.metrics.plan_age.set(about.get("ageSeconds", -1))
    if state.gatekeeper is not None:
        state.metrics.gate_held.set(state.gatekeeper.held)

    return PlainTextResponse(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
