"""core/v1 Events about ``augur.dev`` objects, from the kopf handlers (WorkloadProfile, NetworkTopology)
and from the Migration executor's and the rebalancer's loops, and about pods whose plan gate the operator
released (:mod:`augur.operator.gates`).

Best effort and never retried: a failure is logged, never raised, so an Event never stops a reconcile, a
move or a rebalancer run. An Event into a namespace that is being deleted (403, cause
``NamespaceTerminating``) can never be created: it is dropped with a debug line, not a warning.
"""

from __future__ import annotations

import json
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
    api_version: str = f"{GROUP}/{VERSION}",
) -> None:
    """Post an Event about an object of ``kind`` (an ``augur.dev`` one unless ``api_version`` says otherwise);
    a cluster-scoped object's Event goes to ``default`` (as for nodes)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    involved: dict[str, str] = {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid}
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
    where = f"{namespace}/{name}" if namespace else name
    try:
        core.create_namespaced_event(event_namespace, body, _request_timeout=TIMEOUT)  # type: ignore[arg-type]  # a dict body is accepted
    except client.ApiException as exc:
        if namespace_terminating(exc):
            logger.debug(f"Event {reason} on {kind} {where} dropped: namespace {event_namespace} is being deleted")
            return
        logger.warning(f"Event {reason} on {kind} {where} not posted: {exc}")
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        logger.warning(f"Event {reason} on {kind} {where} not posted: {exc}")


def namespace_terminating(exc: client.ApiException) -> bool:
    """The API server refused to create content in a namespace that is being deleted: permanent."""
    if exc.status != 403:
        return False
    try:
        status = json.loads(exc.body or "{}")
    except ValueError:
        return False
    details = status.get("details") if isinstance(status, dict) else None
    causes = details.get("causes") if isinstance(details, dict) else None
    return any(isinstance(c, dict) and c.get("reason") == "NamespaceTerminating" for c in causes or [])
