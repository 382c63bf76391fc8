"""Removing finalizers from ``augur.dev`` objects with a JSON patch that tests the list it replaces."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from kubernetes import client

from augur.api import GROUP, VERSION
from augur.kube.client import ApiStatus, KubeError, discard


def remove_finalizers(
    api: client.ApiClient,
    plural: str,
    namespace: str | None,
    name: str,
    current: Sequence[str],
    remove: Collection[str],
) -> bool:
    """Drop ``remove`` from the object's finalizers, which must still be ``current`` (``namespace`` None:
    a cluster-scoped object).

    False when nothing was patched: the object is gone (404) or its finalizers changed meanwhile (the
    ``test`` operation failed, 422; the next event brings the new list). Other failures raise
    :class:`KubeError`."""
    kept = [f for f in current if f not in remove]
    ops: list[dict[str, Any]] = [
        {"op": "test", "path": "/metadata/finalizers", "value": list(current)},
        {"op": "replace", "path": "/metadata/finalizers", "value": kept},
    ]
    custom = client.CustomObjectsApi(api)
    try:
        kwargs: dict[str, Any] = {"_content_type": "application/json-patch+json", "_preload_content": False}
        if namespace:
            response = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, ops, **kwargs)
        else:
            response = custom.patch_cluster_custom_object(GROUP, VERSION, plural, name, ops, **kwargs)
        discard(response)
    except client.ApiException as exc:
        status = ApiStatus.from_exception(exc)
        if status.code in (404, 422):
            return False
        where = f"{namespace}/{name}" if namespace else name
        raise KubeError(f"removing finalizers {sorted(remove)} of {plural} {where}", status) from exc
    return True
