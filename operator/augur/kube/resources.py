"""Reading what a ``WorkloadProfile`` points at: its scale target (through ``/scale``) and its policy."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from augur.api import GROUP, VERSION
from augur.api.quantity import pod_requests
from augur.kube.client import ApiStatus, KubeError

POLICY_CACHE_SECONDS = 5.0
"""How long a ``ScalingPolicy`` read is reused; a policy change reaches its profiles at most this much later."""


@dataclass(frozen=True)
class ScaleInfo:
    """What the target's ``/scale`` subresource says."""

    kind: str
    spec_replicas: int
    status_replicas: int
    selector: str
    ready: int | None = None
    """``status.readyReplicas`` when the object itself was read (:data:`OBJECT_READ_KINDS`), else None."""
    pod_requests: tuple[float, float] | None = None
    """Cores and GiB one pod of its template requests (:func:`augur.api.quantity.pod_requests`) when the
    object itself was read and its template requests anything, else None."""


OBJECT_READ_KINDS = frozenset({("apps/v1", "Deployment"), ("apps/v1", "StatefulSet")})
"""Kinds read with one GET of the object instead of ``/scale`` plus the object: their ``spec.replicas``,
``status.replicas`` and ``spec.selector`` are what their ``/scale`` reports, and the object also has the
ready count. Without RBAC to read the object (403) the kind falls back to ``/scale``."""


def format_selector(selector: dict[str, Any] | None) -> str:
    """A ``metav1.LabelSelector`` as the API server writes it in ``/scale``'s ``status.selector``
    (``FormatLabelSelector``): requirements sorted by key, ``key=value``, ``key in (a,b)``,
    ``key notin (a,b)``, ``key``, ``!key``; empty for a selector that selects everything."""
    selector = selector or {}
    found: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, op = str(expression.get("key", "")), expression.get("operator")
        values = ",".join(sorted(str(v) for v in expression.get("values") or []))
        forms = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}
        found.append((key, forms.get(str(op), f"!{key}")))
    return ",".join(text for _, text in sorted(found, key=lambda kt: kt[0]))


class TargetError(Exception):
    """The scale target cannot be used; ``reason`` is the CamelCase condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class Resources:
    """Reads through one API client, with discovery cached and refreshed on a miss.

    kopf runs sync handlers in a thread pool and the dynamic client's discovery cache is not
    thread-safe (an invalidation mid-search raises ``KeyError``), so discovery is serialized.
    """

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]
        self._discovery_lock = threading.Lock()
        self._custom = client.CustomObjectsApi(api)
        self._policies: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._scale_only: set[tuple[str, str]] = set()
        """:data:`OBJECT_READ_KINDS` this client may not read (403): read through ``/scale``."""
        self._policy_lock = threading.Lock()

    def resource(self, api_version: str, kind: str) -> Any:
        """The dynamic client's resource for ``kind`` (raises ``TargetError`` when the server has none)."""
        return self._resource(api_version, kind)

    @property
    def dynamic(self) -> DynamicClient:
        return self._dynamic

    def _resource(self, api_version: str, kind: str) -> Any:
        with self._discovery_lock:
            return self._discover(api_version, kind)

    def _discover(self, api_version: str, kind: str) -> Any:
        for attempt in (1, 2):
            try:
                return self._dynamic.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                if attempt == 2:
                    break
                self._dynamic.resources.invalidate_cache()  # a CRD may have been installed since
        raise TargetError("TargetKindUnknown", f"the API server serves no kind {kind!r} in {api_version!r}")

    def get_scale(self, api_version: str, kind: str, name: str, namespace: str) -> ScaleInfo:
        resource = self._resource(api_version, kind)
        scale_sub = getattr(resource, "subresources", {}).get("scale")
        if scale_sub is None:
            raise TargetError("TargetNotScalable", f"{kind} in {api_version} has no /scale subresource")
        if (api_version, kind) in OBJECT_READ_KINDS and (api_version, kind) not in self._scale_only:
            try:
                return self._read_object(resource, kind, name, namespace)
            except client.ApiException as exc:
                if exc.status != 403:
                    raise KubeError(f"reading {kind} {namespace}/{name}", ApiStatus.from_exception(exc)) from exc
                self._scale_only.add((api_version, kind))
        return self.read_scale(scale_sub, kind, name, namespace)

    def _read_object(self, resource: Any, kind: str, name: str, namespace: str) -> ScaleInfo:
        """One GET of a Deployment or StatefulSet: what its ``/scale`` says, and its ready count."""
        try:
            obj = self._dynamic.get(resource, name=name, namespace=namespace).to_dict()  # type: ignore[no-untyped-call]
        except NotFoundError as exc:
            raise TargetError("TargetNotFound", f"{kind} {namespace}/{name} not found") from exc
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        requests = pod_requests((spec.get("template") or {}).get("spec"))
        return ScaleInfo(
            kind=kind,
            spec_replicas=int(spec.get("replicas") or 0),
            status_replicas=int(status.get("replicas") or 0),
            selector=format_selector(spec.get("selector")),
            ready=int(status.get("readyReplicas") or 0),
            pod_requests=requests if any(requests) else None,
        )

    @staticmethod
    def read_scale(scale_sub: Any, kind: str, name: str, namespace: str) -> ScaleInfo:
        """One ``/scale`` read through the dynamic client's subresource."""
        try:
            scale = scale_sub.get(name=name, namespace=namespace).to_dict()
        except NotFoundError as exc:
            raise TargetError("TargetNotFound", f"{kind} {namespace}/{name} not found") from exc
        except client.ApiException as exc:
            raise KubeError(f"reading {kind} {namespace}/{name}/scale", ApiStatus.from_exception(exc)) from exc
        status = scale.get("status") or {}
        return ScaleInfo(
            kind=kind,
            spec_replicas=int((scale.get("spec") or {}).get("replicas") or 0),
            status_replicas=int(status.get("replicas") or 0),
            selector=str(status.get("selector") or ""),
        )

    def zones(self, zone_label: str, region_label: str) -> dict[str, str]:
        """Zone → region of every node that carries the zone label."""
        try:
            nodes = client.CoreV1Api(self._api).list_node().items
        except client.ApiException as exc:
            raise KubeError("listing nodes", ApiStatus.from_exception(exc)) from exc
        out: dict[str, str] = {}
        for node in nodes:
            labels = (node.metadata.labels if node.metadata else None) or {}
            if zone_label in labels:
                out[labels[zone_label]] = labels.get(region_label, "")
        return out

    def get_policy(self, name: str, namespace: str) -> dict[str, Any] | None:
        """The raw ``ScalingPolicy``, or None when it does not exist. Answers are reused for
        :data:`POLICY_CACHE_SECONDS` (many profiles share one policy and each reconciles every cadence)."""
        key, now = (namespace, name), time.monotonic()
        with self._policy_lock:
            cached = self._policies.get(key)
        if cached is not None and now - cached[0] < POLICY_CACHE_SECONDS:
            return cached[1]
        try:
            obj = self._custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "scalingpolicies", name)
        except client.ApiException as exc:
            if exc.status == 404:
                obj = None
            else:
                raise KubeError(f"reading ScalingPolicy {namespace}/{name}", ApiStatus.from_exception(exc)) from exc
        policy = dict(obj) if isinstance(obj, dict) else None
        with self._policy_lock:
            if len(self._policies) > 10_000:
                self._policies.clear()
            self._policies[key] = (now, policy)
        return policy
