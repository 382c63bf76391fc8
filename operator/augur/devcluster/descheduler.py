"""The real descheduler (``sigs.k8s.io/descheduler``, built by ``build-tools.sh``) as a local process.

:func:`policy` renders a ``descheduler/v1alpha2`` ``DeschedulerPolicy`` with ``LowNodeUtilization`` and,
optionally, ``RemovePodsViolatingTopologySpreadConstraint``; :class:`Descheduler` runs the binary against
a kubeconfig, either once or every ``interval`` seconds (``--descheduling-interval``), with metrics and
its HTTPS endpoint off (``--secure-port=0``) so several can run side by side. Evictions are read from its
log (``"Evicted pod"`` lines, klog level 1) as a cross-check of what the cluster's watcher saw.
"""

from __future__ import annotations

import base64
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from augur.devcluster.procs import ManagedProcess
from augur.devcluster.replay_kube import ApiError, Rest
from augur.devcluster.tools import Tools

EVICTED = re.compile(r'"Evicted pod" pod="(?P<pod>[^"]+)".*?strategy="(?P<strategy>[^"]+)".*?node="(?P<node>[^"]+)"')


@dataclass(frozen=True)
class PolicyOptions:
    """What the policy says. Thresholds are percent of allocatable (requests), the descheduler's own
    documented example values by default: a node under ``thresholds`` in every resource is underused,
    one over ``target_thresholds`` in any resource is overused."""

    node_selector: str = ""
    thresholds: dict[str, int] = field(default_factory=lambda: {"cpu": 20, "memory": 20, "pods": 20})
    target_thresholds: dict[str, int] = field(default_factory=lambda: {"cpu": 50, "memory": 50, "pods": 50})
    use_deviation_thresholds: bool = False
    topology_spread: bool = True
    """Also enable ``RemovePodsViolatingTopologySpreadConstraint`` (hard and soft constraints)."""
    namespaces: tuple[str, ...] = ()
    """Only these namespaces for the topology-spread plugin (empty: all)."""
    prometheus: PrometheusSource | None = None
    """Node use from Prometheus instead of requests: ``LowNodeUtilization``'s ``metricsUtilization``, whose
    thresholds are then one figure, ``MetricResource`` (percent of a node used), the same numbers as
    ``thresholds``' and ``target_thresholds``' ``cpu``."""


@dataclass(frozen=True)
class PrometheusSource:
    """The descheduler's Prometheus ``metricsProviders`` entry and the query ``LowNodeUtilization`` runs (one
    series per node labelled ``instance``, values in [0, 1]). The descheduler authenticates with a bearer
    token from a Secret (``token_secret``: namespace, name; key ``prometheusAuthToken``; a plain-HTTP
    Prometheus ignores it) and always loads a CA file for the connection, ``PROMETHEUS_CA`` beside the
    binary in the build ``build-tools.sh`` makes."""

    url: str
    query: str
    token_secret: tuple[str, str] = ("kube-system", "augur-bench-prometheus-token")


PROMETHEUS_CA = "prometheus-ca.crt"
"""Where ``build-tools.sh`` points the descheduler's Prometheus CA file (``client.K8sPodCAFilePath``, a
pod's service-account mount upstream): beside the binary."""


def policy(options: PolicyOptions) -> dict[str, Any]:
    """The ``DeschedulerPolicy`` (v1alpha2) for ``options``."""
    low: dict[str, Any] = {"thresholds": options.thresholds, "targetThresholds": options.target_thresholds}
    source = options.prometheus
    if source is not None:
        low = {
            "thresholds": {"MetricResource": options.thresholds["cpu"]},
            "targetThresholds": {"MetricResource": options.target_thresholds["cpu"]},
            "metricsUtilization": {"source": "Prometheus", "prometheus": {"query": source.query}},
        }
    if options.use_deviation_thresholds:
        low["useDeviationThresholds"] = True
    configs: list[dict[str, Any]] = [
        {"name": "DefaultEvictor", "args": {}},
        {"name": "LowNodeUtilization", "args": low},
    ]
    balance = ["LowNodeUtilization"]
    if options.topology_spread:
        spread: dict[str, Any] = {"constraints": ["DoNotSchedule", "ScheduleAnyway"]}
        if options.namespaces:
            spread["namespaces"] = {"include": list(options.namespaces)}
        configs.append({"name": "RemovePodsViolatingTopologySpreadConstraint", "args": spread})
        balance.append("RemovePodsViolatingTopologySpreadConstraint")
    out: dict[str, Any] = {
        "apiVersion": "descheduler/v1alpha2",
        "kind": "DeschedulerPolicy",
        "profiles": [{"name": "augur-bench", "pluginConfig": configs, "plugins": {"balance": {"enabled": balance}}}],
    }
    if options.node_selector:
        out["nodeSelector"] = options.node_selector
    if source is not None:
        namespace, name = source.token_secret
        token = {"secretReference": {"namespace": namespace, "name": name}}
        out["metricsProviders"] = [{"source": "Prometheus", "prometheus": {"url": source.url, "authToken": token}}]
    return out


@dataclass(frozen=True)
class Eviction:
    pod: str
    """``namespace/name``."""
    node: str
    strategy: str


def evictions_in_log(text: str) -> list[Eviction]:
    return [Eviction(m["pod"], m["node"], m["strategy"]) for m in EVICTED.finditer(text)]


class Descheduler:
    """One descheduler process; ``interval`` None runs a single pass and exits."""

    def __init__(
        self, tools: Tools, kubeconfig: Path, work_dir: Path, options: PolicyOptions, interval: float | None = None
    ) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.policy_path = work_dir / "descheduler-policy.yaml"
        self.policy_path.write_text(yaml.safe_dump(policy(options), sort_keys=False))
        argv = [
            tools.descheduler,
            f"--kubeconfig={kubeconfig}",
            f"--policy-config-file={self.policy_path}",
            "--secure-port=0",
            "--disable-metrics",
            "--v=3",
        ]
        if interval is not None:
            argv.append(f"--descheduling-interval={interval:g}s")
        self.log_path = work_dir / "descheduler.log"
        self.proc = ManagedProcess("descheduler", argv, self.log_path)

    def running(self) -> bool:
        return self.proc.running()

    def wait(self, timeout: float) -> int | None:
        """Wait for a once-mode run to exit; its exit status (None: still running)."""
        deadline = time.monotonic() + timeout
        while self.proc.running() and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.proc.returncode

    def stop(self) -> None:
        self.proc.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def evictions(self) -> list[Eviction]:
        return evictions_in_log(self.log())


class DeschedulerRebalancer:
    """The descheduler as a :class:`augur.devcluster.rebalance_run.Rebalancer`: started in
    ``--descheduling-interval`` mode, stopped after the run; reports the evictions its log names. With a
    Prometheus source, ``ca`` (any PEM certificate: a plain-HTTP Prometheus does not use it) is copied to
    where the binary reads its CA file and the token Secret is created if missing."""

    name = "descheduler"

    def __init__(
        self,
        tools: Tools,
        kubeconfig: Path,
        work_dir: Path,
        options: PolicyOptions,
        interval: float = 5.0,
        ca: Path | None = None,
    ) -> None:
        self.tools, self.kubeconfig, self.work_dir = tools, kubeconfig, work_dir
        self.options, self.interval, self.ca = options, interval, ca
        self.process: Descheduler | None = None

    def start(self) -> None:
        if self.options.prometheus is not None:
            self._prepare_prometheus(self.options.prometheus)
        self.process = Descheduler(self.tools, self.kubeconfig, self.work_dir, self.options, self.interval)

    def _prepare_prometheus(self, source: PrometheusSource) -> None:
        if self.ca is None:
            raise ValueError("a Prometheus source needs a CA certificate file for the descheduler to load")
        shutil.copyfile(self.ca, Path(self.tools.descheduler).parent / PROMETHEUS_CA)
        namespace, name = source.token_secret
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {"prometheusAuthToken": base64.b64encode(b"unused-by-a-plain-http-prometheus").decode()},
        }
        rest = Rest(self.kubeconfig)
        try:
            rest.request("POST", f"/api/v1/namespaces/{namespace}/secrets", secret)
        except ApiError as exc:
            if exc.status != 409:
                raise
        finally:
            rest.close()

    def stop(self) -> dict[str, Any]:
        if self.process is None:
            return {}
        crashed = self.process.proc.returncode
        self.process.stop()
        found = self.process.evictions()
        strategies: dict[str, int] = {}
        for e in found:
            strategies[e.strategy] = strategies.get(e.strategy, 0) + 1
        return {
            "evictions_in_log": len(found),
            "by_strategy": strategies,
            "exited_early": crashed,
            "interval_seconds": self.interval,
            "policy": policy(self.options),
            "log": str(self.process.log_path),
        }
