"""Flux's helm-controller on the local control plane, and a classic HTTP Helm repository on loopback.

``build-tools.sh`` builds ``helm-controller`` from its module on the Go module proxy into
``tools/flux-hc-v<version>/bin`` and copies its CRD (``HelmRelease``) next to it (``../crds``). It pairs
with the source-controller of :mod:`augur.devcluster.flux`, which turns a ``HelmRepository`` and the
``HelmChart`` helm-controller creates into an artifact that helm-controller fetches and installs.
:class:`HelmRepoServer` serves a directory built with ``helm package`` and ``helm repo index`` (the
``index.yaml`` of a classic Helm repository) over plain HTTP on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.flux import FLUX_NAMESPACE
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until


def _ready(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


class _QuietHandler(SimpleHTTPRequestHandler):
    server: _RepoHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        self.server.requests.append(format % args)


class _RepoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[str]


class HelmRepoServer:
    """``helm package`` of ``chart`` and ``helm repo index`` in ``root``, served read-only on 127.0.0.1."""

    def __init__(self, helm: Path, chart: Path, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._server = _RepoHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
        self._server.requests = []
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        for argv in (["package", str(chart), "-d", str(root)], ["repo", "index", str(root), "--url", self.url]):
            subprocess.run([str(helm), *argv], check=True, capture_output=True, text=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="helm-repo", daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[str]:
        """The request lines served so far (index.yaml, the chart's .tgz)."""
        return list(self._server.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_helm_controller(cluster: LocalCluster, hc_bin: Path) -> ManagedProcess:
    """Install the HelmRelease CRD, start helm-controller (admin kubeconfig, no leader election, every port
    on 127.0.0.1) and wait until it is ready. Flux's source-controller must already run."""
    crds = hc_bin.parent / "crds"
    cluster.kubectl("apply", "--server-side", "-f", str(crds))
    cluster.wait_established("crd/helmreleases.helm.toolkit.fluxcd.io")
    health, metrics = free_ports(2)
    argv = [
        str(hc_bin / "helm-controller"),
        f"--metrics-addr=127.0.0.1:{metrics}",
        f"--health-addr=127.0.0.1:{health}",
        "--enable-leader-election=false",
        "--log-encoding=console",
    ]
    proc = cluster.spawn("flux-helm-controller", argv, env={"RUNTIME_NAMESPACE": FLUX_NAMESPACE})
    wait_until(partial(_ready, f"http://127.0.0.1:{health}/readyz"), 120, "helm-controller ready", proc)
    return proc
