"""Two extender replicas on the real kube-apiserver, as the chart runs them (its ServiceAccount and Role,
``--gate-lease``, ``POD_NAME``/``POD_NAMESPACE``): only the replica holding the gate keeper's Lease lets pods
through the plan gate and labels its pod, so a Service selecting the label (the chart's, which kube-scheduler
calls) has only its address (the real EndpointSlice controller); when it is killed the other takes over after the
Lease's duration, and its container restarted in the same pod removes the stale label; when it stops cleanly
(SIGTERM removes the label and releases the Lease) the standby takes over at once; every held pod is scheduled.
The replicas are processes; their pods are kwok pods of the same names."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from augur.constants import GATE_KEEPER_LABEL, PLAN_GATE
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.procs import ManagedProcess, wait_until

from .conftest import apply, deployment, get_json
from .test_extender import TOPOLOGY, _profile, _samples

NAMESPACE = "gate-keeper-lease"
LEASE_NAMESPACE, LEASE_NAME = "augur-system", "augur-extender-gate-keeper"  # the chart's, release "augur"
DURATION = 15.0  # the Lease's duration (augur.kube.leader.LeaseTiming's default)


def gated_deployment(name: str, replicas: int) -> str:
    obj = yaml.safe_load(deployment(name, NAMESPACE, replicas))
    obj["spec"]["template"]["spec"]["schedulingGates"] = [{"name": PLAN_GATE}]
    return json.dumps(obj)


def leads(url: str) -> bool:
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("augur_extender_plan_gate_leader "):
            return float(line.split()[1]) == 1.0
    raise AssertionError("augur_extender_plan_gate_leader missing")


def lifted(url: str) -> float:
    return sum(v for _, v in _samples(url, "augur_extender_plan_gate_lifts"))


def holder(crds: LocalCluster) -> str:
    lease = get_json(crds, "lease", LEASE_NAME, "-n", LEASE_NAMESPACE)
    return str(lease["spec"].get("holderIdentity") or "")


def extender_pods(names: list[str]) -> str:
    """Pods standing in for the replicas' own (kwok runs them, so they are Ready with an address)."""
    pods = [
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {NAMESPACE}, labels: {{app: fake-extender}}}}
spec:
  tolerations: [{{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}]
  containers: [{{name: extender, image: example/extender:1}}]
"""
        for name in names
    ]
    service = f"""
apiVersion: v1
kind: Service
metadata: {{name: gate-keeper, namespace: {NAMESPACE}}}
spec:
  selector: {{app: fake-extender, {GATE_KEEPER_LABEL}: "true"}}
  ports: [{{port: 8888}}]
"""
    return "---".join([*pods, service])


def pod_ip(crds: LocalCluster, name: str) -> str:
    return str(get_json(crds, "pod", name, "-n", NAMESPACE)["status"].get("podIP") or "")


def endpoints(crds: LocalCluster) -> set[str]:
    """The ready addresses of the Service selecting the gate keeper's label."""
    slices = get_json(crds, "endpointslices", "-n", NAMESPACE, "-l", "kubernetes.io/service-name=gate-keeper")
    return {
        address
        for item in slices["items"]
        for endpoint in item.get("endpoints") or []
        if (endpoint.get("conditions") or {}).get("ready")
        for address in endpoint["addresses"]
    }


def all_scheduled(crds: LocalCluster, app: str, replicas: int) -> bool:
    pods = get_json(crds, "pods", "-n", NAMESPACE, "-l", f"app={app}")["items"]
    return len(pods) == replicas and all(p["spec"].get("nodeName") for p in pods)


class Replicas:
    """Extender replicas started as the chart starts them, each with its own POD_NAME."""

    def __init__(self, crds: LocalCluster) -> None:
        self.crds = crds
        self.kubeconfig = crds.service_account_kubeconfig("augur-system", "augur-extender")
        self.procs: list[ManagedProcess] = []

    def start(self, pod_name: str) -> tuple[ManagedProcess, str]:
        proc, url = self.crds.start_extender(
            self.kubeconfig,
            name=f"augur-extender-{pod_name}",
            args=["--gate-lease", f"{LEASE_NAMESPACE}/{LEASE_NAME}"],
            env={"POD_NAME": pod_name, "POD_NAMESPACE": NAMESPACE},
        )
        self.procs.append(proc)
        return proc, url

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


@pytest.fixture
def replicas(augur_identities: LocalCluster) -> Iterator[Replicas]:
    crds = augur_identities
    apply(crds, TOPOLOGY)
    crds.kubectl("create", "namespace", NAMESPACE)
    apply(crds, "---".join(_profile(NAMESPACE, app, {}, "{}") for app in ("first", "second", "third")))
    apply(crds, extender_pods(["extender-a", "extender-b"]))
    wait_until(lambda: all(pod_ip(crds, n) for n in ("extender-a", "extender-b")), 60, "the replicas' pods running")
    started = Replicas(crds)
    try:
        yield started
    finally:
        started.stop()
        crds.kubectl("delete", "namespace", NAMESPACE, "--wait=false")
        crds.kubectl("delete", "lease", LEASE_NAME, "-n", LEASE_NAMESPACE, "--ignore-not-found")


def test_one_replica_lets_pods_through_and_the_other_takes_over(
    augur_identities: LocalCluster, replicas: Replicas
) -> None:
    crds = augur_identities
    ip = {name: pod_ip(crds, name) for name in ("extender-a", "extender-b")}
    a, url_a = replicas.start("extender-a")
    wait_until(lambda: leads(url_a), 30, "replica a leads")
    b, url_b = replicas.start("extender-b")
    assert holder(crds).startswith("extender-a_")
    time.sleep(3)  # b has tried the Lease at least once (every 2 s while standing by)
    assert not leads(url_b)
    wait_until(lambda: endpoints(crds) == {ip["extender-a"]}, 30, "the gate keeper's Service selects a only")

    # a lets the pods through; b, standing by, none
    apply(crds, gated_deployment("first", 4))
    wait_until(lambda: all_scheduled(crds, "first", 4), 60, "first's pods scheduled")
    assert (lifted(url_a), lifted(url_b)) == (4.0, 0.0)

    # a is killed (no release): b takes over once a has not renewed for the Lease's duration
    os.killpg(a.pid, signal.SIGKILL)
    killed = time.monotonic()
    apply(crds, gated_deployment("second", 4))
    wait_until(lambda: all_scheduled(crds, "second", 4), 60, "second's pods scheduled after the failover")
    took = time.monotonic() - killed
    print(f"failover after SIGKILL: second's 4 pods scheduled {took:.1f} s after the kill")
    assert leads(url_b) and lifted(url_b) == 4.0 and holder(crds).startswith("extender-b_")
    # a renewed at most 5 s before it died; nobody may take over before the Lease's duration since b last saw it
    # change, and b tries every 2 s after that
    assert DURATION - 5.0 <= took <= DURATION + 2.0 + 15.0, took
    wait_until(lambda: ip["extender-b"] in endpoints(crds), 30, "the gate keeper's Service selects b")

    # a's container comes back in the same pod, as a standby: it removes the label its predecessor left
    a2, url_a2 = replicas.start("extender-a")
    wait_until(lambda: endpoints(crds) == {ip["extender-b"]}, 30, "a's stale label removed")
    assert not leads(url_a2)

    # b stops cleanly: it removes its label, releases the Lease, and a, standing by, takes over within its retry
    b.stop()
    stopped = time.monotonic()
    assert "gate keeper: released Lease" in b.log_path.read_text(), b.log_tail(20)
    apply(crds, gated_deployment("third", 2))
    wait_until(lambda: all_scheduled(crds, "third", 2), 30, "third's pods scheduled after the hand-over")
    took = time.monotonic() - stopped
    print(f"hand-over after SIGTERM: third's 2 pods scheduled {took:.1f} s after the stop")
    assert leads(url_a2) and lifted(url_a2) == 2.0 and took < DURATION - 5.0, took
    wait_until(lambda: endpoints(crds) == {ip["extender-a"]}, 30, "the gate keeper's Service selects a again")
    for proc in (a, b, a2):
        log = proc.log_path.read_text()
        assert "forbidden" not in log.lower() and "Traceback" not in log, proc.log_tail(40)
