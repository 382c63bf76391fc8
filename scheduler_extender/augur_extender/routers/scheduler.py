"""``POST /filter`` and ``POST /prioritize``: the verbs kube-scheduler calls."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from augur_extender.deps import Args, State
from augur_extender.responses import OrjsonResponse
from augur_extender.wire import ErrorReply, ExtenderFilterResult, HostPriority

router = APIRouter(tags=["scheduler"], default_response_class=OrjsonResponse)
BAD_REQUEST: dict[int | str, dict[str, Any]] = {400: {"model": ErrorReply, "description": "malformed ExtenderArgs"}}


@router.post("/filter", response_model=ExtenderFilterResult, responses=BAD_REQUEST)
async def filter_nodes(args: Args, state: State) -> OrjsonResponse:
    """Hard rules only; failed nodes carry their reason; ``Error`` only on internal failures.

    CPU-bound and short, so it runs on the event loop (no thread-pool hop)."""
    start = time.perf_counter()
    reply, outcome = state.scheduler.filter_outcome(args)
    response = OrjsonResponse(reply)
    state.metrics.latency.labels("filter").observe(time.perf_counter() - start)
    state.metrics.requests.labels("filter", outcome).inc()
    return response


@router.post("/prioritize", response_model=list[HostPriority], responses=BAD_REQUEST)
async def prioritize(args: Args, state: State) -> Response:
    """A bare ``HostPriorityList`` with scores 0..10."""
    start = time.perf_counter()
    body, outcome = state.scheduler.prioritize_json(args)
    response = Response(body, media_type="application/json")
    state.metrics.latency.labels("prioritize").observe(time.perf_counter() - start)
    state.metrics.requests.labels("prioritize", outcome).inc()
    return response
