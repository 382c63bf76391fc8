"""Reading a workload's pods for the lead time: creation and Ready times (raw JSON, no client models)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import urllib3
from kubernetes import client

from augur.kube.client import ApiStatus, KubeError
from augur.scaling.leadtime import PodStartup


def _epoch(value: Any) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def startup_of(pod: dict[str, Any]) -> PodStartup | None:
    """Creation to Ready of one pod; None when it is not Ready, is being deleted, or restarted a container
    (then its Ready time is not its startup)."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return None
    if any(int(c.get("restartCount") or 0) > 0 for c in status.get("containerStatuses") or []):
        return None
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    created = _epoch(meta.get("creationTimestamp"))
    if ready is None or ready.get("status") != "True" or created is None:
        return None
    ready_at = _epoch(ready.get("lastTransitionTime"))
    if ready_at is None:
        return None
    return PodStartup(str(meta.get("uid") or meta.get("name") or ""), ready_at, ready_at - created)


def pod_startups(api: client.ApiClient, namespace: str, selector: str) -> list[PodStartup]:
    """Startups of the Ready pods matching ``selector`` in ``namespace`` (an empty selector reads nothing:
    it would match every pod of the namespace)."""
    if not selector:
        return []
    core: Any = client.CoreV1Api(api)
    try:
        response = core.list_namespaced_pod(
            namespace, label_selector=selector, _preload_content=False, _request_timeout=(3.0, 10.0)
        )
    except client.ApiException as exc:
        raise KubeError(f"listing pods {selector!r} in {namespace}", ApiStatus.from_exception(exc)) from exc
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        raise KubeError(f"listing pods in {namespace}", ApiStatus(0, "ConnectionError", str(exc))) from exc
    items = json.loads(response.data).get("items") or []
    return [s for s in (startup_of(p) for p in items) if s is not None]
