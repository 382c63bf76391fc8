"""kopf's session: the credentials kopf found, in a pool of at most ``kopf_connections`` connections."""

from __future__ import annotations

import asyncio

import kopf

import augur.operator.handlers  # noqa: F401  (registers every kopf handler in the default registry)
from augur.operator.login import session_for
from augur.operator.settings import KOPF_REQUESTS, WATCHED_KINDS, OperatorSettings

KOPF_OWN_WATCHES = 2
"""kopf watches CustomResourceDefinitions (resources appearing later) and, with namespace globs, Namespaces."""


def test_session_keeps_the_credentials_and_bounds_the_pool() -> None:
    info = kopf.ConnectionInfo(
        server="https://10.0.0.1:6443", scheme="Bearer", token="t0ken", default_namespace="augur-system", priority=10
    )

    async def build() -> tuple[kopf.AiohttpSession, int, str | None]:
        context = session_for(info, limit=40)
        session = context.aiohttp_session
        try:
            return context, session.connector.limit if session.connector else -1, session.headers.get("Authorization")
        finally:
            await session.close()

    context, limit, auth = asyncio.run(build())
    assert limit == 40
    assert auth == "Bearer t0ken"
    assert (context.server, context.default_namespace, context.priority) == (
        "https://10.0.0.1:6443",
        "augur-system",
        10,
    )


def test_the_pool_has_room_for_every_watch_and_the_requests() -> None:
    registry = kopf.get_default_registry()
    watched = {
        handler.selector
        for handlers in (registry._indexing, registry._watching, registry._spawning, registry._changing)
        for handler in handlers.get_all_handlers()
    }
    assert len(watched) + KOPF_OWN_WATCHES <= WATCHED_KINDS, sorted(map(str, watched))
    assert OperatorSettings().kopf_connections == WATCHED_KINDS + KOPF_REQUESTS
    three = OperatorSettings(namespaces=("a", "b", "c"))
    assert three.kopf_connections - 3 * (len(watched) + KOPF_OWN_WATCHES) >= KOPF_REQUESTS


def test_the_operator_logs_in_through_the_bounded_session() -> None:
    registry = kopf.get_default_registry()
    logins = [
        h
        for h in registry._activities.get_all_handlers()
        if h.activity is not None and h.activity.value == "authentication"
    ]
    ours = [h for h in logins if not h._fallback]
    assert [h.fn.__module__ for h in ours] == ["augur.operator.login"]
