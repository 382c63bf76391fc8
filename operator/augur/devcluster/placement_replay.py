"""``augur placement replay``: a placement scenario on a real kube-scheduler.

The scenario's nodes become kwok nodes, its distances a ``NetworkTopology``, each workload a
``WorkloadProfile`` and a ``Deployment``. The Deployments are scaled up one pod at a time in the
scenario's order (the order ``augur placement simulate`` places them in), each pod waiting until
kube-scheduler has bound it (or marked it unschedulable); with the planner on, each ``augur`` pod waits
behind a scheduling gate until the extender's plan has a slot for it (``--no-wait-for-plan``: not). With
``burst``, every Deployment is scaled to its replicas at once instead, without the gate. The replay runs
its own kube-scheduler (``schedulerName: augur-replay``; kube-scheduler's default plugins) with the shipped
extender entry (:data:`SHIPPED_EXTENDER`, the one of ``examples/scheduler/kube-scheduler-config.yaml``) for the
``augur`` pass and without any extender for the ``default`` pass, one pass after the other on the same
nodes, each in its own namespace that is deleted (and waited for) before the next pass.

Assignments are read from the pods' ``spec.nodeName``; costs and the ``best`` row come from the same
pure functions as the simulator (:mod:`augur.sim.placement`).
"""

from __future__ import annotations

import contextlib
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import yaml

from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.pki import create_pki
from augur.devcluster.ports import free_port
from augur.devcluster.procs import ManagedProcess, wait_until
from augur.devcluster.replay_extenders import ExtenderReplicas
from augur.devcluster.replay_kube import KubeSession, PodWatch, ReplayError
from augur.devcluster.replay_manifests import (
    ReplayNames,
    check_cluster_scenario,
    deployment_manifest,
    node_manifests,
    profile_manifest,
    profile_status,
    scheduler_config,
    topology_manifest,
)
from augur.devcluster.replay_options import HARD_RULES_EXTENDER, SHIPPED_EXTENDER, VARIANTS, ReplayOptions
from augur.devcluster.replay_webhook import chart_webhook, probe_pod, wait_until_gating
from augur.devcluster.tools import Tools, ensure_tools
from augur.sim.placement import Outcome, Scenario, find_best, node_distances

__all__ = [
    "HARD_RULES_EXTENDER",
    "SHIPPED_EXTENDER",
    "VARIANTS",
    "ReplayOptions",
    "ReplaySession",
    "replay",
    "replay_cluster",
    "replay_report",
]

Progress = Callable[[str], None]
OnPod = Callable[[int, "ReplaySession"], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ReplaySession:
    """One replay on one cluster: set up, run passes, clean up (``with`` block)."""

    def __init__(
        self,
        sc: Scenario,
        kubeconfig: Path,
        work_dir: Path,
        tools: Tools,
        options: ReplayOptions | None = None,
        progress: Progress = _stderr,
    ) -> None:
        check_cluster_scenario(sc)
        self.sc, self.kubeconfig, self.dir, self.tools = sc, kubeconfig, work_dir, tools
        work_dir.mkdir(parents=True, exist_ok=True)
        self.options = options or ReplayOptions()
        self.progress = progress
        order = self.options.node_order or tuple(range(len(sc.nodes)))
        self.names = ReplayNames.build(sc, uuid.uuid4().hex[:6], order)
        self.kube = KubeSession(kubeconfig)
        self.extenders: ExtenderReplicas | None = None
        self.extender_url = ""
        self.verify: ssl.SSLContext | bool = True
        """How calls to the extender check its certificate (over HTTPS: the replay's own CA)."""
        self._ca: Path | None = None
        self.scheduler: ManagedProcess | None = None
        self.plan_use: dict[str, dict[str, int]] = {}
        """Per pass with the extender: its scored prioritize calls by the plan they saw
        (``augur_extender_prioritize_plans``: current, provisional, absent, stale), read when the pass ends."""
        self.unseen_binds: dict[str, dict[str, Any]] = {}
        """Per pass with the extender: how many binds its view had not seen at each prioritize call
        (:func:`~augur.devcluster.extender_metrics.unseen_binds`), read when the pass ends."""
        self.plans_made: dict[str, dict[str, int]] = {}
        """Per pass with the extender: its planner's plans by kind (``augur_extender_plans``), read when the
        pass ends."""
        self.gate: dict[str, dict[str, float]] = {}
        """Per pass with the extender: pods let through the plan gate by reason and their mean wait
        (:attr:`~augur.devcluster.extender_metrics.PassReport.gate`), read when the pass ends."""
        self.replicas: dict[str, list[dict[str, Any]]] = {}
        """Per pass with several extender replicas: each one's part (:meth:`ExtenderReplicas.report`)."""
        self._installed_crds: list[str] = []
        self._created_nodes: list[str] = []
        self._topology = False

    # -- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> ReplaySession:
        try:
            self.setup()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def setup(self) -> None:
        self._installed_crds = self.kube.ensure_crds()
        self.kube.create_cluster_object("networktopologies", topology_manifest(self.sc, self.names))
        self._topology = True
        nodes = node_manifests(self.sc, self.names)
        self._created_nodes = [str(n["metadata"]["name"]) for n in nodes]
        self.kube.create_nodes(nodes)
        self.progress(f"replay {self.names.run}: {len(nodes)} kwok nodes Ready")

    def cleanup(self) -> None:
        """Stop the processes, delete what the replay created (namespaces first, then nodes)."""
        self._stop_processes()
        for variant in VARIANTS:
            self.kube.delete_namespace(self.names.namespace(variant), wait=False)
        for variant in VARIANTS:
            with contextlib.suppress(ReplayError):
                self.kube.wait_namespace_gone(self.names.namespace(variant), 120)
        self.kube.delete_nodes(self._created_nodes)
        if self._topology:
            self.kube.delete_cluster_object("networktopologies", self.names.topology)
        with contextlib.suppress(ReplayError):  # the next session waits for a CRD still being deleted
            self.kube.delete_crds(self._installed_crds)
        self.kube.close()

    def _stop_processes(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.extenders is not None:
            self.extenders.stop()
        self.scheduler, self.extenders = None, None

    # -- one pass -------------------------------------------------------------------------------------------
    def run_pass(self, variant: str, on_pod: OnPod | None = None) -> Outcome:
        """Place every pod of the scenario with (``augur``) or without (``default``) the extender."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
        ns = self.names.namespace(variant)
        started = time.monotonic()
        self.kube.create_namespace(ns, self.names.run)
        gated = variant == "augur" and self._gated()
        webhook = variant == "augur" and self.options.gate_webhook
        in_template = variant == "augur" and self.options.plan_gate and not webhook
        templates = []
        for wl in self.sc.workloads:
            deployment = deployment_manifest(wl, ns, self.names, gated, in_template)
            templates.append(deployment["spec"]["template"])
            sized = deployment if self.options.pod_requests_in_status else None
            self.kube.create_profile(profile_manifest(wl, ns, self.names, self.sc), profile_status(wl, sized))
            self.kube.create_deployment(deployment)
        extenders: list[dict[str, Any]] = []
        webhook_name = f"augur-replay-plan-gate-{self.names.run}"
        if variant == "augur":
            self._start_extender(ns, tls=webhook)
            extenders = [{**(self.options.extender or SHIPPED_EXTENDER), "urlPrefix": self.extender_url}]
            if webhook:
                extenders[0] |= {"enableHTTPS": True, "tlsConfig": {"caFile": str(self._ca)}}
                self._register_webhook(webhook_name, ns, templates[0])
        self._start_scheduler(variant, extenders)
        try:
            with PodWatch(self.kube, ns) as watch:
                outcome = self._place_all(ns, watch, lambda i: on_pod(i, self) if on_pod else None)
            if self.extenders is not None:
                report, self.replicas[variant] = self.extenders.report()
                self.plan_use[variant], self.unseen_binds[variant] = report.plan_use, report.unseen_binds
                self.plans_made[variant], self.gate[variant] = report.plans, report.gate
        finally:
            if webhook:
                self.kube.delete_webhook(webhook_name)
            self._stop_processes()
            self.kube.delete_namespace(ns, wait=False)
            self.kube.wait_namespace_gone(ns, 180)
        self.progress(
            f"replay {self.names.run}: {variant} placed {len(outcome.assignment)} pods, "
            f"{outcome.unplaced} unplaced, in {time.monotonic() - started:.1f} s"
        )
        return outcome

    def _place_all(self, ns: str, watch: PodWatch, after: Callable[[int], None]) -> Outcome:
        mapping = self._burst(ns, watch, after) if self.options.burst else self._one_by_one(ns, watch, after)
        scenario_node = {name: self.sc.nodes[i].name for i, name in enumerate(self.names.nodes)}
        final = watch.nodes()
        assignment = {pod: scenario_node[final[uid]] for uid, pod in mapping.items() if final.get(uid) in scenario_node}
        return Outcome(assignment, sum(wl.replicas for wl in self.sc.workloads) - len(assignment))

    def _burst(self, ns: str, watch: PodWatch, after: Callable[[int], None]) -> dict[str, str]:
        """Scale every Deployment to its replicas at once; name each workload's pods in creation order."""
        for wl in self.sc.workloads:
            if wl.replicas > 0:
                self.kube.scale(ns, wl.name, wl.replicas)
        mapping: dict[str, str] = {}
        for w, pod in self.sc.pods():
            mapping[self._new_pod(ns, watch, self.sc.workloads[w].name, set(mapping))] = pod
        for index, (uid, pod) in enumerate(mapping.items()):
            if not watch.wait_settled(uid, self.options.bind_timeout):
                self.progress(f"pod {pod} neither bound nor unschedulable after {self.options.bind_timeout:.0f} s")
            after(index)
        return mapping

    def _one_by_one(self, ns: str, watch: PodWatch, after: Callable[[int], None]) -> dict[str, str]:
        """Scale the Deployments up one pod at a time in the scenario's order, each pod settled before the
        next (behind the gate until the plan has a slot for it, when :meth:`_gated`)."""
        mapping: dict[str, str] = {}
        counts = [0] * len(self.sc.workloads)
        gated = self._gated() and self.extenders is not None
        held: dict[int, str] = {}
        if gated:
            # One pod of every workload first, held at the gate: the extender learns every workload's pod
            # size before anything is scheduled, as in a cluster where the workloads already run.
            for w, wl in enumerate(self.sc.workloads):
                if wl.replicas > 0:
                    counts[w] = 1
                    self.kube.scale(ns, wl.name, 1)
                    held[w] = self._new_pod(ns, watch, wl.name, set(held.values()))
        for index, (w, pod) in enumerate(self.sc.pods()):
            wl = self.sc.workloads[w]
            if w in held:
                uid = held.pop(w)
            else:
                counts[w] += 1
                self.kube.scale(ns, wl.name, counts[w])
                uid = self._new_pod(ns, watch, wl.name, set(mapping) | set(held.values()))
            mapping[uid] = pod
            if gated:
                name = watch.name(uid)
                if not self._wait_for_plan(ns, name):
                    self.progress(f"no plan slot for {ns}/{name} after {self.options.plan_timeout:.0f} s")
                self.kube.ungate(ns, name)
            if not watch.wait_settled(uid, self.options.bind_timeout):
                self.progress(f"pod {pod} neither bound nor unschedulable after {self.options.bind_timeout:.0f} s")
            after(index)
        return mapping

    @staticmethod
    def _new_pod(ns: str, watch: PodWatch, app: str, known: set[str]) -> str:
        uid = watch.wait_new_pod(app, known, 60)
        if uid is None:
            raise ReplayError(f"no pod of {ns}/{app} was created within 60 s (is the controller-manager up?)")
        return uid

    def _planning(self) -> bool:
        return self.sc.scoring.plan.weight > 0 and "--no-planner" not in self.options.extender_args

    def _gated(self) -> bool:
        """The ``augur`` pass's pods wait at the gate for the plan (never in a burst)."""
        return self._planning() and self.options.wait_for_plan and not self.options.burst

    def _wait_for_plan(self, ns: str, pod: str) -> bool:
        """Until the extender's current final plan (not a provisional one: the simulator's prediction uses
        the final plan) has a free slot for the pod's workload (its explanation)."""
        url = f"{self.extender_url}/debug/pods/{ns}/{pod}"
        deadline = time.monotonic() + self.options.plan_timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = httpx.get(url, timeout=max(0.1, left), verify=self.verify)
            except httpx.HTTPError:  # a frozen or dead extender: the pod goes on without a plan
                return False
            if reply.status_code == 200:
                body = reply.json()
                plan = body.get("plan") or {}
                if (
                    plan.get("state") == "current"
                    and not plan.get("provisional")
                    and any((n.get("planSlots") or 0) > 0 for n in body.get("nodes") or [])
                ):
                    return True
            time.sleep(0.05)
        return False

    # -- processes ------------------------------------------------------------------------------------------
    def _start_extender(self, namespace: str, tls: bool = False) -> None:
        """``augur extender run`` on free ports, :attr:`ReplayOptions.extender_replicas` of them (``tls``: over
        HTTPS, with a certificate of the replay's CA; ``namespace``: the pass's, where replicas keep their Lease)."""
        scoring = self.dir / f"scoring-{self.names.run}.yaml"
        scoring.write_text(yaml.safe_dump(asdict(self.sc.scoring)))
        argv = ["--kubeconfig", str(self.kubeconfig), "--topology", self.names.topology]
        argv += ["--scoring", str(scoring), "--log-level", "warning", *self.options.extender_args]
        self.verify, self._ca = True, None
        if tls:
            pki = create_pki(self.dir / "pki")  # its apiserver certificate is valid for 127.0.0.1
            argv += ["--tls-cert", str(pki.apiserver.cert), "--tls-key", str(pki.apiserver.key)]
            self.verify, self._ca = ssl.create_default_context(cafile=str(pki.ca.cert)), pki.ca.cert
        self.extenders = ExtenderReplicas(argv, self.dir / "logs", self.names.run, self.verify, tls)
        want = {"augur_extender_cache_nodes": len(self.sc.nodes), "augur_extender_cache_workloads": 1}
        self.extenders.start(self.options.extender_replicas, namespace, want, self.options.scheduler_to_gate_keeper)
        self.extender_url = self.extenders.url

    def _register_webhook(self, name: str, namespace: str, template: dict[str, Any]) -> None:
        """The chart's plan gate webhook for ``namespace``, calling this pass's extender; returns once a dry run
        of a pod from ``template`` comes back gated (kube-apiserver applies it, the extender answers)."""
        assert self._ca is not None  # the extender serves HTTPS
        assert self.extenders is not None
        body = chart_webhook(str(self.tools.helm), self.extenders.webhook_url, self._ca, name, namespace)
        self.kube.create_webhook(body)
        if not wait_until_gating(self.kube.dry_run_pod, probe_pod(namespace, template), 30):
            raise ReplayError(f"the plan gate webhook {name} did not gate a pod of {namespace} within 30 s")

    def _start_scheduler(self, variant: str, extenders: Sequence[dict[str, Any]]) -> None:
        config = self.dir / f"kube-scheduler-{self.names.run}-{variant}.yaml"
        config.write_text(yaml.safe_dump(scheduler_config(str(self.kubeconfig), extenders), sort_keys=False))
        port = free_port()
        argv = [
            self.tools.path("kube-scheduler"),
            f"--config={config}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            f"--cert-dir={self.dir / 'scheduler-certs'}",
        ]
        log = self.dir / "logs" / f"kube-scheduler-{self.names.run}-{variant}.log"
        proc = ManagedProcess("kube-scheduler", argv, log)
        self.scheduler = proc
        url = f"https://127.0.0.1:{port}/healthz"
        wait_until(lambda: httpx.get(url, verify=False, timeout=2).text == "ok", 60, "kube-scheduler", proc)


def replay_report(sc: Scenario, outcomes: Mapping[str, Outcome], search_rounds: int) -> dict[str, Any]:
    """The JSON of ``augur placement simulate`` for replayed outcomes, with the offline ``best``."""
    distances = node_distances(sc)
    best, exact = find_best(sc, list(outcomes.values()), distances, search_rounds)
    report = {name: outcome.report(sc, distances) for name, outcome in outcomes.items()}
    return {**report, "best": {**best.report(sc, distances), "exact": exact}}


@contextlib.contextmanager
def replay_cluster(kubeconfig: Path | None, work_dir: Path) -> Iterator[tuple[Path, Tools]]:
    """An existing cluster (``kubeconfig``) or a new local control plane without nodes or Prometheus,
    whose own kube-scheduler is stopped (the replay runs its own)."""
    if kubeconfig is not None:
        yield kubeconfig, ensure_tools(quiet=True)
        return
    with LocalCluster.create(work_dir / "cluster", ClusterConfig(nodes=(), prometheus=False)) as cluster:
        cluster.restart_scheduler(start=False)
        yield cluster.kubeconfig, cluster.tools


def replay(
    sc: Scenario,
    options: ReplayOptions | None = None,
    kubeconfig: Path | None = None,
    progress: Progress = _stderr,
) -> dict[str, Any]:
    """Run the scenario's passes on a cluster and report them like ``simulate`` does."""
    options = options or ReplayOptions()
    check_cluster_scenario(sc)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="augur-replay-") as tmp,
        replay_cluster(kubeconfig, Path(tmp)) as (config, tools),
    ):
        progress(f"control plane ready after {time.monotonic() - started:.1f} s")
        with ReplaySession(sc, config, Path(tmp), tools, options, progress) as session:
            outcomes = {variant: session.run_pass(variant) for variant in options.variants}
            arrival = "burst" if options.burst else ("gated" if session._gated() else "one by one")
            arrival += " behind the plan gate" if options.plan_gate or options.gate_webhook else ""
            arrival += " (admission webhook)" if options.gate_webhook else ""
            listed = [sc.nodes[i].name for i in sorted(range(len(sc.nodes)), key=lambda i: session.names.nodes[i])]
    report = replay_report(sc, outcomes, options.search_rounds)
    report["replay"] = {
        "nodeOrder": listed,
        "extender": dict(options.extender or SHIPPED_EXTENDER),
        "arrival": arrival,
        "planUse": session.plan_use.get("augur", {}),
        **({"extenderReplicas": session.replicas["augur"]} if session.replicas.get("augur") else {}),
        "seconds": round(time.monotonic() - started, 1),
    }
    return report
