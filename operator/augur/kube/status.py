"""Writing status with server-side apply under the ``augur`` field manager."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from augur.api import API_VERSION, GROUP, VERSION
from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError, discard


def apply_status(
    api: client.ApiClient, kind: str, plural: str, namespace: str | None, name: str, status: dict[str, Any]
) -> None:
    """Server-side apply ``status`` to one ``augur.dev`` object (namespaced unless ``namespace`` is None)."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    body = {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "status": status}
    custom = client.CustomObjectsApi(api)
    kwargs: dict[str, Any] = {
        "field_manager": FIELD_MANAGER,
        "force": True,
        "_content_type": "application/apply-patch+yaml",
        "_preload_content": False,  # the answer (the whole object) is not used: skip parsing it
    }
    try:
        if namespace:
            response = custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, plural, name, body, **kwargs
            )
        else:
            response = custom.patch_cluster_custom_object_status(GROUP, VERSION, plural, name, body, **kwargs)
        discard(response)
    except client.ApiException as exc:
        raise KubeError(f"applying status of {kind} {name}", ApiStatus.from_exception(exc)) from exc
