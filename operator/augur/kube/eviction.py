"""Evicting a pod through the Eviction API (``policy/v1``), so PodDisruptionBudgets hold.

A refusal by a budget (HTTP 429 with a ``DisruptionBudget`` cause) is reported as ``BLOCKED`` for the
caller to retry later; it is never forced (no delete). The request carries the pod's UID as a
precondition, so a StatefulSet's replacement with the same name is never evicted by mistake (409 →
``GONE``). Throttling (429 without that cause), 5xx and connection failures raise :class:`KubeError`
with ``status.transient``.
"""

from __future__ import annotations

import json
from typing import Any

import urllib3
from kubernetes import client

from augur.kube.client import ApiStatus, KubeError
from augur.migration.decision import EvictionResult

MULTIPLE_BUDGETS = "more than one PodDisruptionBudget"


def evict(api: client.ApiClient, namespace: str, name: str, uid: str) -> tuple[EvictionResult, str]:
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
        "deleteOptions": {"preconditions": {"uid": uid}},
    }
    core: Any = client.CoreV1Api(api)
    try:
        core.create_namespaced_pod_eviction(name, namespace, body, _request_timeout=(3.0, 15.0))
    except client.ApiException as exc:
        return _refusal(exc, f"evicting pod {namespace}/{name}")
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        raise KubeError(f"evicting pod {namespace}/{name}", ApiStatus(0, "ConnectionError", str(exc))) from exc
    return EvictionResult.EVICTED, f"pod {name} evicted"


def _refusal(exc: client.ApiException, what: str) -> tuple[EvictionResult, str]:
    status = ApiStatus.from_exception(exc)
    if status.code in (404, 409):  # gone, or the name now belongs to another pod (UID precondition)
        return EvictionResult.GONE, status.message
    budget = _budget_refusal(exc) if status.code == 429 else None
    if budget is not None:
        return EvictionResult.BLOCKED, budget
    if status.code == 500 and MULTIPLE_BUDGETS in status.message:
        return EvictionResult.REFUSED, status.message
    if status.transient:
        raise KubeError(what, status) from exc
    return EvictionResult.REFUSED, f"{status.code} {status.reason}: {status.message}"


def _budget_refusal(exc: client.ApiException) -> str | None:
    """The budget's own words when a PodDisruptionBudget refused (cause ``DisruptionBudget``), else None."""
    try:
        details = json.loads(exc.body or "{}").get("details") or {}
    except ValueError:
        return None
    causes = [c for c in details.get("causes") or [] if c.get("reason") == "DisruptionBudget"]
    return str(causes[0].get("message") or "refused by a PodDisruptionBudget") if causes else None
