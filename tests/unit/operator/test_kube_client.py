"""The API client's connection pool is sized for the threads that call it."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes.config import kube_config

from augur.kube.client import api_client
from augur.operator.settings import OperatorSettings

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def test_the_pool_holds_one_connection_per_calling_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))  # $KUBECONFIG, read at import
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings = OperatorSettings(handler_threads=40, warmup_concurrency=4)
    assert settings.connections == 48
    assert api_client(settings.connections).configuration.connection_pool_maxsize == 48
    default = api_client().configuration.connection_pool_maxsize
    assert api_client(1).configuration.connection_pool_maxsize == default  # never below the client's own
