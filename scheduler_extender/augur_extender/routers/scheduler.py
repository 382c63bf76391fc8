"""``POST /filter`` and ``POST /prioritize``: the verbs kube-scheduler calls.

The replies come from :func:`augur_extender.verbs.answer`; with the fast path on (the default) the
middleware :class:`~augur_extender.verbs.VerbFastPath` answers before these routes are reached, and the
routes document the wire format (OpenAPI) and serve when the fast path is off."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from augur_extender.deps import State
from augur_extender.responses import OrjsonResponse
from augur_extender.verbs import answer
from augur_extender.wire import ErrorReply, ExtenderFilterResult, HostPriority

router = APIRouter(tags=["scheduler"], default_response_class=OrjsonResponse)
BAD_REQUEST: dict[int | str, dict[str, Any]] = {400: {"model": ErrorReply, "description": "malformed ExtenderArgs"}}


@router.post("/filter", response_model=ExtenderFilterResult, responses=BAD_REQUEST)
async def filter_nodes(request: Request, state: State) -> Response:
    """Hard rules only; failed nodes carry their reason; ``Error`` only on internal failures.

    CPU-bound and short, so it runs on the event loop (no thread-pool hop)."""
    status, body = answer(state, "filter", await request.body())
    return Response(body, status_code=status, media_type="application/json")


@router.post("/prioritize", response_model=list[HostPriority], responses=BAD_REQUEST)
async def prioritize(request: Request, state: State) -> Response:
    """A bare ``HostPriorityList`` with scores 0..10."""
    status, body = answer(state, "prioritize", await request.body())
    return Response(body, status_code=status, media_type="application/json")
