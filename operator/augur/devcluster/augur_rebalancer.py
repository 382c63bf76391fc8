"""Augur's rebalancer as a :class:`augur.devcluster.rebalance_run.Rebalancer` for the rebalancing benchmark.

:func:`start_operator` runs ``augur operator run`` (kopf: the ``RebalancePolicy`` timer and the Migration
executor) against the cluster once; :class:`AugurRebalancer` then, per run, creates the ``RebalancePolicy``
``default`` in mode ``Auto`` scoped to the run (``nodeSelector`` on the run's nodes, ``namespaces`` its
namespace, load from requests unless the overrides say otherwise) with the given spec overrides, and on
stop deletes it and reports the run's ``Migration``s by phase and reason.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx

from augur.api import GROUP, VERSION
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until
from augur.devcluster.rebalance_run import ScenarioRun
from augur.devcluster.rebalance_scenarios import RUN_LABEL
from augur.devcluster.replay_kube import ApiError

POLICIES = f"/apis/{GROUP}/{VERSION}/rebalancepolicies"
STATUS_KEYS = ("nodeLoadSpread", "nodeLoadStddev", "networkCost", "loadSource", "readingsAboveThreshold", "notes")


def start_operator(cluster: LocalCluster, prometheus: bool = False) -> ManagedProcess:
    """The operator as a child of this process (admin credentials; the cluster's Prometheus if
    ``prometheus``, else none)."""
    port, metrics_port = free_ports(2)
    health = f"http://127.0.0.1:{port}/healthz"
    env = {"KUBECONFIG": str(cluster.kubeconfig), "AUGUR_METRICS": f"127.0.0.1:{metrics_port}"}
    if prometheus:
        env["AUGUR_PROMETHEUS_URL"] = cluster.prometheus_url
    proc = cluster.spawn(
        "augur-operator", [sys.executable, "-m", "augur", "operator", "run", f"--liveness={health}"], env=env
    )
    wait_until(lambda: httpx.get(health, timeout=2).status_code == 200, 120, "operator liveness", proc)
    return proc


class AugurRebalancer:
    name = "augur"

    def __init__(self, run: ScenarioRun, overrides: Mapping[str, Any] | None = None) -> None:
        self.run = run
        self.overrides = dict(overrides or {})

    def policy(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "mode": "Auto",
            "nodeSelector": {RUN_LABEL: self.run.names.run},
            "namespaces": [self.run.names.namespace],
            "load": {"source": "Requests"},
            **self.overrides,
        }
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "RebalancePolicy",
            "metadata": {"name": "default"},
            "spec": spec,
        }

    def start(self) -> None:
        self.run.rest.request("POST", POLICIES, self.policy())

    def stop(self) -> dict[str, Any]:
        status: dict[str, Any] = {}
        with contextlib.suppress(ApiError):
            status = self.run.rest.request("GET", f"{POLICIES}/default").get("status") or {}
        self.run.rest.missing_ok("DELETE", f"{POLICIES}/default")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self._exists():
            time.sleep(0.5)
        ns = self.run.names.namespace
        items = self.run.rest.request("GET", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/migrations").get("items") or []
        by_phase: dict[str, int] = {}
        by_reason: dict[str, int] = {}
        outcomes: dict[str, int] = {}
        for m in items:
            st = m.get("status") or {}
            phase = str(st.get("phase") or "Pending")
            by_phase[phase] = by_phase.get(phase, 0) + 1
            reason = str((m.get("spec") or {}).get("reason") or "")
            by_reason[reason] = by_reason.get(reason, 0) + 1
            if st.get("reason"):
                outcomes[str(st["reason"])] = outcomes.get(str(st["reason"]), 0) + 1
        return {
            "migrations": len(items),
            "by_phase": by_phase,
            "by_reason": by_reason,
            "outcomes": outcomes,
            "moves": [_move(m) for m in sorted(items, key=lambda m: m["metadata"].get("creationTimestamp") or "")],
            "policy": self.policy()["spec"],
            "last_status": {k: status.get(k) for k in STATUS_KEYS},
            "conditions": {
                str(c.get("type")): f"{c.get('status')} {c.get('reason')}: {c.get('message')}"
                for c in status.get("conditions") or []
            },
        }

    def _exists(self) -> bool:
        try:
            self.run.rest.request("GET", f"{POLICIES}/default")
        except ApiError as exc:
            return exc.status != 404
        return True


def _move(m: Mapping[str, Any]) -> dict[str, Any]:
    """One Migration as the report lists it: the pod, where it was asked to go and where it went."""
    spec, st = m.get("spec") or {}, m.get("status") or {}
    return {
        "name": m["metadata"].get("name"),
        "created": m["metadata"].get("creationTimestamp"),
        "pod": spec.get("podName"),
        "target": spec.get("targetNode"),
        "source": st.get("sourceNode"),
        "destination": st.get("destinationNode"),
        "phase": st.get("phase"),
        "outcome": st.get("reason"),
        "predicted_gain": st.get("predictedGain") or spec.get("expectedGain"),
    }
