"""Cluster reads and writes of the Migration executor (raw JSON in, raw JSON out).

Reads: the pod, its controller's pods, its ReplicaSet (as an :class:`OwnerTemplate`), the target node,
the reservation pod, the Migration itself. Writes: create, patch and delete the reservation pod, ensure
the reservation PriorityClass, delete finished Migrations. Eviction is :mod:`augur.kube.eviction`.
Transient failures raise :class:`KubeError` (``status.transient``); a missing object reads as None.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client

from augur.api import GROUP, VERSION
from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError
from augur.kube.events import post_event
from augur.migration.reservation import OwnerTemplate, priority_class

_TIMEOUT = (3.0, 15.0)


def _call(what: str, fn: Callable[..., Any], *args: Any, missing_ok: bool = True, **kwargs: Any) -> Any:
    """``fn`` with raw JSON out; None on 404 when ``missing_ok``."""
    try:
        response = fn(*args, _preload_content=False, _request_timeout=_TIMEOUT, **kwargs)
    except client.ApiException as exc:
        if exc.status == 404 and missing_ok:
            return None
        raise KubeError(what, ApiStatus.from_exception(exc)) from exc
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        raise KubeError(what, ApiStatus(0, "ConnectionError", str(exc))) from exc
    data = response.data
    return json.loads(data) if data else {}


class Moves:
    def __init__(self, api: client.ApiClient) -> None:
        self._core: Any = client.CoreV1Api(api)
        self._apps: Any = client.AppsV1Api(api)
        self._custom: Any = client.CustomObjectsApi(api)
        self._scheduling: Any = client.SchedulingV1Api(api)
        self._classes: set[str] = set()

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        if not name:
            return None
        pod: dict[str, Any] | None = _call(
            f"reading pod {namespace}/{name}", self._core.read_namespaced_pod, name, namespace
        )
        return pod

    def pods_of(self, namespace: str, owner_uid: str, selector: str) -> list[dict[str, Any]]:
        """Pods in ``namespace`` matching ``selector`` whose controller is ``owner_uid``."""
        out = _call(f"listing pods in {namespace}", self._core.list_namespaced_pod, namespace, label_selector=selector)
        pods = (out or {}).get("items") or []
        return [p for p in pods if any(r.get("uid") == owner_uid and r.get("controller") for r in _owners(p))]

    def replica_set(self, namespace: str, name: str) -> OwnerTemplate | None:
        rs = _call(f"reading ReplicaSet {namespace}/{name}", self._apps.read_namespaced_replica_set, name, namespace)
        if rs is None:
            return None
        spec, status = rs.get("spec") or {}, rs.get("status") or {}
        return OwnerTemplate(
            name=name,
            uid=str(rs["metadata"]["uid"]),
            match_labels=dict((spec.get("selector") or {}).get("matchLabels") or {}),
            template=spec.get("template") or {},
            replicas=int(spec["replicas"]) if spec.get("replicas") is not None else 1,
            status_replicas=int(status.get("replicas") or 0),
        )

    def node(self, name: str) -> dict[str, Any] | None:
        node: dict[str, Any] | None = _call(f"reading node {name}", self._core.read_node, name)
        return node

    def ensure_priority_class(self, priority: int) -> None:
        """Create the reservation PriorityClass for ``priority`` once (an existing one is kept)."""
        body = priority_class(priority)
        name = body["metadata"]["name"]
        if name in self._classes:
            return
        try:
            self._scheduling.create_priority_class(body, field_manager=FIELD_MANAGER, _request_timeout=_TIMEOUT)
        except client.ApiException as exc:
            if exc.status != 409:
                raise KubeError(f"creating PriorityClass {name}", ApiStatus.from_exception(exc)) from exc
        self._classes.add(name)

    def create_pod(self, manifest: dict[str, Any]) -> None:
        meta = manifest["metadata"]
        try:
            self._core.create_namespaced_pod(
                meta["namespace"], manifest, field_manager=FIELD_MANAGER, _request_timeout=_TIMEOUT
            )
        except client.ApiException as exc:
            if exc.status != 409:  # already created before a restart
                raise KubeError(
                    f"creating pod {meta['namespace']}/{meta['name']}", ApiStatus.from_exception(exc)
                ) from exc

    def patch_pod(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        try:
            self._core.patch_namespaced_pod(
                name,
                namespace,
                patch,
                field_manager=FIELD_MANAGER,
                _content_type="application/merge-patch+json",
                _request_timeout=_TIMEOUT,
            )
        except client.ApiException as exc:
            if exc.status != 404:
                raise KubeError(f"patching pod {namespace}/{name}", ApiStatus.from_exception(exc)) from exc

    def delete_pod(self, namespace: str, name: str, uid: str) -> None:
        """Delete our own (unadopted) reservation pod; the UID precondition spares a newer namesake."""
        body = {"preconditions": {"uid": uid}} if uid else None
        try:
            self._core.delete_namespaced_pod(name, namespace, body=body, _request_timeout=_TIMEOUT)
        except client.ApiException as exc:
            if exc.status not in (404, 409):
                raise KubeError(f"deleting pod {namespace}/{name}", ApiStatus.from_exception(exc)) from exc

    def migration(self, namespace: str, name: str) -> dict[str, Any] | None:
        obj: dict[str, Any] | None = _call(
            f"reading Migration {namespace}/{name}",
            self._custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            "migrations",
            name,
        )
        return obj

    def migrations(self, namespaces: tuple[str, ...], selector: str) -> list[dict[str, Any]]:
        """Migrations in ``namespaces`` (all when empty) matching the label ``selector``."""
        if not namespaces:
            out = _call("listing Migrations", self._custom.list_cluster_custom_object, GROUP, VERSION, "migrations",
                        label_selector=selector, missing_ok=False)  # fmt: skip
            return list((out or {}).get("items") or [])
        items: list[dict[str, Any]] = []
        for ns in namespaces:
            out = _call(f"listing Migrations in {ns}", self._custom.list_namespaced_custom_object, GROUP, VERSION,
                        ns, "migrations", label_selector=selector, missing_ok=False)  # fmt: skip
            items.extend((out or {}).get("items") or [])
        return items

    def post_event(self, namespace: str, name: str, uid: str, type_: str, reason: str, message: str) -> None:
        """A core/v1 Event on the Migration (best effort: a failure is logged)."""
        post_event(self._core, "Migration", name, uid, type_, reason, message, namespace=namespace)

    def delete_migration(self, namespace: str, name: str, uid: str) -> None:
        try:
            self._custom.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, "migrations", name, body={"preconditions": {"uid": uid}}
            )
        except client.ApiException as exc:
            if exc.status not in (404, 409):
                raise KubeError(f"deleting Migration {namespace}/{name}", ApiStatus.from_exception(exc)) from exc


def _owners(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return list((pod.get("metadata") or {}).get("ownerReferences") or [])


def selector_of(labels: dict[str, str]) -> str:
    """A label selector string matching ``labels`` exactly."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
