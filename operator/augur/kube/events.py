"""core/v1 Events posted outside kopf's handlers (the Migration executor's and the rebalancer's loops).

Best effort, like kopf's own Events: a failure is logged, never raised, so an Event never stops a move or
a rebalancer run.
"""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client

from augur.api import GROUP, VERSION

TIMEOUT = (3.0, 10.0)
logger = logging.getLogger(__name__)


def post_event(
    core: client.CoreV1Api,
    kind: str,
    name: str,
    uid: str,
    type_: str,
    reason: str,
    message: str,
    namespace: str = "",
) -> None:
    """Post an Event about an ``augur.dev`` object of ``kind``; a cluster-scoped object's Event goes to
    ``default`` (as for nodes)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    involved: dict[str, str] = {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "name": name, "uid": uid}
    if namespace:
        involved["namespace"] = namespace
    event_namespace = namespace or "default"
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{name}.", "namespace": event_namespace},
        "involvedObject": involved,
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": "augur"},
        "reportingComponent": "augur",
        "reportingInstance": socket.gethostname(),
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        core.create_namespaced_event(event_namespace, body, _request_timeout=TIMEOUT)  # type: ignore[arg-type]  # a dict body is accepted
    except (client.ApiException, OSError, urllib3.exceptions.HTTPError) as exc:
        where = f"{namespace}/{name}" if namespace else name
        logger.warning(f"Event {reason} on {kind} {where} not posted: {exc}")
