"""The scheduler verbs as one function of the body: ``answer(state, verb, body) -> (status, reply bytes)``.

Both entry points call it: the FastAPI routes (:mod:`augur_extender.routers.scheduler`, which document the
wire format in the OpenAPI schema) and :class:`VerbFastPath`, an ASGI layer that answers
``POST /filter`` and ``POST /prioritize`` in front of FastAPI itself (:class:`augur_extender.app.ExtenderApp`:
before its telemetry check, middleware stack, routing and dependency injection). kube-scheduler waits for
these replies in its scheduling cycle; the framework's per-request work was several times the filter's own
(profiled at 1,000 nodes), so the hot verbs skip it. Everything else (health, metrics, debug) goes through
FastAPI.
"""

from __future__ import annotations

import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from augur_extender.deps import ExtenderState
from augur_extender.wire import BadRequestError, parse_extender_args

VERBS = ("filter", "prioritize")
_JSON = [(b"content-type", b"application/json")]


def answer(state: ExtenderState, verb: str, body: bytes) -> tuple[int, bytes]:
    """HTTP status and JSON reply of ``verb`` for a request body; counted and timed in the metrics. Errors
    never block scheduling: a malformed body is a 400 with ``detail``, an internal error a neutral answer."""
    start = time.perf_counter()
    try:
        args = parse_extender_args(body)
    except BadRequestError as exc:
        state.metrics.requests.labels(verb, "bad_request").inc()
        return 400, orjson.dumps({"detail": str(exc)})
    if verb == "filter":
        reply, outcome = state.scheduler.filter_outcome(args)
        payload = orjson.dumps(reply, option=orjson.OPT_SERIALIZE_NUMPY)
    else:
        payload, outcome, plan = state.scheduler.prioritize_json(args)
        if plan is not None:
            state.metrics.prioritize_plans.labels(plan).inc()
    state.metrics.latency.labels(verb).observe(time.perf_counter() - start)
    state.metrics.requests.labels(verb, outcome).inc()
    return 200, payload


class VerbFastPath:
    """ASGI layer in front of the app: ``POST /filter`` and ``POST /prioritize`` answered by :func:`answer`
    directly, everything else passed on to the app."""

    def __init__(self, app: ASGIApp, state: ExtenderState) -> None:
        self.app, self.state = app, state
        self.paths = {f"/{v}": v for v in VERBS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        verb = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if verb is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        status, payload = answer(self.state, verb, body)
        headers = [*_JSON, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
