"""Argo CD on the local control plane: Redis, ``argocd-repo-server`` and ``argocd-application-controller``.

``build-tools.sh`` builds Argo CD's single ``argocd`` binary from its module on the Go module proxy into
``tools/argocd-v<version>/bin`` and copies the Application and AppProject CRDs next to it (``../crds``).
The binary acts as each component by the name it runs under; ``ARGOCD_BINARY_NAME`` picks the component
without symlinks (``cmd/main.go``). :func:`start_argocd` installs the CRDs and, in namespace ``argocd``,
what the controller reads at start (``argocd-cm``, ``argocd-secret``, the ``default`` AppProject that
Argo CD's API server would otherwise create), then runs as processes of the cluster:

- Debian's ``redis-server`` on loopback without persistence (Argo CD's cache; a real install runs Redis
  too);
- the repo-server, plaintext gRPC on 127.0.0.1 (it clones Git repositories with the ``git`` CLI and
  renders manifests);
- the application controller with the admin kubeconfig (it runs with cluster-admin in a real install).
  ``ARGOCD_FAKE_IN_CLUSTER=true`` makes the in-cluster destination ``https://kubernetes.default.svc``
  use ``$KUBECONFIG`` instead of a pod's service account, as Argo CD's own local development setup does,
  so no cluster Secret is needed.

Argo CD's API server, UI, Dex, ApplicationSet and notifications controllers are not run: a sync is
requested the way the API server does it, by writing the Application's ``operation`` field.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until

ARGOCD_NAMESPACE = "argocd"
APPLICATION = "application.argoproj.io"
FIELD_MANAGER = "argocd-controller"
"""The field manager of the application controller's server-side apply."""
PART_OF = {"app.kubernetes.io/part-of": "argocd"}
"""Argo CD's settings manager only reads ConfigMaps and Secrets carrying this label."""


@dataclass(frozen=True)
class ArgoCD:
    redis: ManagedProcess
    repo_server: ManagedProcess
    controller: ManagedProcess

    def stop(self) -> None:
        for proc in (self.controller, self.repo_server, self.redis):
            proc.stop()


def _redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _settings() -> list[dict[str, Any]]:
    meta = {"namespace": ARGOCD_NAMESPACE, "labels": PART_OF}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argocd-cm", **meta}, "data": {}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "argocd-secret", **meta},
            "stringData": {"server.secretkey": secrets.token_urlsafe(32)},
        },
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "default", "namespace": ARGOCD_NAMESPACE},
            "spec": {
                "sourceRepos": ["*"],
                "destinations": [{"server": "*", "namespace": "*"}],
                "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            },
        },
    ]


def install(cluster: LocalCluster, argocd_bin: Path) -> None:
    """The CRDs built with the binary, the ``argocd`` namespace and the settings the controller reads."""
    crds = argocd_bin.parent / "crds"
    cluster.kubectl("apply", "--server-side", "-f", str(crds))
    names = ("crd/applications.argoproj.io", "crd/appprojects.argoproj.io")
    cluster.wait_established(*names)
    cluster.kubectl("create", "namespace", ARGOCD_NAMESPACE, check=False)
    cluster.kubectl("apply", "-f", "-", stdin="\n---\n".join(json.dumps(o) for o in _settings()))


def start_argocd(cluster: LocalCluster, argocd_bin: Path, root: Path) -> ArgoCD:
    """Install what Argo CD needs, start Redis, the repo-server and the controller, wait until ready."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise RuntimeError("redis-server is missing: install Debian's redis-server package (hack/setup.sh does)")
    install(cluster, argocd_bin)
    for sub in ("tmp", "tls", "ssh", "gpg", "redis"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    redis_port, repo_port, repo_metrics, controller_metrics = free_ports(4)
    redis = cluster.spawn(
        "argocd-redis",
        [
            redis_server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root / "redis"),
        ],
    )
    wait_until(partial(_redis_ready, redis_port), 30, "Argo CD's redis answers PING", redis)
    binary = str(argocd_bin / "argocd")
    common = {
        "ARGOCD_FAKE_IN_CLUSTER": "true",
        "KUBECONFIG": str(cluster.kubeconfig),
        "TMPDIR": str(root / "tmp"),
        "ARGOCD_TLS_DATA_PATH": str(root / "tls"),
        "ARGOCD_SSH_DATA_PATH": str(root / "ssh"),
        "ARGOCD_GNUPGHOME": str(root / "gpg"),
        "ARGOCD_GPG_ENABLED": "false",
    }
    repo_server = cluster.spawn(
        "argocd-repo-server",
        [
            binary,
            "--address=127.0.0.1",
            f"--port={repo_port}",
            "--metrics-address=127.0.0.1",
            f"--metrics-port={repo_metrics}",
            f"--redis=127.0.0.1:{redis_port}",
            "--disable-tls",
            "--client-ca-path=",  # its default (a pod's mounted Secret) is refused together with --disable-tls
            "--loglevel=info",
        ],
        env={
            **common,
            "ARGOCD_BINARY_NAME": "argocd-repo-server",
            # git-verify-wrapper.sh, which it runs on every revision it renders, is installed next to the binary;
            # helm renders Helm charts (the project's helm build; Argo CD's image ships its own helm)
            "PATH": f"{argocd_bin}:{cluster.tools.helm.parent}:{cluster.env()['PATH']}",
            "ARGOCD_ASK_PASS_SOCK": str(root / "askpass.sock"),
        },
    )
    wait_until(
        partial(_healthy, f"http://127.0.0.1:{repo_metrics}/healthz?full=true"), 120, "repo-server ready", repo_server
    )
    controller = cluster.spawn(
        "argocd-application-controller",
        [
            binary,
            f"--kubeconfig={cluster.kubeconfig}",
            f"--namespace={ARGOCD_NAMESPACE}",
            f"--repo-server=127.0.0.1:{repo_port}",
            "--repo-server-plaintext",
            f"--redis=127.0.0.1:{redis_port}",
            f"--metrics-port={controller_metrics}",
            "--status-processors=2",
            "--operation-processors=2",
            "--loglevel=info",
        ],
        env={**common, "ARGOCD_BINARY_NAME": "argocd-application-controller"},
    )
    wait_until(
        partial(_healthy, f"http://127.0.0.1:{controller_metrics}/healthz"),
        120,
        "application controller ready",
        controller,
    )
    return ArgoCD(redis, repo_server, controller)
