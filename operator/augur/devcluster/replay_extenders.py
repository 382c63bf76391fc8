"""The extender of a replay's ``augur`` pass: one ``augur extender run``, or several replicas as the chart runs
them (each with its own cache and planner, one gate keeper elected through a Lease, ``--gate-lease``) behind a
per-connection balancer (:class:`~augur.devcluster.balancer.TcpBalancer`, as a Service through kube-proxy).

With replicas, kube-apiserver (the plan gate's webhook) calls through a balancer over every replica, as the
chart's ``<release>-extender`` Service. kube-scheduler calls either the replica holding the gate keeper's Lease
(``to_gate_keeper``, as the chart's ``<release>-extender-gate-keeper`` Service, which selects the label that
replica puts on its pod), or every replica through a balancer whose first connection goes to one that does
**not** hold the Lease: kube-scheduler keeps its connection open, so its calls are then scored by another
replica's plan than the one pods are let through by (a kube-scheduler configured with every replica's Service)."""

from __future__ import annotations

import functools
import os
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from augur.devcluster.balancer import TcpBalancer
from augur.devcluster.extender_metrics import PassReport, gauges_at_least, merge_reports, pass_report
from augur.devcluster.ports import free_port
from augur.devcluster.procs import ManagedProcess, wait_until

GATE_LEASE = "augur-replay-gate-keeper"
"""Name of the gate keeper's Lease, in the pass's namespace (deleted with it)."""


def _leads(url: str, verify: ssl.SSLContext | bool) -> bool:
    """Whether the replica at ``url`` lets pods through the plan gate (``False`` when it does not answer)."""
    try:
        return gauges_at_least(url, {"augur_extender_plan_gate_leader": 1.0}, verify)
    except httpx.HTTPError:
        return False


class ExtenderReplicas:
    """Start with :meth:`start`; :attr:`url` is where kube-scheduler (and the webhook) call."""

    def __init__(self, argv: Sequence[str], log_dir: Path, run: str, verify: ssl.SSLContext | bool, tls: bool) -> None:
        """``argv``: ``augur extender run`` and its flags, without ``--port``."""
        self.argv, self.log_dir, self.run, self.verify = list(argv), log_dir, run, verify
        self.scheme = "https" if tls else "http"
        self.procs: list[ManagedProcess] = []
        self.urls: list[str] = []
        self.balancers: list[TcpBalancer] = []
        self.url = ""
        """Where kube-scheduler calls."""
        self.webhook_url = ""
        """Where kube-apiserver calls the admission webhook."""
        self.scheduler_backends: list[int] = []
        """Replicas (indices) kube-scheduler's balancer hands connections to."""

    def start(
        self, replicas: int, lease_namespace: str, cache: Mapping[str, float], to_gate_keeper: bool = True
    ) -> None:
        """Start ``replicas`` processes and wait until each is ready and its cache holds ``cache``; with more
        than one, until one of them leads, then put the balancers in front."""
        ports = [free_port() for _ in range(replicas)]
        lease = ["--gate-lease", f"{lease_namespace}/{GATE_LEASE}"] if replicas > 1 else []
        for i, port in enumerate(ports):
            suffix = "" if replicas == 1 else f"-{i}"
            proc = ManagedProcess(
                "augur-extender",
                [sys.executable, "-m", "augur", "extender", "run", "--port", str(port), *self.argv, *lease],
                self.log_dir / f"extender-{self.run}{suffix}.log",
                env=None if replicas == 1 else {**os.environ, "POD_NAME": f"replay-extender-{i}"},
            )
            url = f"{self.scheme}://127.0.0.1:{port}"
            self.procs.append(proc)
            self.urls.append(url)
            wait_until(functools.partial(self._ready, url), 120, "extender", proc)
            wait_until(functools.partial(gauges_at_least, url, cache, self.verify), 60, "extender cache", proc)
        if replicas == 1:
            self.url = self.webhook_url = self.urls[0]
            return
        wait_until(lambda: sum(self.leaders()) == 1, 60, "one extender replica leading the gate", self.procs[0])
        leaders = self.leaders()
        every = [("127.0.0.1", p) for p in ports]
        keeper = [every[leaders.index(True)]]
        self.balancers = [
            TcpBalancer(keeper) if to_gate_keeper else TcpBalancer(every, first=leaders.index(False)),
            TcpBalancer(every, first=leaders.index(False)),
        ]
        self.url, self.webhook_url = (f"{self.scheme}://127.0.0.1:{b.start()}" for b in self.balancers)
        self.scheduler_backends = [every.index(b) for b in self.balancers[0].backends]

    def _ready(self, url: str) -> bool:
        return httpx.get(f"{url}/readyz", timeout=2, verify=self.verify).status_code == 200

    def leaders(self) -> list[bool]:
        return [_leads(url, self.verify) for url in self.urls]

    def report(self) -> tuple[PassReport, list[dict[str, Any]]]:
        """All replicas' metrics summed, and per replica: whether it led the gate, the connections kube-scheduler
        opened to it (through its balancer), its prioritize calls by plan, its plans and its gate lifts."""
        reports = [pass_report(url, self.verify) for url in self.urls]
        if len(reports) == 1:
            return reports[0], []
        given = [0] * len(reports)
        for backend, n in zip(self.scheduler_backends, self.balancers[0].connections, strict=True):
            given[backend] += n
        per = [
            {"leader": lead, "schedulerConnections": n, "planUse": r.plan_use, "gate": r.gate, "plans": r.plans}
            for lead, n, r in zip(self.leaders(), given, reports, strict=True)
        ]
        return merge_reports(reports), per

    def stop(self) -> None:
        for balancer in self.balancers:
            balancer.stop()
        for proc in self.procs:
            proc.stop()
        self.procs, self.urls, self.balancers = [], [], []
