"""Reading a scale target's replicas and writing them through ``/scale`` (field manager ``augur``).

Writes are server-side apply of an ``autoscaling/v1`` ``Scale`` to the target's ``/scale`` subresource
with ``force``: Augur takes ownership of ``spec.replicas`` (GitOps tools must ignore that field, see
``docs/scaling.md``). Any kind that serves ``/scale`` works: Deployment, StatefulSet, custom resources.

Custom resources: the API server (v1.36 included) answers a server-side apply to a custom resource's
``/scale`` with ``500 ... request to convert CR to an invalid group/version: autoscaling/v1``. For such a
kind the write is a JSON merge patch of ``spec.replicas`` on ``/scale`` with field manager ``augur``
instead (``managedFields`` then records an ``Update`` by ``augur`` on the ``scale`` subresource); the kind
is remembered so later writes go straight to the patch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.dynamic.exceptions import NotFoundError

from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError
from augur.kube.resources import Resources, ScaleInfo, TargetError

NO_READY_RECHECK_SECONDS = 600.0
"""How long a kind whose object showed no ready count (or could not be read) is read through ``/scale``
alone before its object is looked at again (a controller may write ``readyReplicas`` later, RBAC may be
granted)."""


@dataclass(frozen=True)
class TargetReplicas:
    """What the target asks for and has."""

    spec: int
    """``/scale`` ``spec.replicas``: what was asked for."""
    current: int
    """``/scale`` ``status.replicas``."""
    ready: int
    """``status.readyReplicas`` of the target when it has one (Deployment, StatefulSet), else ``current``."""
    selector: str


class Workloads:
    """Replica reads and ``/scale`` writes through one :class:`Resources` (shared discovery cache)."""

    def __init__(self, resources: Resources, clock: Callable[[], float] = time.monotonic) -> None:
        self._resources, self._clock = resources, clock
        self._no_ready: dict[tuple[str, str], float] = {}
        """Kinds whose objects cannot be read (RBAC) or showed no ``readyReplicas`` (none written yet, or
        none at all), with when to look again: until then ``/scale`` only, one GET per read."""
        self._has_ready: set[tuple[str, str]] = set()
        """Kinds whose objects have shown ``readyReplicas``: for them a missing field means 0 ready (Go
        controllers leave a zero count out, ``omitempty``), not a kind without the count."""
        self._merge_patch: set[tuple[str, str]] = set()
        """Kinds whose ``/scale`` refuses server-side apply (custom resources): written by merge patch."""

    def _scale(self, api_version: str, kind: str) -> Any:
        resource = self._resources.resource(api_version, kind)
        sub = getattr(resource, "subresources", {}).get("scale")
        if sub is None:
            raise TargetError("TargetNotScalable", f"{kind} in {api_version} has no /scale subresource")
        return resource, sub

    def read(
        self, api_version: str, kind: str, name: str, namespace: str, known: ScaleInfo | None = None
    ) -> TargetReplicas:
        """Replicas asked for, current and ready; ``known`` is a read moments ago (the reconcile's), used
        instead of reading again. A Deployment or StatefulSet is one GET of the object (it has the ready
        count, :data:`~augur.kube.resources.OBJECT_READ_KINDS`); other kinds read ``/scale`` and, when
        they have a ready count, the object (:data:`NO_READY_RECHECK_SECONDS`)."""
        if known is None:
            known = self._resources.get_scale(api_version, kind, name, namespace)
        current = known.status_replicas
        if known.ready is not None:
            return TargetReplicas(known.spec_replicas, current, known.ready, known.selector)
        resource, _ = self._scale(api_version, kind)
        ready = self._ready(resource, api_version, kind, name, namespace)
        return TargetReplicas(known.spec_replicas, current, current if ready is None else ready, known.selector)

    def _ready(self, resource: Any, api_version: str, kind: str, name: str, namespace: str) -> int | None:
        key = (api_version, kind)
        if self._clock() < self._no_ready.get(key, float("-inf")):
            return None
        try:
            obj = self._resources.dynamic.get(resource, name=name, namespace=namespace).to_dict()  # type: ignore[no-untyped-call]
        except client.ApiException as exc:
            if exc.status == 403:  # no RBAC to read this kind: /scale's count will do
                self._no_ready[key] = self._clock() + NO_READY_RECHECK_SECONDS
                return None
            raise KubeError(f"reading {kind} {namespace}/{name}", ApiStatus.from_exception(exc)) from exc
        status = obj.get("status") or {}
        if "readyReplicas" in status:
            self._has_ready.add(key)
        elif kind not in ("Deployment", "StatefulSet") and key not in self._has_ready:
            self._no_ready[key] = self._clock() + NO_READY_RECHECK_SECONDS
            return None
        self._no_ready.pop(key, None)
        return int(status.get("readyReplicas") or 0)

    def set_replicas(self, api_version: str, kind: str, name: str, namespace: str, replicas: int) -> None:
        """Set ``spec.replicas`` on ``/scale`` as field manager ``augur``: server-side apply, or a merge
        patch for kinds whose ``/scale`` refuses apply (custom resources, see the module docstring)."""
        _, sub = self._scale(api_version, kind)
        what = f"{kind} {namespace}/{name}"
        try:
            if (api_version, kind) not in self._merge_patch:
                try:
                    self._apply(sub, name, namespace, replicas)
                    return
                except client.ApiException as exc:
                    if not _apply_refused_for_custom_resource(exc):
                        raise
                    self._merge_patch.add((api_version, kind))
            self._resources.dynamic.patch(  # type: ignore[no-untyped-call]
                sub,
                body={"spec": {"replicas": replicas}},
                name=name,
                namespace=namespace,
                content_type="application/merge-patch+json",
                field_manager=FIELD_MANAGER,
            )
        except NotFoundError as exc:
            raise TargetError("TargetNotFound", f"{what} not found") from exc
        except client.ApiException as exc:
            raise KubeError(f"scaling {what}", ApiStatus.from_exception(exc)) from exc

    def _apply(self, sub: Any, name: str, namespace: str, replicas: int) -> None:
        body = {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas},
        }
        self._resources.dynamic.server_side_apply(  # type: ignore[no-untyped-call]
            sub, body=body, name=name, namespace=namespace, field_manager=FIELD_MANAGER, force_conflicts=True
        )


def _apply_refused_for_custom_resource(exc: client.ApiException) -> bool:
    """The API server's answer to server-side apply on a custom resource's ``/scale``."""
    status = ApiStatus.from_exception(exc)
    return status.code == 500 and "convert CR to an invalid group/version" in status.message
