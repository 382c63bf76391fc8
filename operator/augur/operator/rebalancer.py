"""The rebalancer in the operator: a kopf timer on ``RebalancePolicy`` objects.

Every ``REBALANCE_TICK_SECONDS`` the timer checks whether the policy's ``schedulingInterval`` has passed;
then one run reads the cluster (:mod:`augur.kube.cluster`: nodes, scheduled pods, ``WorkloadProfile``s
and the pods their selectors match, ``NetworkTopology``, ``Migration``s), node and pod CPU use from
Prometheus when the policy's load source allows (:mod:`augur.prom`), builds the snapshot
(:mod:`augur.operator.rebalance_input`), calls the pure :func:`augur.migration.rebalance.rebalance`, creates
one ``Migration`` per proposal (``approved: false`` in ``DryRun``), and writes the policy's status, Events
and metrics. Only one policy acts (``default``, else the first by name). The hysteresis counters live in
memory and in the status, so a restart continues counting; rate limits and the cool-down are read back
from the Migrations, so they survive restarts too. With leader election only the leader runs kopf, so
only the active replica creates Migrations.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf

from augur.api import GROUP, VERSION
from augur.api.conditions import now_rfc3339
from augur.api.durations import parse_duration
from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec
from augur.api.validation import SpecError, parse
from augur.kube.client import KubeError
from augur.kube.cluster import ClusterReader
from augur.kube.status import apply_status
from augur.migration.limits import Readings
from augur.migration.params import RebalanceParams
from augur.migration.rebalance import rebalance
from augur.migration.result import Proposal, RebalanceResult
from augur.operator import metrics
from augur.operator.rebalance_input import (
    CREATED_BY,
    OWNER_ANNOTATION,
    SOURCE_ANNOTATION,
    Loads,
    build_snapshot,
    profile,
    topology,
)
from augur.operator.rebalance_status import LoadOrigin, after_run, not_in_use, off
from augur.operator.reconcile import EventToPost
from augur.operator.settings import SETTINGS
from augur.prom.client import PromClient, PromError

REBALANCE_TICK_SECONDS = 1.0
"""How often the timer looks at a policy; a run happens when ``schedulingInterval`` has passed."""


@dataclass
class _Memory:
    readings: Readings | None = None
    last_run: float = -1e18
    created: int = 0


@dataclass
class Rebalancer:
    """One per operator process; kopf-free except for the timer below."""

    reader: ClusterReader
    api: Any
    prom: PromClient | None
    memory: dict[str, _Memory] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, body: dict[str, Any], mono: float) -> tuple[dict[str, Any] | None, list[EventToPost]]:
        """Status to apply (None: nothing to do this tick) and Events to post."""
        meta, old = body.get("metadata") or {}, dict(body.get("status") or {})
        uid, name, generation = str(meta.get("uid")), str(meta.get("name")), meta.get("generation")
        with self.lock:
            mem = self.memory.setdefault(uid, _Memory())
        try:
            spec = parse(RebalancePolicySpec, body.get("spec") or {})
        except SpecError as exc:
            if old.get("observedGeneration") == generation:
                return None, []
            return not_in_use(old, generation, now_rfc3339(), "InvalidSpec", str(exc))
        if mono - mem.last_run < parse_duration(spec.scheduling_interval):
            return None, []
        mem.last_run = mono
        active = self._active_policy()
        if active is not None and active != name:
            message = (
                f"RebalancePolicy {active} configures the rebalancer (the one named default, else the first by name)"
            )
            return not_in_use(old, generation, now_rfc3339(), "Superseded", message)
        if spec.mode == "Off":
            mem.readings = Readings()
            return off(old, generation, now_rfc3339())
        if mem.readings is None:
            mem.readings = Readings(
                int(old.get("readingsAboveThreshold") or 0), int(old.get("forecastReadingsAboveThreshold") or 0)
            )
        now = datetime.now(UTC)
        started = time.monotonic()
        result, origin = self._run(spec, mem.readings, now)
        mem.readings = result.readings
        created = self._create(spec, result.proposals)
        mem.created += len(created)
        metrics.rebalance_run(result, spec.mode, time.monotonic() - started)
        return after_run(old, spec, generation, now, result, origin, created, mem.created)

    def _active_policy(self) -> str | None:
        names = sorted(str(p["metadata"]["name"]) for p in self.reader.custom("rebalancepolicies"))
        return "default" if "default" in names else (names[0] if names else None)

    def _run(self, spec: RebalancePolicySpec, readings: Readings, now: datetime) -> tuple[RebalanceResult, LoadOrigin]:
        params = RebalanceParams.from_spec(spec)
        nodes, pods = self.reader.nodes(), self.reader.pods()
        model, zone_label, region_label = topology(self.reader.custom("networktopologies"))
        profiles = [
            p
            for raw in self.reader.custom("workloadprofiles")
            if (p := profile(raw, self.reader.pod_names, now, params.lead_time)) is not None
        ]
        loads, origin = self._loads(spec)
        snapshot = build_snapshot(
            spec, nodes, pods, profiles, model, (zone_label, region_label), self.reader.custom("migrations"), loads, now
        )
        return rebalance(snapshot, params, readings, now), origin

    def _loads(self, spec: RebalancePolicySpec) -> tuple[Loads | None, LoadOrigin]:
        load = spec.load
        if load.source == "Requests":
            return None, LoadOrigin(False, "Requests", "load comes from CPU requests (spec.load.source: Requests)")
        if self.prom is None:
            why = "AUGUR_PROMETHEUS_URL is not set: load comes from CPU requests"
            return None, LoadOrigin(False, "PrometheusNotConfigured", why)
        try:
            node_samples = self.prom.instant(load.node_query)
            pod_samples = self.prom.instant(load.pod_query)
        except PromError as exc:
            return None, LoadOrigin(False, exc.reason, f"{exc}; load comes from CPU requests until it can be read")
        nodes = {s.labels[load.node_label]: s.value for s in node_samples if load.node_label in s.labels}
        if not nodes:
            why = f"{load.node_query!r} returned no series with label {load.node_label}; load comes from CPU requests"
            return None, LoadOrigin(False, "NoData", why)
        pods = {
            f"{s.labels['namespace']}/{s.labels['pod']}": s.value
            for s in pod_samples
            if "namespace" in s.labels and "pod" in s.labels
        }
        message = f"CPU use of {len(nodes)} node(s) and {len(pods)} pod(s) from Prometheus"
        return Loads(nodes, pods), LoadOrigin(True, "Measured", message)

    def _create(self, spec: RebalancePolicySpec, proposals: tuple[Proposal, ...]) -> list[tuple[str, str]]:
        if spec.mode not in ("DryRun", "Auto"):
            return []
        created = []
        for p in proposals:
            made = self.reader.create_migration(p.namespace, migration_body(p, approved=spec.mode == "Auto"))
            created.append((p.key, str(made["metadata"]["name"])))
        return created


def migration_body(p: Proposal, approved: bool) -> dict[str, Any]:
    """The ``Migration`` for one proposal (ReservationFirst to the chosen node)."""
    gain_kind = "NetworkCost" if p.reason == "NetworkCost" else "NodeLoadStdDev"
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Migration",
        "metadata": {
            "generateName": f"{p.pod[:200]}-",
            "namespace": p.namespace,
            "labels": {CREATED_BY: "rebalancer"},
            "annotations": {OWNER_ANNOTATION: p.owner, SOURCE_ANNOTATION: p.source},
        },
        "spec": {
            "podName": p.pod,
            "reason": p.reason,
            "targetNode": p.target,
            "mode": "ReservationFirst",
            "approved": approved,
            "expectedGain": {"kind": gain_kind, "value": round(max(p.gain, 0.0), 6)},
            "explanation": p.explanation[:4096],
        },
    }


def _rebalancer(memo: kopf.Memo) -> Rebalancer:
    with _LOCK:
        found: Rebalancer | None = memo.get("rebalancer")
        if found is None:
            prom = PromClient(SETTINGS.prometheus_url) if SETTINGS.prometheus_url else None
            found = memo["rebalancer"] = Rebalancer(ClusterReader(memo["api"]), memo["api"], prom)
        return found


_LOCK = threading.Lock()


@kopf.timer(GROUP, VERSION, "rebalancepolicies", interval=REBALANCE_TICK_SECONDS)
def rebalance_tick(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """One look at the policy; one rebalancer run when its ``schedulingInterval`` has passed."""
    rebalancer = _rebalancer(memo)
    try:
        status, events = rebalancer.tick(dict(body), time.monotonic())
        if status is not None:
            apply_status(rebalancer.api, "RebalancePolicy", "rebalancepolicies", None, str(body.metadata.name), status)
    except KubeError as exc:
        if exc.status.transient:
            raise kopf.TemporaryError(str(exc), delay=5) from exc
        # Not worth an immediate retry (RBAC, a rejected object): say so and try again next interval.
        logger.error(f"rebalancer run failed: {exc}")
        kopf.event(body, type="Warning", reason="RebalanceFailed", message=str(exc)[:1024])
        return
    for event in events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message[:1024])
        logger.info(f"{event.reason}: {event.message}")
