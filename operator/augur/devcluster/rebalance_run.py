"""A rebalancing scenario on a real cluster: set up the skewed placement, let a rebalancer work while a
watcher records everything, measure before and after, clean up.

:class:`ScenarioRun` creates the run's kwok nodes (cordoned), namespace, ``WorkloadProfile``s and
``NetworkTopology`` (when Augur's CRDs are wanted), then each phase's Deployments and budgets while only
that phase's nodes are schedulable, waits until every pod is Ready and every budget is satisfied, and
uncordons every node. :func:`measure` starts a :class:`Rebalancer` (the descheduler, or Augur's operator),
waits until no pod event happened for ``quiet`` seconds (or ``max_seconds`` passed), stops it, and
returns the figures of :func:`augur.sim.rebalance_metrics.run_figures`.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from augur.devcluster.nodes import ready_for_pods, uncordoned
from augur.devcluster.rebalance_scenarios import (
    RUN_LABEL,
    RebalanceScenario,
    RunNames,
    augur_manifests,
    deployment_manifest,
    node_manifests,
    pdb_manifest,
)
from augur.devcluster.rebalance_watch import RunWatcher
from augur.devcluster.replay_kube import MERGE_PATCH, ApiError, KubeSession
from augur.sim.rebalance_metrics import run_figures

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Rebalancer(Protocol):
    """Something that moves pods while it runs."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> dict[str, Any]:
        """Stop and return what it reports about itself (e.g. evictions in its log)."""
        ...


PHASE_SETTLE_SECONDS = 0.5
"""Pause once a phase's nodes are uncordoned (their ``node.kubernetes.io/unschedulable`` taint gone from
the API) before its Deployments are created: kube-scheduler sees the change only through its informer."""


def _poll(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (ApiError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


class ScenarioRun:
    """One scenario on one cluster (``with`` block: set up, then torn down)."""

    def __init__(
        self, rs: RebalanceScenario, kubeconfig: Path, *, augur_objects: bool = True, progress: Progress = _stderr
    ) -> None:
        self.rs, self.sc = rs, rs.scenario
        self.names = RunNames(uuid.uuid4().hex[:6])
        self.kube = KubeSession(kubeconfig)
        self.rest = self.kube.rest
        self.augur_objects = augur_objects
        self.progress = progress
        self.crds: list[str] = []
        self._nodes: list[str] = []
        self._topology = ""

    def __enter__(self) -> ScenarioRun:
        try:
            self.setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.teardown()

    # -- setup -----------------------------------------------------------------------------------------------
    def setup(self, timeout: float = 240) -> None:
        ns = self.names.namespace
        started = time.monotonic()
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {RUN_LABEL: self.names.run}},
        }
        self.rest.request("POST", "/api/v1/namespaces", body)
        for manifest in node_manifests(self.rs, self.names):
            self.rest.request("POST", "/api/v1/nodes", manifest)
            self._nodes.append(str(manifest["metadata"]["name"]))
        _poll(
            lambda: set(self._nodes) <= self._node_names(ready_for_pods),
            timeout,
            f"{len(self._nodes)} kwok nodes Ready (not-ready taints lifted)",
        )
        if self.augur_objects:
            self.crds = self.kube.ensure_crds()
            for obj in augur_manifests(self.rs, self.names):
                plural = "networktopologies" if obj["kind"] == "NetworkTopology" else "workloadprofiles"
                if plural == "networktopologies":
                    self.rest.request("POST", f"/apis/augur.dev/v1alpha1/{plural}", obj)
                    self._topology = str(obj["metadata"]["name"])
                else:
                    self.rest.request("POST", f"/apis/augur.dev/v1alpha1/namespaces/{ns}/{plural}", obj)
        by_name = {w.name: w for w in self.sc.workloads}
        for phase in self.rs.phases:
            self.cordon([n for n in self.sc.table.names_tuple if n not in phase.nodes])
            self.cordon(list(phase.nodes), False)
            self._wait_uncordoned(phase.nodes, timeout)
            before = sum(1 for _ in self.placement())
            for name in phase.workloads:
                wl = by_name[name]
                self.rest.request(
                    "POST", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", pdb_manifest(wl, self.names)
                )
                self.rest.request(
                    "POST",
                    f"/apis/apps/v1/namespaces/{ns}/deployments",
                    deployment_manifest(wl, self.names, self.rs.spread),
                )
            expected = sum(by_name[n].replicas for n in phase.workloads)
            self._wait_ready(expected + before, timeout)
        self.cordon(list(self.sc.table.names_tuple), False)
        _poll(self._budgets_settled, timeout, "every PodDisruptionBudget to count its healthy pods")
        self.progress(
            f"[{self.rs.name}] set up in {time.monotonic() - started:.0f} s: {sum(1 for _ in self.placement())} pods"
        )

    def _wait_uncordoned(self, scenario_nodes: tuple[str, ...], timeout: float) -> None:
        """Until every node of a phase is uncordoned as kube-scheduler judges it (:func:`uncordoned`): the
        node lifecycle controller lifts the cordon's taint a moment after the cordon, and pods created in
        between went to the one node already free of it (seen: 4.0, 4.0 and 1.25 cores on a phase's three
        4-core nodes, two of them full, where the scenario's load is even)."""
        wanted = {self.names.node(n) for n in scenario_nodes}

        _poll(lambda: wanted <= self._node_names(uncordoned), timeout, f"{len(wanted)} nodes of a phase uncordoned")
        time.sleep(PHASE_SETTLE_SECONDS)

    def _wait_ready(self, count: int, timeout: float) -> None:
        _poll(lambda: self._ready_pods() >= count, timeout, f"{count} pods of {self.rs.name} Ready")

    def cordon(self, scenario_nodes: list[str], unschedulable: bool = True) -> None:
        for n in scenario_nodes:
            body = {"spec": {"unschedulable": unschedulable or None}}
            self.rest.request("PATCH", f"/api/v1/nodes/{self.names.node(n)}", body, ctype=MERGE_PATCH)

    def _node_names(self, condition: Callable[[dict[str, Any]], bool]) -> set[str]:
        """Names of the run's nodes that meet ``condition`` now."""
        items = self.rest.request("GET", "/api/v1/nodes", query={"labelSelector": f"{RUN_LABEL}={self.names.run}"})
        return {str(item["metadata"]["name"]) for item in items.get("items") or [] if condition(item)}

    def live_pods(self) -> list[dict[str, Any]]:
        """The run's pods not being deleted (bound or not)."""
        items = self.rest.request("GET", f"/api/v1/namespaces/{self.names.namespace}/pods").get("items") or []
        return [p for p in items if not (p.get("metadata") or {}).get("deletionTimestamp")]

    def _ready_pods(self) -> int:
        return sum(
            1
            for p in self.live_pods()
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        )

    def _budgets_settled(self) -> bool:
        path = f"/apis/policy/v1/namespaces/{self.names.namespace}/poddisruptionbudgets"
        items = self.rest.request("GET", path).get("items") or []
        by_name = {w.name: w.replicas for w in self.sc.workloads}
        return len(items) == len(by_name) and all(
            (i.get("status") or {}).get("currentHealthy") == by_name[i["metadata"]["name"]] for i in items
        )

    # -- reading ---------------------------------------------------------------------------------------------
    def placement(self) -> list[tuple[str, str]]:
        """``(workload, scenario node)`` of every live bound pod."""
        out = []
        for p in self.live_pods():
            node = self.names.scenario_node(str((p.get("spec") or {}).get("nodeName") or ""))
            if node:
                out.append((str(p["metadata"]["labels"].get("app") or ""), node))
        return sorted(out)

    def all_ready(self) -> bool:
        return self._ready_pods() == sum(w.replicas for w in self.sc.workloads) == len(self.live_pods())

    def watcher(self) -> RunWatcher:
        return RunWatcher(self.rest, self.names.namespace, self.names.scenario_node)

    # -- teardown --------------------------------------------------------------------------------------------
    def teardown(self) -> None:
        ns = self.names.namespace
        try:
            self.kube.delete_namespace(ns, wait=True, timeout=120)
        except (ApiError, OSError, TimeoutError, RuntimeError) as exc:
            self.progress(f"[{self.rs.name}] namespace {ns} not deleted: {exc}")
        self.kube.delete_nodes(self._nodes)
        if self._topology:
            self.kube.delete_cluster_object("networktopologies", self._topology)
        self.kube.close()


@dataclass(frozen=True)
class MeasureOptions:
    quiet: float = 30.0
    """Seconds without any pod event after which the run counts as converged."""
    min_seconds: float = 20.0
    """Run at least this long (a rebalancer may need a few intervals before its first move)."""
    max_seconds: float = 300.0


def measure(run: ScenarioRun, rebalancer: Rebalancer, options: MeasureOptions | None = None) -> dict[str, Any]:
    """Before/after figures of one rebalancer on a set-up run, with the watcher running throughout."""
    opts = options or MeasureOptions()
    before = run.placement()
    with run.watcher() as watcher:
        time.sleep(2.0)  # the watches have listed and are streaming
        start = time.monotonic()
        rebalancer.start()
        try:
            while True:
                time.sleep(1.0)
                now = time.monotonic()
                last = max(watcher.last_event(), start)
                if now - start >= opts.max_seconds:
                    break
                if now - start >= opts.min_seconds and now - last >= opts.quiet:
                    break
        finally:
            own = rebalancer.stop()
        elapsed = time.monotonic() - start
        _poll(run.all_ready, 120, "every pod Ready after the run")
        time.sleep(2.0)
        events, samples = watcher.pod_events(start), watcher.health_samples(start)
        watch_errors = list(watcher.errors)
    figures = run_figures(run.rs.measured, before, run.placement(), events, samples)
    figures.update(
        rebalancer=rebalancer.name,
        observed_seconds=round(elapsed, 1),
        converged=elapsed < opts.max_seconds,
        rebalancer_report=own,
        watch_errors=watch_errors[:5],
    )
    return figures
