"""The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and
Prometheus, all on 127.0.0.1 with generated certificates.

One implementation serves the pytest fixtures, ``augur dev up|down|demo`` and the benchmarks::

    with LocalCluster.create(Path("/tmp/c")) as cluster:
        cluster.kubectl("get", "nodes")

The components' command lines are :mod:`augur.devcluster.controlplane`, free ports
:mod:`augur.devcluster.ports`, kubeconfig files :mod:`augur.devcluster.kubeconfig` and the state file
(``augur dev down|status``) :mod:`augur.devcluster.state`.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from augur.devcluster import controlplane, kwok, prometheus
from augur.devcluster.kubeconfig import write_kubeconfig, write_token_kubeconfig
from augur.devcluster.nodes import NodeSpec, default_nodes, node_manifest, ready_for_pods
from augur.devcluster.pki import Pki, create_pki
from augur.devcluster.ports import free_port, free_ports
from augur.devcluster.procs import ManagedProcess, wait_until
from augur.devcluster.state import remove_state, save_state
from augur.devcluster.tools import Tools, ensure_tools


@dataclass(frozen=True)
class ClusterConfig:
    """What to start. ``extenders`` are ``KubeSchedulerConfiguration`` extender entries."""

    nodes: tuple[NodeSpec, ...] = field(default_factory=default_nodes)
    extenders: tuple[dict[str, Any], ...] = ()
    prometheus: bool = True
    die_with_parent: bool = True
    """Kill every process when the starting Python process dies (tests); False for ``augur dev up``."""
    pod_ready_delay: tuple[float, float] | None = None
    """Seconds ``(low, high)`` a new pod stays not Ready (uniformly random); None: about a second.
    Pods can also ask for their own delay with annotations, see :mod:`augur.devcluster.kwok`."""


@dataclass(frozen=True)
class Endpoints:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int
    prometheus: int


class LocalCluster:
    """A running local control plane. Use :meth:`create` and then :meth:`start`, or a ``with`` block."""

    def __init__(self, directory: Path, config: ClusterConfig, tools: Tools) -> None:
        self.dir = directory
        self.config = config
        self.tools = tools
        self.procs: list[ManagedProcess] = []
        self.ports = Endpoints(*free_ports(7))
        self.pki: Pki | None = None

    @classmethod
    def create(cls, directory: Path, config: ClusterConfig | None = None, tools: Tools | None = None) -> LocalCluster:
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory, config or ClusterConfig(), tools or ensure_tools())

    # -- addresses -------------------------------------------------------------------------------------------
    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "admin.kubeconfig"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.prometheus}"

    @property
    def prometheus_dir(self) -> Path:
        return self.dir / "prometheus"

    @property
    def prometheus_data_dir(self) -> Path:
        return self.prometheus_dir / "data"

    def env(self) -> dict[str, str]:
        """Environment for a child process that talks to this cluster."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PATH": f"{self.tools.bin_dir}:{os.environ['PATH']}"}

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        self.pki = create_pki(self.dir / "pki")
        self._start_etcd()
        self._start_apiserver()
        self._start_controller_manager()
        self._start_scheduler()
        self._start_kwok()
        if self.config.prometheus:
            self._start_prometheus()
        self.write_state()
        self.add_nodes(self.config.nodes)
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Stop every process this cluster started, newest first."""
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        remove_state(self.dir)

    def _spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> ManagedProcess:
        proc = ManagedProcess(
            name,
            argv,
            self.dir / "logs" / f"{name}.log",
            env={**self.env(), **(env or {})},
            die_with_parent=self.config.die_with_parent,
        )
        self.procs.append(proc)
        return proc

    # -- components ------------------------------------------------------------------------------------------
    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.ports.etcd_client}"
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        argv = controlplane.etcd_argv(self.tools.path("etcd"), self.dir / "etcd", client, peer)
        proc = self._spawn("etcd", argv)
        wait_until(lambda: httpx.get(f"{client}/health", timeout=2).json()["health"] == "true", 60, "etcd", proc)

    def _start_apiserver(self) -> None:
        assert self.pki is not None
        p = self.pki
        binary, cert_dir = self.tools.path("kube-apiserver"), self.dir / "apiserver-certs"
        argv = controlplane.apiserver_argv(binary, self.ports.etcd_client, self.ports.apiserver, p, cert_dir)
        proc = self._spawn("kube-apiserver", argv)
        wait_until(self._apiserver_ready, 120, "kube-apiserver /readyz", proc)
        write_kubeconfig(self.kubeconfig, self.server, p.ca.cert, p.admin.cert, p.admin.key, "augur-admin")

    def _apiserver_ready(self) -> bool:
        assert self.pki is not None
        context = ssl.create_default_context(cafile=str(self.pki.ca.cert))
        context.load_cert_chain(str(self.pki.admin.cert), str(self.pki.admin.key))
        with httpx.Client(verify=context, timeout=2) as client:
            return client.get(f"{self.server}/readyz").text == "ok"

    def _component_kubeconfig(self, name: str, cert: Path, key: Path, user: str) -> Path:
        assert self.pki is not None
        return write_kubeconfig(self.dir / f"{name}.kubeconfig", self.server, self.pki.ca.cert, cert, key, user)

    def _start_controller_manager(self) -> None:
        assert self.pki is not None
        kc = self._component_kubeconfig(
            "kcm", self.pki.controller_manager.cert, self.pki.controller_manager.key, "system:kube-controller-manager"
        )
        port = self.ports.controller_manager
        binary = self.tools.path("kube-controller-manager")
        argv = controlplane.controller_manager_argv(binary, kc, port, self.pki, self.dir / "kcm-certs")
        proc = self._spawn("kube-controller-manager", argv)
        wait_until(lambda: controlplane.healthz(port), 60, "kube-controller-manager /healthz", proc)

    def scheduler_config(self, extenders: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The ``KubeSchedulerConfiguration`` the scheduler runs with (extenders from the cluster config)."""
        extenders = self.config.extenders if extenders is None else extenders
        config: dict[str, Any] = {
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(self.dir / "scheduler.kubeconfig"), "qps": 500, "burst": 1000},
            "leaderElection": {"leaderElect": False},
        }
        if extenders:
            config["extenders"] = [dict(e) for e in extenders]
        return config

    def restart_scheduler(self, extenders: Sequence[dict[str, Any]] | None = None, *, start: bool = True) -> None:
        """Stop kube-scheduler and, unless ``start`` is false, start it again with ``extenders``
        (None: the cluster config's). Used to compare runs with and without an extender."""
        for proc in [p for p in self.procs if p.name == "kube-scheduler"]:
            proc.stop()
            self.procs.remove(proc)
        if start:
            self._start_scheduler(extenders)
        self.write_state()

    def _start_scheduler(self, extenders: Sequence[dict[str, Any]] | None = None) -> None:
        assert self.pki is not None
        kc = self._component_kubeconfig(
            "scheduler", self.pki.scheduler.cert, self.pki.scheduler.key, "system:kube-scheduler"
        )
        config_path = self.dir / "kube-scheduler.yaml"
        config_path.write_text(yaml.safe_dump(self.scheduler_config(extenders), sort_keys=False))
        port = self.ports.scheduler
        binary = self.tools.path("kube-scheduler")
        argv = controlplane.scheduler_argv(binary, config_path, kc, port, self.dir / "scheduler-certs")
        proc = self._spawn("kube-scheduler", argv)
        wait_until(lambda: controlplane.healthz(port), 60, "kube-scheduler /healthz", proc)

    def _start_kwok(self) -> None:
        config = self.dir / "kwok.yaml"
        config.write_text(kwok.render_config(self.tools.kwok_stages.read_text(), self.config.pod_ready_delay))
        port = self.ports.kwok
        proc = self._spawn(
            "kwok",
            [
                self.tools.path("kwok"),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={config}",
                f"--server-address=127.0.0.1:{port}",
            ],
        )
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200, 60, "kwok", proc
        )

    def _start_prometheus(self) -> None:
        prom, _ = prometheus.binaries()
        directory = self.prometheus_dir
        directory.mkdir(parents=True, exist_ok=True)
        address = f"127.0.0.1:{self.ports.prometheus}"
        config = prometheus.write_config(directory, address, f"127.0.0.1:{self.ports.apiserver}", self.dir / "pki")
        proc = self._spawn(
            "prometheus",
            [
                prom,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.prometheus_data_dir}",
                f"--web.listen-address={address}",
                f"--storage.tsdb.retention.time={prometheus.RETENTION}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
        )
        wait_until(
            lambda: httpx.get(f"{self.prometheus_url}/-/ready", timeout=2).status_code == 200, 60, "prometheus", proc
        )

    def prometheus_running(self) -> bool:
        return any(p.name == "prometheus" and p.running() for p in self.procs)

    def restart_prometheus(self, *, start: bool = True) -> None:
        """Stop Prometheus and, unless ``start`` is false, start it again on the same port and data
        (what it scraped so far survives; blocks backfilled meanwhile are loaded at start)."""
        for proc in [p for p in self.procs if p.name == "prometheus"]:
            proc.stop()
            self.procs.remove(proc)
        if start:
            self._start_prometheus()
        self.write_state()

    # -- helpers ---------------------------------------------------------------------------------------------
    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the cluster's kubectl; raises with stderr on failure when ``check``."""
        result = subprocess.run(
            [self.tools.path("kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def wait_established(self, *crds: str, timeout: float = 60.0) -> None:
        """Wait until CRDs (``crd/NAME`` arguments, or ``crd -l SELECTOR``) are Established. ``kubectl wait``
        fails at once while a new CRD has no ``status.conditions`` yet, so it is asked again until it succeeds;
        on timeout the error carries kubectl's last answer."""
        last: list[str] = []

        def established() -> bool:
            done = self.kubectl("wait", "--for=condition=Established", "--timeout=10s", *crds, check=False)
            last[:] = [done.stderr.strip()]
            return done.returncode == 0

        try:
            wait_until(established, timeout, f"{' '.join(crds)} Established")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}: {last[0] if last else ''}") from exc

    def add_nodes(self, nodes: Sequence[NodeSpec], timeout: float = 180) -> None:
        """Create fake nodes and wait until they are Ready with their not-ready taint lifted."""
        if not nodes:
            return
        docs = "\n---\n".join(json.dumps(node_manifest(n)) for n in nodes)
        self.kubectl("apply", "--server-side", "--field-manager=augur-devcluster", "-f", "-", stdin=docs)
        names = {n.name for n in nodes}
        wait_until(lambda: names <= self.ready_nodes(), timeout, f"{len(names)} kwok nodes Ready")

    def ready_nodes(self) -> set[str]:
        out = self.kubectl("get", "nodes", "-o", "json").stdout
        return {str(item["metadata"]["name"]) for item in json.loads(out)["items"] if ready_for_pods(item)}

    def service_account_kubeconfig(self, namespace: str, name: str, hours: int = 4) -> Path:
        """A kubeconfig that authenticates as a ServiceAccount (bound token from the TokenRequest API)."""
        assert self.pki is not None
        token = self.kubectl("create", "token", name, "-n", namespace, f"--duration={hours}h").stdout.strip()
        path = self.dir / f"sa-{namespace}-{name}.kubeconfig"
        return write_token_kubeconfig(path, self.server, self.pki.ca.cert, f"{namespace}:{name}", token)

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> ManagedProcess:
        """Start an extra process (operator, extender) that is stopped with the cluster."""
        proc = self._spawn(name, argv, env)
        self.write_state()
        return proc

    def start_extender(
        self,
        kubeconfig: Path | None = None,
        *,
        name: str = "augur-extender",
        tls: tuple[Path, Path, Path] | None = None,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> tuple[ManagedProcess, str]:
        """Start ``augur extender run`` on a free loopback port and wait until its cache has synced.

        ``tls`` is (certificate, key, CA that signed it); ``env`` is added to the process's environment;
        returns the process and its base URL.
        """
        port = free_port()
        argv = [sys.executable, "-m", "augur", "extender", "run", "--port", str(port)]
        argv += ["--kubeconfig", str(kubeconfig or self.kubeconfig), *args]
        verify: ssl.SSLContext | bool = False
        if tls is not None:
            cert, key, ca = tls
            argv += ["--tls-cert", str(cert), "--tls-key", str(key)]
            verify = ssl.create_default_context(cafile=str(ca))
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        proc = self.spawn(name, argv, env)
        wait_until(
            lambda: httpx.get(f"{url}/readyz", verify=verify, timeout=2).status_code == 200, 120, f"{name} ready", proc
        )
        return proc, url

    def write_state(self) -> None:
        state = {
            "directory": str(self.dir),
            "kubeconfig": str(self.kubeconfig),
            "server": self.server,
            "prometheus": self.prometheus_url if self.config.prometheus else None,
            "ports": asdict(self.ports),
            "processes": [asdict(p.record) for p in self.procs],
        }
        save_state(self.dir, state)
