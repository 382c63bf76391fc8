"""A configured Kubernetes API client and errors that carry the API's ``Status``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client, config

FIELD_MANAGER = "augur"


def discard(response: Any) -> None:
    """Finish a call made with ``_preload_content=False`` whose answer is not needed: read the rest of
    the body and give the connection back to the pool (the client would otherwise parse the whole
    object, e.g. into a typed model)."""
    response.drain_conn()
    response.release_conn()


def api_client(connections: int | None = None) -> client.ApiClient:
    """In-cluster configuration when running in a pod, else ``$KUBECONFIG`` / ``~/.kube/config``.

    ``connections``: connections kept open to the API server, at least one per thread that calls it at
    the same time. The client's default is five per CPU; a request beyond the pool opens a new TLS
    connection and drops it afterwards ("Connection pool is full, discarding connection")."""
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    configuration = client.Configuration.get_default_copy()
    if connections is not None:
        configuration.connection_pool_maxsize = max(connections, configuration.connection_pool_maxsize)
    return client.ApiClient(configuration)


@dataclass(frozen=True)
class ApiStatus:
    """The ``metav1.Status`` the API server answered with."""

    code: int
    reason: str
    message: str

    @classmethod
    def from_exception(cls, exc: client.ApiException) -> ApiStatus:
        try:
            body: dict[str, Any] = json.loads(exc.body or "{}")
        except ValueError:
            body = {}
        return cls(
            int(exc.status or 0),
            str(body.get("reason") or exc.reason or ""),
            str(body.get("message") or exc.reason or ""),
        )

    @property
    def transient(self) -> bool:
        """Worth retrying: throttling, timeouts, server errors and connection failures."""
        return self.code in {0, 429} or self.code >= 500


class KubeError(Exception):
    """An API call failed; ``status`` says how."""

    def __init__(self, what: str, status: ApiStatus) -> None:
        self.status = status
        super().__init__(f"{what}: {status.code} {status.reason}: {status.message}")
