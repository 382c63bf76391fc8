"""Flux on the local control plane: a Git server on loopback and Flux's own controllers.

``build-tools.sh`` builds ``source-controller`` and ``kustomize-controller`` from their modules on the
Go module proxy into ``tools/flux-kc-v<version>-sc-v<version>/bin`` and copies their CRDs next to it
(``../crds``). :class:`GitServer` serves bare repositories over Git's smart HTTP protocol through
``git http-backend`` (Debian's git), so a ``GitRepository`` can point at ``http://127.0.0.1:PORT/NAME.git``
with no network. :func:`start_flux` installs the CRDs and runs both controllers as processes of the
cluster, authenticated with the admin kubeconfig (Flux's controllers run with cluster-admin in a real
installation too), without leader election and with every port on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until

FLUX_NAMESPACE = "flux-system"
GIT_AUTHOR = ["-c", "user.name=augur-e2e", "-c", "user.email=e2e@augur.invalid", "-c", "init.defaultBranch=main"]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *GIT_AUTHOR, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _http_backend() -> str:
    exec_path = subprocess.run(["git", "--exec-path"], check=True, capture_output=True, text=True).stdout.strip()
    return str(Path(exec_path) / "git-http-backend")


class _Handler(BaseHTTPRequestHandler):
    server: _GitHTTPServer

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while size := int(self.rfile.readline().strip().split(b";")[0], 16):
                out += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return out
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cgi(self) -> None:
        path, _, query = self.path.partition("?")
        env = {
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_ADDR": self.client_address[0],
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        if encoding := self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = encoding
        if protocol := self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = protocol
        body = self._body() if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(body))
        out = subprocess.run([self.server.backend], input=body, env=env, capture_output=True, check=False).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        self.server.requests.append(format % args)


class _GitHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.backend = _http_backend()
        self.requests: list[str] = []


class GitServer:
    """Bare repositories under ``root``, served read-only over smart HTTP on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self._server = _GitHTTPServer(root)
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-http", daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[str]:
        """The request lines served so far (what the Git client fetched)."""
        return list(self._server.requests)

    def url(self, repo: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{repo}.git"

    def commit(self, repo: str, files: dict[str, str], message: str) -> str:
        """Replace the repository's tree on branch main with ``files`` and return the new commit id."""
        bare = self.root / f"{repo}.git"
        if not bare.exists():
            _git("init", "--bare", str(bare), cwd=self.root)
        work = self.root / f".{repo}-work"
        shutil.rmtree(work, ignore_errors=True)
        _git("clone", "-q", str(bare), str(work), cwd=self.root)
        for old in work.iterdir():
            if old.name != ".git":
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
        _git("add", "-A", cwd=work)
        _git("commit", "-q", "-m", message, cwd=work)
        _git("push", "-q", "origin", "HEAD:main", cwd=work)
        return _git("rev-parse", "HEAD", cwd=work).strip()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Flux:
    source: ManagedProcess
    kustomize: ManagedProcess


def _ready(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


def start_flux(cluster: LocalCluster, flux_bin: Path, storage: Path) -> Flux:
    """Install Flux's CRDs and the flux-system namespace, start both controllers, wait until ready."""
    crds = flux_bin.parent / "crds"
    cluster.kubectl("apply", "--server-side", "-f", str(crds))
    names = [f"{p.stem.split('_')[1]}.{p.stem.split('_')[0]}" for p in sorted(crds.glob("*.yaml"))]
    cluster.wait_established(*(f"crd/{n}" for n in names))
    cluster.kubectl("create", "namespace", FLUX_NAMESPACE, check=False)
    storage.mkdir(parents=True, exist_ok=True)
    procs = []
    # storage, then health and metrics of each controller: distinct, taken before any of them listens
    ports = iter(free_ports(5))
    store = next(ports)
    for name, extra in (
        (
            "source-controller",
            [
                f"--storage-path={storage}",
                f"--storage-addr=127.0.0.1:{store}",
                f"--storage-adv-addr=127.0.0.1:{store}",
            ],
        ),
        ("kustomize-controller", ["--no-remote-bases=true"]),
    ):
        health, metrics = next(ports), next(ports)
        argv = [
            str(flux_bin / name),
            f"--metrics-addr=127.0.0.1:{metrics}",
            f"--health-addr=127.0.0.1:{health}",
            "--enable-leader-election=false",
            "--log-encoding=console",
            *extra,
        ]
        proc = cluster.spawn(f"flux-{name}", argv, env={"RUNTIME_NAMESPACE": FLUX_NAMESPACE})
        url = f"http://127.0.0.1:{health}/readyz"
        wait_until(partial(_ready, url), 120, f"{name} ready", proc)
        procs.append(proc)
    return Flux(*procs)


@contextmanager
def git_server(root: Path) -> Iterator[GitServer]:
    server = GitServer(root)
    try:
        yield server
    finally:
        server.close()
