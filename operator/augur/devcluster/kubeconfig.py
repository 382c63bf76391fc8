"""Kubeconfig files for the local control plane: one cluster entry (``augur-local``, its CA inlined)
and one user, authenticated by a client certificate (:func:`write_kubeconfig`: the admin and each
control-plane component) or by a bearer token (:func:`write_token_kubeconfig`: a ServiceAccount).
Written with mode 0600.
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: Path, server: str, ca: Path, cert: Path, key: Path, user: str) -> Path:
    credentials = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
    return _write_kubeconfig(path, server, ca, user, credentials)


def write_token_kubeconfig(path: Path, server: str, ca: Path, user: str, token: str) -> Path:
    return _write_kubeconfig(path, server, ca, user, {"token": token})


def _write_kubeconfig(path: Path, server: str, ca: Path, user: str, credentials: dict[str, str]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "augur-local", "cluster": {"server": server, "certificate-authority-data": _b64(ca)}}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": "augur-local", "context": {"cluster": "augur-local", "user": user}}],
        "current-context": "augur-local",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
