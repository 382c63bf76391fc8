"""Operations on the real control plane: another autoscaler on the target (Conflict, no writes), two
operator replicas with leader election (SIGKILL of the leader hands over within 30 s, a watcher on the
Deployment sees no conflicting writes), and /metrics with the documented metric names.

Demand is a constant PromQL expression (``vector(N)``) evaluated by the real Prometheus, so the loop has
history at once and a fixed decision: with capacity C per replica at 80 % it wants ceil(N / (0.8 C)).
The operators started here act only on profiles labelled ``augur.dev/e2e-shard=<shard>``
(``AUGUR_SHARD_SELECTOR``), so the session's shared operator fixture is not needed here.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until
from augur.operator import metrics as metrics_module
from augur.operator.sharding import LEGACY_FINALIZER, finalizer
from tests.e2e.conftest import (
    apply,
    assert_log_clean,
    condition,
    deployment,
    deployment_replicas,
    get_json,
    install_crd,
    profile_events,
)

SHARD_LABEL = "augur.dev/e2e-shard"
TAKEOVER_LIMIT_SECONDS = 30.0


@dataclass
class Operator:
    proc: ManagedProcess
    health: str
    metrics: str
    name: str

    def scrape(self) -> str:
        return httpx.get(self.metrics, timeout=5).text

    def sample(self, metric: str, labels: str = "") -> float | None:
        pattern = re.compile(rf"^{re.escape(metric)}{re.escape(labels)} (\S+)$", re.MULTILINE)
        found = pattern.search(self.scrape())
        return float(found.group(1)) if found else None


def start_operator(cluster: LocalCluster, env: dict[str, str], name: str, shard: str, **extra: str) -> Operator:
    health_port, metrics_port = free_ports(2)
    health = f"http://127.0.0.1:{health_port}/healthz"
    metrics = f"127.0.0.1:{metrics_port}"
    proc = cluster.spawn(
        name,
        [sys.executable, "-m", "augur", "operator", "run", f"--liveness={health}", "--resync-seconds=2"],
        env={
            **env,
            "AUGUR_SHARD_SELECTOR": f"{SHARD_LABEL}={shard}",
            "AUGUR_METRICS": metrics,
            "AUGUR_LOG_FORMAT": "plain",
            "POD_NAME": name,
            **extra,
        },
    )
    wait_until(lambda: httpx.get(health, timeout=2).status_code == 200, 180, f"{name} liveness", proc)
    return Operator(proc, health, f"http://{metrics}/metrics", name)


def profile_manifest(namespace: str, name: str, shard: str, demand: float, capacity: float, mode: str) -> str:
    return f"""
apiVersion: augur.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{mode: {mode}, minReplicas: 1, maxReplicas: 20, decisionInterval: 4s, history: 30m, leadTime: 30s,
        behavior: {{scaleUp: {{maxStepPods: 20}}}}}}
---
apiVersion: augur.dev/v1alpha1
kind: WorkloadProfile
metadata: {{name: {name}, namespace: {namespace}, labels: {{{SHARD_LABEL}: {shard}}}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  policyRef: {{name: {name}}}
  demand: {{query: "vector({demand})", capacityPerReplica: {capacity}, step: 15s}}
"""


@dataclass
class ReplicaWrite:
    at: float
    replicas: int
    owners: tuple[str, ...]
    """Field managers owning ``spec.replicas`` right after the change."""

    @property
    def by_augur(self) -> bool:
        return self.owners == ("augur/scale",)


@dataclass
class DeploymentWatch:
    """``kubectl get deployment --watch``: every change of ``spec.replicas`` and who owns the field after it."""

    proc: subprocess.Popen[str]
    writes: list[ReplicaWrite] = field(default_factory=list)
    events: int = 0

    @classmethod
    def start(cls, cluster: LocalCluster, namespace: str, name: str) -> DeploymentWatch:
        argv = [cluster.tools.path("kubectl"), f"--kubeconfig={cluster.kubeconfig}", "get", "deployment", name]
        argv += ["-n", namespace, "--watch", "--output-watch-events", "-o", "json", "--show-managed-fields"]
        watch = cls(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        threading.Thread(target=watch._read, daemon=True).start()
        wait_until(lambda: watch.events > 0, 30, "the Deployment watch to start")
        return watch

    def _read(self) -> None:
        assert self.proc.stdout is not None
        decoder, buffer = json.JSONDecoder(), ""
        last: int | None = None
        for line in self.proc.stdout:
            buffer += line
            try:
                event, end = decoder.raw_decode(buffer.lstrip())
            except ValueError:
                continue
            buffer = buffer.lstrip()[end:]
            obj = event.get("object") or {}
            replicas = int((obj.get("spec") or {}).get("replicas") or 0)
            if last is not None and replicas != last:
                # who owns spec.replicas right after the change wrote it (augur applies with force)
                owners = tuple(
                    f"{m.get('manager')}/{m.get('subresource', '')}"
                    for m in obj["metadata"].get("managedFields", [])
                    if "f:replicas" in ((m.get("fieldsV1") or {}).get("f:spec") or {})
                )
                self.writes.append(ReplicaWrite(time.monotonic(), replicas, owners))
            last = replicas
            self.events += 1

    def augur_writes(self) -> list[ReplicaWrite]:
        return [w for w in self.writes if w.by_augur]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def watches() -> Iterator[list[DeploymentWatch]]:
    started: list[DeploymentWatch] = []
    yield started
    for w in started:
        w.stop()


def lease_holder(cluster: LocalCluster, name: str) -> str:
    out = cluster.kubectl("get", "lease", name, "-n", "augur-system", "-o", "json", check=False)
    return str(json.loads(out.stdout)["spec"].get("holderIdentity") or "") if out.returncode == 0 else ""


def conflict_events(cluster: LocalCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    return [e for e in profile_events(cluster, namespace, name) if e["reason"] == "Conflict"]


def settled(cluster: LocalCluster, namespace: str, name: str) -> int:
    """The Deployment's replicas once they equal the profile's desiredReplicas (else 0)."""
    wp = get_json(cluster, "workloadprofile", name, "-n", namespace)
    desired = (wp.get("status") or {}).get("desiredReplicas")
    current = deployment_replicas(cluster, namespace, name)
    return current if desired == current else 0


def metric_total(op: Operator, name: str) -> float:
    """Sum over every labelled sample of ``name``."""
    return sum(float(v) for v in re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", op.scrape(), re.MULTILINE))


def test_hpa_on_the_same_deployment_is_a_conflict_and_augur_does_not_write(
    crds: LocalCluster, operator_env: dict[str, str], namespace: str, watches: list[DeploymentWatch]
) -> None:
    op = start_operator(crds, operator_env, "augur-op-conflict", "conflict")
    try:
        apply(crds, deployment("web", namespace, 2))
        apply(
            crds,
            f"""
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web-hpa, namespace: {namespace}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
  minReplicas: 1
  maxReplicas: 20
  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 80}}}}}}]
""",
        )
        watch = DeploymentWatch.start(crds, namespace, "web")
        watches.append(watch)
        # demand 400 at capacity 50 (80 %) asks for 10 replicas: without the HPA Augur would write
        apply(crds, profile_manifest(namespace, "web", "conflict", 400, 50, "Auto"))

        def conflicted() -> bool:
            c = condition(get_json(crds, "workloadprofile", "web", "-n", namespace), "Conflict")
            return c is not None and c["status"] == "True"

        wait_until(conflicted, 90, "Conflict=True", op.proc)
        wp = get_json(crds, "workloadprofile", "web", "-n", namespace)
        c = condition(wp, "Conflict")
        assert c is not None and c["reason"] == "HorizontalPodAutoscaler"
        assert f"HorizontalPodAutoscaler {namespace}/web-hpa" in c["message"]
        wait_until(lambda: len(conflict_events(crds, namespace, "web")) == 1, 30, "one Conflict Event", op.proc)
        assert "web-hpa" in conflict_events(crds, namespace, "web")[0]["message"]
        time.sleep(15)  # several cadences (4 s) with the conflict in place
        assert watch.augur_writes() == [] and deployment_replicas(crds, namespace, "web") == 2
        wp = get_json(crds, "workloadprofile", "web", "-n", namespace)
        desired = int(wp["status"].get("desiredReplicas") or 0)
        assert desired > 2, "the loop decided to scale: the test is not vacuous"
        assert op.sample("augur_profile_conflict", f'{{name="web",namespace="{namespace}"}}') == 1.0
        assert (op.sample("augur_scale_writes_blocked_total", '{reason="Conflict"}') or 0) >= 1
        assert len(conflict_events(crds, namespace, "web")) == 1  # no Event per cadence
        # the HPA goes: the conflict resolves and Augur scales
        crds.kubectl("delete", "hpa", "web-hpa", "-n", namespace)
        wait_until(
            lambda: deployment_replicas(crds, namespace, "web") > 2, 90, "Augur scales once the HPA is gone", op.proc
        )
        wp = get_json(crds, "workloadprofile", "web", "-n", namespace)
        resolved = condition(wp, "Conflict")
        assert resolved is not None and resolved["status"] == "False" and resolved["reason"] == "NoConflict", resolved
        wait_until(lambda: len(watch.writes) > 0, 30, "the watch to see the write")
        assert [w.replicas for w in watch.augur_writes()] == [deployment_replicas(crds, namespace, "web")], watch.writes
        reasons = [e["reason"] for e in profile_events(crds, namespace, "web")]
        assert "ConflictResolved" in reasons and "Scaled" in reasons
    finally:
        op.proc.stop()


def test_two_replicas_hand_over_within_30_s_without_conflicting_writes(
    crds: LocalCluster, operator_env: dict[str, str], namespace: str, watches: list[DeploymentWatch]
) -> None:
    env = {
        **operator_env,
        "AUGUR_LEADER_ELECTION": "true",
        "AUGUR_LEASE_NAME": "augur-e2e-ha",
        "AUGUR_LEASE_NAMESPACE": "augur-system",
    }
    a = start_operator(crds, env, "augur-op-a", "ha")
    wait_until(lambda: lease_holder(crds, "augur-e2e-ha").startswith("augur-op-a_"), 60, "a leads", a.proc)
    b = start_operator(crds, env, "augur-op-b", "ha")
    try:
        assert httpx.get(b.health, timeout=2).json()["standby"] is True  # liveness answers while standing by
        assert b.sample("augur_leader") == 0.0 and a.sample("augur_leader") == 1.0
        apply(crds, deployment("api", namespace, 1))
        watch = DeploymentWatch.start(crds, namespace, "api")
        watches.append(watch)
        apply(crds, profile_manifest(namespace, "api", "ha", 200, 50, "Auto"))  # about 5 replicas
        wait_until(lambda: settled(crds, namespace, "api") > 1, 120, "the leader scales out", a.proc)
        time.sleep(8)  # two more cadences with both replicas up
        assert (b.sample("augur_scale_writes_total", '{result="Succeeded"}') or 0) == 0
        assert (metric_total(b, "augur_decisions_total")) == 0  # the standby decides nothing
        assert (a.sample("augur_scale_writes_total", '{result="Succeeded"}') or 0) >= 1
        before = deployment_replicas(crds, namespace, "api")

        killed = time.monotonic()
        a.proc._popen.send_signal(signal.SIGKILL)
        a.proc._popen.wait(10)
        wait_until(lambda: lease_holder(crds, "augur-e2e-ha").startswith("augur-op-b_"), 40, "b takes over", b.proc)
        took = time.monotonic() - killed
        assert took <= TAKEOVER_LIMIT_SECONDS, f"takeover took {took:.1f} s"
        wait_until(lambda: b.sample("augur_leader") == 1.0, 30, "b acts", b.proc)
        acting = time.monotonic() - killed
        writes_before = len(watch.augur_writes())
        # the new leader continues from the persisted state: halving capacity per replica doubles replicas
        patch = '{"spec": {"demand": {"capacityPerReplica": 25}}}'
        crds.kubectl("patch", "workloadprofile", "api", "-n", namespace, "--type=merge", "-p", patch)
        wait_until(lambda: settled(crds, namespace, "api") > before, 120, "b scales out further", b.proc)
        assert (b.sample("augur_scale_writes_total", '{result="Succeeded"}') or 0) >= 1
        time.sleep(8)
        assert watch.writes == watch.augur_writes(), f"a write by another manager: {watch.writes}"
        writes = watch.augur_writes()
        sequence = [w.replicas for w in writes]
        assert all(w.at < killed or w.at > killed + took - 0.5 for w in writes), "a write while nobody led"
        assert sequence == sorted(sequence), f"replicas went back and forth (conflicting writes): {sequence}"
        assert sequence[writes_before - 1] == before and sequence[-1] == deployment_replicas(crds, namespace, "api")
        print(f"takeover after SIGKILL: Lease {took:.1f} s, acting {acting:.1f} s; augur writes {sequence}")
    finally:
        a.proc.stop()
        b.proc.stop()


def test_sigterm_releases_the_lease_for_an_immediate_takeover(crds: LocalCluster, operator_env: dict[str, str]) -> None:
    env = {**operator_env, "AUGUR_LEADER_ELECTION": "true", "AUGUR_LEASE_NAME": "augur-e2e-release"}
    a = start_operator(crds, env, "augur-op-c", "release")
    wait_until(lambda: lease_holder(crds, "augur-e2e-release").startswith("augur-op-c_"), 60, "c leads", a.proc)
    b = start_operator(crds, env, "augur-op-d", "release")
    try:
        a.proc.stop(timeout=30)  # SIGTERM: kopf stops its handlers, then the Lease is released
        exited = time.monotonic()
        assert a.proc.returncode == 0
        wait_until(
            lambda: lease_holder(crds, "augur-e2e-release").startswith("augur-op-d_"), 20, "d takes over", b.proc
        )
        # after a crash the standby would wait the 15 s lease duration; a released Lease is taken at the
        # standby's next retry (2 s)
        assert time.monotonic() - exited < 5
    finally:
        a.proc.stop()
        b.proc.stop()


def test_metrics_endpoint_serves_every_documented_metric(crds: LocalCluster, operator_env: dict[str, str]) -> None:
    op = start_operator(crds, operator_env, "augur-op-metrics", "metrics")
    try:
        documented = set(re.findall(r"``(augur_[a-z_]+)", metrics_module.__doc__ or ""))
        assert len(documented) >= 14
        text = op.scrape()
        exposed = set(re.findall(r"^# TYPE (augur_[a-z_]+?)(?:_total)? ", text, re.MULTILINE))
        missing = {m.removesuffix("_total") for m in documented} - exposed
        assert not missing, f"documented but not exposed: {missing}"
        assert "process_resident_memory_bytes" in text
        assert op.sample("augur_leader") == 1.0
    finally:
        op.proc.stop()


def test_a_keda_scaled_object_installed_later_is_a_conflict(
    crds: LocalCluster, operator_env: dict[str, str], namespace: str
) -> None:
    """The operator starts without KEDA (nothing fails), then picks up the ScaledObject API when its CRD
    appears (KEDA's CRD reduced to what the conflict check reads), through kopf's rescan or its own list."""
    op = start_operator(crds, operator_env, "augur-op-keda", "keda")
    try:
        apply(crds, deployment("worker", namespace, 1))
        apply(crds, profile_manifest(namespace, "worker", "keda", 100, 50, "Auto"))
        wait_until(lambda: settled(crds, namespace, "worker") > 0, 90, "the profile scales without KEDA", op.proc)
        # No nudge: kopf's rescan can miss the new group (all CRD events before discovery serves it, seen
        # once in CI); then the operator's periodic list of ScaledObjects (augur.operator.late_claims) finds it.
        install_crd(crds, "keda.sh", "ScaledObject", "v1alpha1")

        def served() -> bool:  # before the ScaledObject can be created
            return "scaledobjects" in crds.kubectl("api-resources", "--api-group=keda.sh", check=False).stdout

        wait_until(served, 60, "discovery serves keda.sh", op.proc)
        apply(
            crds,
            f"""
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: worker-so, namespace: {namespace}}}
spec: {{scaleTargetRef: {{name: worker}}, triggers: [{{type: cpu, metadata: {{value: "50"}}}}]}}
""",
        )

        def reason() -> str:
            c = condition(get_json(crds, "workloadprofile", "worker", "-n", namespace), "Conflict")
            return str(c["reason"]) if c and c["status"] == "True" else ""

        wait_until(lambda: reason() == "ScaledObject", 120, "Conflict=True ScaledObject", op.proc)
        wait_until(lambda: len(conflict_events(crds, namespace, "worker")) == 1, 30, "one Event", op.proc)
        assert f"ScaledObject {namespace}/worker-so" in conflict_events(crds, namespace, "worker")[0]["message"]
    finally:
        op.proc.stop()


def test_each_shard_keeps_its_own_finalizer_and_removes_the_legacy_one(
    crds: LocalCluster, operator_env: dict[str, str], namespace: str
) -> None:
    """kopf's timers need a finalizer. With one name for all replicas, the operator of another shard removed
    it (no timer of its own needs it) and the shard's operator put it back, without end. Each shard
    now has its own; kopf's default, left on profiles by older releases, is removed by the owning shard."""
    apply(crds, deployment("fin", namespace, 1))
    manifest = profile_manifest(namespace, "fin", "fin", 100, 50, "ForecastOnly")
    manifest = manifest.replace(
        f"labels: {{{SHARD_LABEL}: fin}}}}", f"labels: {{{SHARD_LABEL}: fin}}, finalizers: [{LEGACY_FINALIZER}]}}"
    )
    assert LEGACY_FINALIZER in manifest
    apply(crds, manifest)

    def finalizers() -> list[str]:
        return list(get_json(crds, "workloadprofile", "fin", "-n", namespace)["metadata"].get("finalizers") or [])

    assert finalizers() == [LEGACY_FINALIZER]
    own = finalizer(f"{SHARD_LABEL}=fin")
    op = start_operator(crds, operator_env, "augur-op-fin", "fin")
    other = start_operator(crds, operator_env, "augur-op-fin-other", "other")  # sees the profile, not its shard
    try:
        wait_until(lambda: finalizers() == [own], 60, f"finalizers == [{own}]", op.proc)
        seen = set()
        for _ in range(30):  # 15 s: several cadences (4 s) and resyncs (2 s) of both operators
            seen.add(tuple(finalizers()))
            time.sleep(0.5)
        assert seen == {(own,)}, f"the finalizers changed while both operators ran: {seen}"
        status = get_json(crds, "workloadprofile", "fin", "-n", namespace).get("status") or {}
        assert status.get("desiredReplicas"), "the shard's operator acted on the profile meanwhile"
        crds.kubectl("delete", "workloadprofile", "fin", "-n", namespace, "--wait=false")
        wait_until(
            lambda: crds.kubectl("get", "workloadprofile", "fin", "-n", namespace, check=False).returncode != 0,
            30,
            "the profile to be deleted (the operator releases its finalizer)",
            op.proc,
        )
    finally:
        other.proc.stop()
        op.proc.stop()


def _gated_pod(name: str, namespace: str, gates: list[str]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "schedulingGates": [{"name": g} for g in gates],
                "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{"name": "app", "image": "example/gated:1"}],
            },
        }
    )


def test_the_plan_gate_backstop_releases_pods_no_extender_lets_through(
    crds: LocalCluster, operator_env: dict[str, str], namespace: str
) -> None:
    """No extender runs here: pods held at ``augur.dev/plan`` would never be scheduled. The operator (as the
    chart's ServiceAccount) removes that gate once a pod is ``AUGUR_PLAN_GATE_BACKSTOP_SECONDS`` old, keeps the
    pod's other gates, posts ``PlanGateReleased`` on it, and kube-scheduler then schedules it."""
    op = start_operator(crds, operator_env, "augur-op-gate", "gate", AUGUR_PLAN_GATE_BACKSTOP_SECONDS="3")
    try:
        created = time.monotonic()
        apply(crds, _gated_pod("held", namespace, ["augur.dev/plan"]))
        apply(crds, _gated_pod("other", namespace, ["augur.dev/plan", "example.com/other"]))

        def gates(name: str) -> list[str]:
            pod = get_json(crds, "pod", name, "-n", namespace)
            return [g["name"] for g in pod["spec"].get("schedulingGates") or []]

        wait_until(lambda: gates("held") == [] and gates("other") == ["example.com/other"], 60, "released", op.proc)
        released = time.monotonic() - created
        wait_until(lambda: bool(get_json(crds, "pod", "held", "-n", namespace)["spec"].get("nodeName")), 60, "bound")
        events = get_json(crds, "events", "-n", namespace, "--field-selector", "reason=PlanGateReleased")["items"]
        print("released after", round(released, 1), "s;", [e["involvedObject"]["name"] for e in events])
        assert released >= 3.0
        assert {e["involvedObject"]["name"] for e in events} == {"held", "other"}
        assert (op.sample("augur_plan_gate_releases_total") or 0) >= 2
        assert_log_clean(op.proc)
    finally:
        op.proc.stop()
