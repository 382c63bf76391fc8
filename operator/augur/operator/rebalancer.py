"""The rebalancer in the operator: a loop started with kopf (so only the replica that runs kopf acts: with
leader election, the leader), off with ``AUGUR_REBALANCER=false``.

Every ``REBALANCE_TICK_SECONDS`` the loop lists the ``RebalancePolicy`` objects and checks whether the
acting policy's ``schedulingInterval`` has passed; then one run reads the cluster (:mod:`augur.kube.cluster`:
nodes, scheduled pods, ``WorkloadProfile``s and the pods their selectors match, ``NetworkTopology``,
``Migration``s), node and pod CPU use from Prometheus when the policy's load source allows
(:mod:`augur.prom`), builds the snapshot (:mod:`augur.operator.rebalance_input`), calls the pure
:func:`augur.migration.rebalance.rebalance`, creates one ``Migration`` per proposal (``approved: false`` in
``DryRun``), and writes the policy's status, Events and metrics. Only one policy acts (``default``, else
the first by name). The hysteresis counters live in memory and in the status, so a restart continues
counting; rate limits and the cool-down are read back from the Migrations, so they survive restarts too.
With leader election only the leader runs kopf, so only the active replica creates Migrations. One loop
rather than a kopf timer per policy: kopf puts a finalizer on every object with a timer, which would keep a
policy from being deleted while no operator runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf

from augur.api.conditions import find_condition, now_rfc3339
from augur.api.durations import parse_duration
from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec
from augur.api.validation import SpecError, parse
from augur.kube.client import KubeError, api_client
from augur.kube.cluster import ClusterReader
from augur.migration.limits import Readings
from augur.migration.params import RebalanceParams
from augur.migration.realized import realized_gain
from augur.migration.rebalance import rebalance
from augur.migration.result import Proposal, RebalanceResult
from augur.migration.snapshot import ClusterSnapshot
from augur.operator import metrics
from augur.operator.background import every, stop_task
from augur.operator.rebalance_input import Loads, build_snapshot, migration_body, profile, to_measure, topology
from augur.operator.rebalance_status import LoadOrigin, after_run, not_in_use, off
from augur.operator.reconcile import EventToPost
from augur.operator.settings import SETTINGS
from augur.prom.client import PromClient, PromError

REBALANCE_TICK_SECONDS = 1.0
"""How often the loop looks at the policies; a run happens when ``schedulingInterval`` has passed."""
logger = logging.getLogger("augur.operator.rebalancer")


@dataclass
class _Memory:
    readings: Readings | None = None
    last_run: float = -1e18
    created: int = 0


@dataclass
class Rebalancer:
    """One per operator process; kopf-free except for the timer below."""

    reader: ClusterReader
    prom: PromClient | None
    memory: dict[str, _Memory] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pass_(self, mono: float) -> None:
        """One look at every policy: the acting one runs when its interval has passed, the others say they
        are superseded."""
        policies = sorted(self.reader.custom("rebalancepolicies"), key=lambda p: str(p["metadata"]["name"]))
        names = [str(p["metadata"]["name"]) for p in policies]
        active = "default" if "default" in names else (names[0] if names else None)
        for body in policies:
            meta = body["metadata"]
            name, uid = str(meta["name"]), str(meta.get("uid", ""))
            try:
                status, events = self.tick(body, mono, active)
                if status is not None:
                    self.reader.apply_policy_status(name, status)
            except KubeError as exc:
                logger.warning(f"[{name}] rebalancer run failed: {exc}")
                if not exc.status.transient:
                    self.reader.post_event(name, uid, "Warning", "RebalanceFailed", str(exc))
                continue
            for event in events:
                self.reader.post_event(name, uid, event.type, event.reason, event.message)
                logger.info(f"[{name}] {event.reason}: {event.message}")
        with self.lock:
            for uid in set(self.memory) - {str(p["metadata"].get("uid", "")) for p in policies}:
                del self.memory[uid]

    def tick(
        self, body: dict[str, Any], mono: float, active: str | None
    ) -> tuple[dict[str, Any] | None, list[EventToPost]]:
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
        if active is not None and active != name:
            if (find_condition(old.get("conditions") or [], "Ready") or {}).get("reason") == "Superseded":
                return None, []
            message = (
                f"RebalancePolicy {active} configures the rebalancer (the one named default, else the first by name)"
            )
            return not_in_use(old, generation, now_rfc3339(), "Superseded", message)
        if spec.mode == "Off":
            mem.readings = Readings()
            said = find_condition(old.get("conditions") or [], "Active") or {}
            if said.get("reason") == "Off" and old.get("observedGeneration") == generation:
                return None, []
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

    def _run(self, spec: RebalancePolicySpec, readings: Readings, now: datetime) -> tuple[RebalanceResult, LoadOrigin]:
        params = RebalanceParams.from_spec(spec)
        # Migrations before pods: a move they show finished has its pods in the lists read after them (read
        # the other way round, a move finishing in between looks done on a placement that does not show it)
        migrations = self.reader.custom("migrations")
        nodes, pods = self.reader.nodes(), self.reader.pods()
        model, zone_label, region_label = topology(self.reader.custom("networktopologies"))
        profiles = [
            p
            for raw in self.reader.custom("workloadprofiles")
            if (p := profile(raw, self.reader.pod_names, now, params.lead_time)) is not None
        ]
        loads, origin = self._loads(spec)
        snapshot = build_snapshot(
            spec, nodes, pods, profiles, model, (zone_label, region_label), migrations, loads, now
        )
        settle = params.settle if snapshot.measured else 0.0
        self._measure(snapshot, migrations, now, max(params.window, 2 * settle), settle)
        return rebalance(snapshot, params, readings, now), origin

    def _measure(
        self, snapshot: ClusterSnapshot, migrations: list[dict[str, Any]], now: datetime, horizon: float, settle: float
    ) -> None:
        """Fill in ``status.measuredGain`` of the rebalancer's moves that succeeded within ``horizon`` seconds
        and at least ``settle`` ago (:func:`augur.migration.realized.realized_gain`, on this run's snapshot:
        the loads it reads, which with measured load show a move only after the settle time)."""
        for raw, pod_key, source, kind in to_measure(migrations, now, horizon, settle):
            gain = realized_gain(snapshot, pod_key, source, kind)
            if gain is None:
                continue
            meta = raw["metadata"]
            value = round(gain.value, 6)
            try:
                self.reader.patch_migration_status(
                    str(meta["namespace"]), str(meta["name"]), {"measuredGain": {"kind": gain.kind, "value": value}}
                )
            except KubeError as exc:
                logger.info(f"[{meta['namespace']}/{meta['name']}] measuredGain not written, next run: {exc}")
                continue
            metrics.migration_measured(gain.kind, value)

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


def _tick(rebalancer: Rebalancer) -> None:
    try:
        rebalancer.pass_(time.monotonic())
    except KubeError as exc:
        logger.warning(f"listing RebalancePolicies failed, retrying next tick: {exc}")


@kopf.on.startup()
async def start_rebalancer(memo: kopf.Memo, **_: Any) -> None:
    api = api_client()
    prom = PromClient(SETTINGS.prometheus_url) if SETTINGS.prometheus_url else None
    rebalancer = Rebalancer(ClusterReader(api), prom)
    memo["rebalance_loop"] = asyncio.create_task(
        every(lambda: REBALANCE_TICK_SECONDS, lambda: _tick(rebalancer), logger, "rebalancer tick")
    )


@kopf.on.cleanup()
async def stop_rebalancer(memo: kopf.Memo, **_: Any) -> None:
    await stop_task(memo, "rebalance_loop")
