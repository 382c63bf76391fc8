"""Learned state of a ``WorkloadProfile`` in a ConfigMap the profile owns (deleted with it).

The state (models with their seasonal terms, calibration, learner, anomaly detector) is too large for
status at fine steps, so it goes to ``binaryData["state.json.gz"]`` (gzip-compressed JSON) of the
ConfigMap :func:`config_map_name`, written by server-side apply (field manager ``augur``) with an
``ownerReference`` to the profile.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from typing import Any

from kubernetes import client

from augur.api import API_VERSION
from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError, discard

KEY = "state.json.gz"
PREFIX = "augur-state-"
MAX_BYTES = 900_000
"""ConfigMaps hold at most 1 MiB; a larger state is refused (the caller reports it) rather than cut."""


def config_map_name(profile: str) -> str:
    name = PREFIX + profile
    if len(name) <= 253:
        return name
    digest = hashlib.sha256(profile.encode()).hexdigest()[:10]
    return f"{name[: 253 - 11]}-{digest}"


def encode(data: dict[str, Any]) -> str:
    raw = gzip.compress(json.dumps(data, separators=(",", ":")).encode(), compresslevel=1, mtime=0)
    return base64.b64encode(raw).decode()


def decode(text: str) -> dict[str, Any]:
    loaded = json.loads(gzip.decompress(base64.b64decode(text)))
    if not isinstance(loaded, dict):
        raise ValueError("saved state is not an object")
    return loaded


class StateStore:
    def __init__(self, api: client.ApiClient) -> None:
        self._core = client.CoreV1Api(api)

    def load(self, namespace: str, profile: str) -> dict[str, Any] | None:
        """The saved state, None when there is none; a corrupt one raises ``ValueError``."""
        name = config_map_name(profile)
        try:
            cm = self._core.read_namespaced_config_map(name, namespace)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"reading ConfigMap {namespace}/{name}", ApiStatus.from_exception(exc)) from exc
        text = (cm.binary_data or {}).get(KEY)
        return None if text is None else decode(str(text))

    def save(self, namespace: str, profile: str, uid: str, data: dict[str, Any]) -> int:
        """Apply the state; returns its compressed size in bytes."""
        name = config_map_name(profile)
        payload = encode(data)
        if len(payload) > MAX_BYTES:
            raise ValueError(f"learned state is {len(payload)} bytes, more than a ConfigMap holds")
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/part-of": "augur", "app.kubernetes.io/managed-by": "augur"},
                "ownerReferences": [
                    {"apiVersion": API_VERSION, "kind": "WorkloadProfile", "name": profile, "uid": uid}
                ],
            },
            "binaryData": {KEY: payload},
        }
        try:
            response = self._core.patch_namespaced_config_map(
                name,
                namespace,
                body,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
                _preload_content=False,  # the answer echoes the state: not worth turning into a V1ConfigMap
            )
            discard(response)
        except client.ApiException as exc:
            raise KubeError(f"saving ConfigMap {namespace}/{name}", ApiStatus.from_exception(exc)) from exc
        return len(payload)
