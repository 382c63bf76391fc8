"""CPU use of a rebalancing run's pods as a real cluster's Prometheus would have it (the ``usage`` family of
``bench/rebalance_bench.py``).

kwok pods use no CPU, so :class:`UsageExporter` makes it up from the scenario: every second it lists the
run's pods and adds, for each live bound pod, its workload's cores used (``RebalanceScenario.usage``) times
the elapsed time to a counter, served in cAdvisor's form
(``container_cpu_usage_seconds_total{namespace, pod, container, node}``, the ``node`` label as
kube-prometheus-stack's kubelet scrape adds it). A replacement pod starts a new counter; a deleted pod's
series goes away, and Prometheus keeps it in a ``rate()`` window for the window's length, as it does for
real containers. Every node also runs an agent pod (``kube-system``, ``AGENT_CORES``), as nodes run
DaemonSets, so that idle nodes have a series too; ``kube_node_status_allocatable{node, resource="cpu"}``
(kube-state-metrics' form) gives each node's cores. The default queries of ``RebalancePolicy.spec.load``
read these series unchanged; :data:`DESCHEDULER_QUERY` is the descheduler's (fraction of a node used, by
``instance``).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

from augur.devcluster import prometheus
from augur.devcluster.exporter import LoopbackExporter
from augur.devcluster.procs import wait_until
from augur.devcluster.rebalance_run import MeasureOptions, Rebalancer, ScenarioRun, measure
from augur.devcluster.replay_kube import ApiError

if TYPE_CHECKING:
    from pathlib import Path

AGENT_CORES = 0.02
"""Cores used by each node's agent pod."""
USED = 'container_cpu_usage_seconds_total{container!=""}'
ALLOCATABLE = 'kube_node_status_allocatable{resource="cpu"}'
DESCHEDULER_QUERY = (
    f'sum by (instance) (label_replace(rate({USED}[2m]), "instance", "$1", "node", "(.+)"))'
    f' / sum by (instance) (label_replace({ALLOCATABLE}, "instance", "$1", "node", "(.+)"))'
)
"""Fraction of each node's CPU used, one series per node labelled ``instance`` (what the descheduler's
``LowNodeUtilization`` reads from Prometheus), over the same ``rate()`` window as Augur's default queries."""


Key = tuple[str, str, str]
"""``(namespace, pod, node)`` of a series."""


class UsageExporter:
    """Counters of CPU seconds for one :class:`ScenarioRun`, scraped by the cluster's Prometheus as
    ``job=<job>`` until :meth:`close`."""

    def __init__(self, run: ScenarioRun, prometheus_dir: Path, tick: float = 1.0) -> None:
        self.run, self.tick = run, tick
        self.by_name = {w.name: run.rs.usage.get(w.name, w.cpu) for w in run.sc.workloads}
        self.pods: dict[Key, float] = {}
        """What :meth:`_running` found last: ``(namespace, pod, node)`` → cores used."""
        self.nodes = [run.names.node(n.name) for n in run.sc.nodes]
        self.cores = {run.names.node(n.name): n.cpu for n in run.sc.nodes}
        self.counters: dict[Key, float] = {}
        """CPU seconds so far per series."""
        self.errors = 0
        self._exporter = LoopbackExporter(render(self.counters, self.cores))
        self._job = f"usage-{run.names.run}"
        self._target = prometheus.add_target(prometheus_dir, self._job, self._exporter.address)
        self._stop = threading.Event()
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=self._job, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._target.unlink(missing_ok=True)
        self._exporter.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                pods = self._running()
            except (ApiError, OSError):
                self.errors += 1
                continue
            now = time.monotonic()
            self.pods, self.counters = pods, advance(self.counters, pods, now - self._last)
            self._last = now
            self._exporter.text = render(self.counters, self.cores)

    def _running(self) -> dict[Key, float]:
        """Cores used now by every live bound pod of the run, and by every node's agent."""
        out = {("kube-system", f"usage-agent-{n}", n): AGENT_CORES for n in self.nodes}
        for p in self.run.live_pods():
            meta, spec = p.get("metadata") or {}, p.get("spec") or {}
            node = str(spec.get("nodeName") or "")
            if not node or (p.get("status") or {}).get("phase") != "Running":
                continue
            app = str((meta.get("labels") or {}).get("app") or "")
            out[(self.run.names.namespace, str(meta["name"]), node)] = self.by_name.get(app, 0.0)
        return out

    def shown(self, prometheus_url: str, tolerance: float = 0.02) -> bool:
        """Whether Prometheus (:data:`DESCHEDULER_QUERY`) shows every node's use as the exporter has it now,
        within ``tolerance`` of a node's CPU: the figures have caught up with the placement."""
        reply = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": DESCHEDULER_QUERY}, timeout=5)
        shown = {r["metric"].get("instance"): float(r["value"][1]) for r in reply.json()["data"]["result"]}
        used = dict.fromkeys(self.nodes, 0.0)
        for (_, _, node), cores in self.pods.items():
            used[node] = used.get(node, 0.0) + cores
        return bool(self.pods) and all(
            n in shown and abs(shown[n] - used[n] / self.cores[n]) <= tolerance for n in self.nodes
        )


def measure_on_use(
    run: ScenarioRun, rebalancer: Rebalancer, opts: MeasureOptions, prometheus_dir: Path, prometheus_url: str
) -> dict[str, Any]:
    """:func:`~augur.devcluster.rebalance_run.measure` of a run measured on use: its :class:`UsageExporter`
    scraped by the Prometheus configured in ``prometheus_dir`` from before the start (once Prometheus at
    ``prometheus_url`` shows every node's use) to the end; the row's ``exporter_errors`` counts the
    exporter's failed listings."""
    exporter = UsageExporter(run, prometheus_dir)
    try:
        wait_until(lambda: exporter.shown(prometheus_url), 300, "Prometheus showing every node's CPU use")
        row = measure(run, rebalancer, opts)
        row["exporter_errors"] = exporter.errors
        return row
    finally:
        exporter.close()


def advance(counters: dict[Key, float], pods: dict[Key, float], seconds: float) -> dict[Key, float]:
    """The counters after ``seconds`` more of ``pods``' use (cores); pods no longer listed lose their series,
    new ones start from zero."""
    return {key: counters.get(key, 0.0) + cores * seconds for key, cores in pods.items()}


def render(counters: dict[Key, float], cores: dict[str, float]) -> str:
    """Prometheus text of the counters (cAdvisor's ``container_cpu_usage_seconds_total``) and of each node's
    allocatable CPU (kube-state-metrics' ``kube_node_status_allocatable``)."""
    lines = ["# TYPE container_cpu_usage_seconds_total counter"]
    for (ns, pod, node), seconds in sorted(counters.items()):
        container = "agent" if ns == "kube-system" else "app"
        labels = f'namespace="{ns}",pod="{pod}",container="{container}",node="{node}"'
        lines.append(f"container_cpu_usage_seconds_total{{{labels}}} {seconds:.3f}")
    lines.append("# TYPE kube_node_status_allocatable gauge")
    lines += [f'kube_node_status_allocatable{{node="{n}",resource="cpu"}} {c:g}' for n, c in cores.items()]
    return "\n".join(lines) + "\n"
