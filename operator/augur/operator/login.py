"""kopf's connection to the API server: the credentials kopf finds itself, in a bounded connection pool.

kopf's own session opens as many TLS connections as it has requests in flight (``aiohttp`` with no
limit). On start-up it adds its finalizer to every profile at once, each request over a new TLS
connection. Measured with 300 profiles: 341 connections 2 s after start and an RSS peak of 301 MiB;
with the bounded pool, at most 87 connections and a peak of 235 MiB (with 1,000 profiles, at most 98).
Requests beyond the pool wait for a free connection instead.

The pool holds :attr:`~augur.operator.settings.OperatorSettings.kopf_connections` connections: one for
each watch stream (they hold theirs for as long as they run) plus a fixed number for requests. The
credentials are the ones kopf's default login finds (:func:`kopf.login_via_client`: in-cluster service
account, else ``$KUBECONFIG``); when the API server refuses them, kopf logs in again and gets a new
session (a rotated token), as it does with its own.

A cap on kopf's per-object workers (``settings.queueing.worker_limit``) would bound the same burst, but it
deadlocks an operator with indexes: workers that indexed their object wait for every other object to be
indexed, while the objects beyond the cap wait for a worker (seen with 300 profiles and a cap of 64).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import kopf

from augur.operator.settings import SETTINGS


def session_for(info: kopf.ConnectionInfo, limit: int) -> kopf.AiohttpSession:
    """The session kopf would build for ``info`` (same TLS, headers, proxy), with at most ``limit``
    connections. Must be called inside the event loop that will use it."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, ssl=info.as_ssl_context()),
        headers=info.as_http_headers(),
        proxy=info.proxy_url,
        trust_env=info.trust_env,
    )
    return kopf.AiohttpSession(
        aiohttp_session=session,
        server=info.server,
        default_namespace=info.default_namespace,
        priority=info.priority,
        expiration=info.expiration,
    )


@kopf.on.login()
async def login(**kwargs: Any) -> kopf.AiohttpSession | None:
    info = kopf.login_via_client(**kwargs)
    return None if info is None else session_for(info, SETTINGS.kopf_connections)
