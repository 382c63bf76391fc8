"""Reading a workload's pods for the lead time: creation and Ready times (raw JSON, no client models); the pods
held at the plan gate, and removing that gate (the operator's backstop, :mod:`augur.operator.gates`)."""

from __future__ import annotations

import json
from typing import Any

import urllib3
from kubernetes import client

from augur.api.meta import epoch_seconds
from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError
from augur.placement.gate import REMOVE_PLAN_GATE, HeldPod, carries_plan_gate
from augur.scaling.leadtime import PodStartup


def startup_of(pod: dict[str, Any]) -> PodStartup | None:
    """Creation to Ready of one pod; None when it is not Ready, is being deleted, or restarted a container
    (then its Ready time is not its startup)."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return None
    if any(int(c.get("restartCount") or 0) > 0 for c in status.get("containerStatuses") or []):
        return None
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    created = epoch_seconds(meta.get("creationTimestamp"))
    if ready is None or ready.get("status") != "True" or created is None:
        return None
    ready_at = epoch_seconds(ready.get("lastTransitionTime"))
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


def plan_gated_pods(api: client.ApiClient, namespaces: tuple[str, ...] = ()) -> list[HeldPod]:
    """Unscheduled pods (``spec.nodeName`` empty, phase Pending) that carry the plan gate, in ``namespaces``
    (empty: the whole cluster)."""
    core: Any = client.CoreV1Api(api)
    selector = "status.phase=Pending,spec.nodeName="
    items: list[dict[str, Any]] = []
    for namespace in namespaces or ("",):
        where = namespace or "the cluster"
        try:
            if namespace:
                response = core.list_namespaced_pod(
                    namespace, field_selector=selector, _preload_content=False, _request_timeout=(3.0, 30.0)
                )
            else:
                response = core.list_pod_for_all_namespaces(
                    field_selector=selector, _preload_content=False, _request_timeout=(3.0, 30.0)
                )
        except client.ApiException as exc:
            raise KubeError(f"listing pending pods in {where}", ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KubeError(f"listing pending pods in {where}", ApiStatus(0, "ConnectionError", str(exc))) from exc
        items += json.loads(response.data).get("items") or []
    return [held for held in map(_held, items) if held is not None]


def _held(pod: dict[str, Any]) -> HeldPod | None:
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    if not carries_plan_gate(spec):
        return None
    created = epoch_seconds(meta.get("creationTimestamp"))
    return HeldPod(str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(meta.get("uid") or ""), created)


def remove_plan_gate(api: client.ApiClient, namespace: str, name: str) -> bool:
    """Remove the plan gate from a pod; ``False`` when the pod is gone."""
    core: Any = client.CoreV1Api(api)
    try:
        core.patch_namespaced_pod(
            name,
            namespace,
            REMOVE_PLAN_GATE,
            field_manager=FIELD_MANAGER,
            _content_type="application/strategic-merge-patch+json",
            _request_timeout=(3.0, 10.0),
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise KubeError(f"removing the plan gate of pod {namespace}/{name}", ApiStatus.from_exception(exc)) from exc
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        what = f"removing the plan gate of pod {namespace}/{name}"
        raise KubeError(what, ApiStatus(0, "ConnectionError", str(exc))) from exc
    return True
