"""Scheduler extender e2e: a real kube-scheduler calls augur_extender for a three-tier application on kwok
nodes in three zones across two regions. Chatty pairs land closer than without the extender, with the shipped
configuration (prioritize only) and with the filter verb; required avoidance holds with the filter verb and is
reported as unfiltered without it; with the extender stopped pods still schedule (ignorable)."""

from __future__ import annotations

import itertools
import os
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.pki import create_pki
from augur.devcluster.procs import ManagedProcess, wait_until

from .conftest import REPO, apply, deployment, get_json

LEVELS = {"sameNode": 0, "sameZone": 10, "sameRegion": 40, "crossRegion": 100}
TOPOLOGY = """
apiVersion: augur.dev/v1alpha1
kind: NetworkTopology
metadata: {name: default}
spec:
  levels: {sameNode: 0, sameZone: 10, sameRegion: 40, crossRegion: 100}
"""
# (name, replicas, dependencies {peer: traffic}, placement)
APP: tuple[tuple[str, int, dict[str, float], str], ...] = (
    ("db", 4, {}, "{avoidZones: [west-a], requiredAvoidance: true}"),
    ("api", 3, {"db": 50.0}, "{}"),
    ("frontend", 3, {"api": 100.0}, "{}"),
)
_ns = itertools.count()


def _profile(ns: str, name: str, deps: dict[str, float], placement: str) -> str:
    dep_list = ", ".join(f"{{name: {peer}, traffic: {t}}}" for peer, t in deps.items())
    return f"""
apiVersion: augur.dev/v1alpha1
kind: WorkloadProfile
metadata: {{name: {name}, namespace: {ns}}}
spec:
  scaleTargetRef: {{kind: Deployment, name: {name}}}
  selector: app={name}
  dependencies: [{dep_list}]
  placement: {placement}
"""


def _deploy_app(cluster: LocalCluster, extender_url: str | None = None) -> str:
    """Profiles first (and, with an extender, until its cache holds them), then the Deployments in order."""
    ns = f"extender-{next(_ns)}"
    cluster.kubectl("create", "namespace", ns)
    apply(cluster, "---".join(_profile(ns, name, deps, placement) for name, _, deps, placement in APP))
    if extender_url is not None:
        wait_until(lambda: _cached_workloads(extender_url) >= len(APP), 30, "profiles in the extender's cache")
    for name, replicas, _, _ in APP:
        apply(cluster, deployment(name, ns, replicas, cpu="250m", memory="256Mi"))
        cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", ns, "--timeout=120s")
    return ns


def _cached_workloads(url: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("augur_extender_cache_workloads "):
            return float(line.split()[1])
    return 0.0


def _placement(cluster: LocalCluster, ns: str) -> dict[str, list[str]]:
    pods = get_json(cluster, "pods", "-n", ns)["items"]
    out: dict[str, list[str]] = {}
    for pod in pods:
        out.setdefault(pod["metadata"]["labels"]["app"], []).append(pod["spec"]["nodeName"])
    return out


def network_cost(placement: dict[str, list[str]], nodes: dict[str, dict[str, str]]) -> float:
    """facts §5: Σ over dependencies A→B of traffic × mean distance over replica pairs."""

    def distance(a: str, b: str) -> int:
        if a == b:
            return LEVELS["sameNode"]
        if nodes[a]["zone"] == nodes[b]["zone"]:
            return LEVELS["sameZone"]
        return LEVELS["sameRegion"] if nodes[a]["region"] == nodes[b]["region"] else LEVELS["crossRegion"]

    total = 0.0
    for name, _, deps, _ in APP:
        for peer, traffic in deps.items():
            pairs = [(a, b) for a in placement[name] for b in placement[peer]]
            total += traffic * sum(distance(a, b) for a, b in pairs) / len(pairs)
    return total


def _nodes(cluster: LocalCluster) -> dict[str, dict[str, str]]:
    items = get_json(cluster, "nodes")["items"]
    return {
        n["metadata"]["name"]: {
            "zone": n["metadata"]["labels"]["topology.kubernetes.io/zone"],
            "region": n["metadata"]["labels"]["topology.kubernetes.io/region"],
        }
        for n in items
    }


SHIPPED, HARD_RULES = "kube-scheduler-config", "kube-scheduler-config-hard-rules"


def example_extender(url: str, name: str = SHIPPED) -> dict[str, Any]:
    """The extender entry of an example scheduler configuration (default: the shipped one), pointed at ``url``."""
    example = yaml.safe_load((REPO / "examples" / "scheduler" / f"{name}.yaml").read_text())
    (entry,) = example["extenders"]
    return {**entry, "urlPrefix": url}


def _samples(url: str, family: str, verify: ssl.SSLContext | bool = True) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric family on the extender's /metrics: (labels, value)."""
    text = httpx.get(f"{url}/metrics", timeout=5, verify=verify).text
    return [
        (dict(s.labels), s.value)
        for f in text_string_to_metric_families(text)
        if f.name == family
        for s in f.samples
        if s.name == f"{family}_total"
    ]


def _calls(url: str, verb: str) -> float:
    return sum(v for labels, v in _samples(url, "augur_extender_requests") if labels["verb"] == verb)


@pytest.fixture(scope="module")
def extender(augur_identities: LocalCluster) -> Iterator[tuple[ManagedProcess, str]]:
    """The extender, authenticated as the chart's extender ServiceAccount (its RBAC must suffice)."""
    crds = augur_identities
    apply(crds, TOPOLOGY)
    kubeconfig = crds.service_account_kubeconfig("augur-system", "augur-extender")
    proc, url = crds.start_extender(kubeconfig)
    crds.restart_scheduler(extenders=[example_extender(url)])
    yield proc, url
    proc.stop()
    crds.restart_scheduler(extenders=[])


def test_extender_places_chatty_pairs_close_and_holds_avoidance(extender, crds: LocalCluster) -> None:
    """The shipped configuration (prioritize only) places chatty pairs close and reports that db's hard rule
    (requiredAvoidance of west-a) went unfiltered; the hard-rules configuration (filter verb too) holds it."""
    proc, url = extender
    nodes = _nodes(crds)
    ns_shipped = _deploy_app(crds, url)
    shipped = _placement(crds, ns_shipped)
    assert _calls(url, "prioritize") >= sum(r for _, r, _, _ in APP) and _calls(url, "filter") == 0
    unfiltered = {labels["workload"]: v for labels, v in _samples(url, "augur_extender_hard_rules_unfiltered")}
    assert unfiltered.get(f"{ns_shipped}/db", 0) >= 4 and f"{ns_shipped}/api" not in unfiltered, unfiltered
    print(f"shipped configuration, db (steered off west-a, not filtered): {[nodes[n]['zone'] for n in shipped['db']]}")

    crds.restart_scheduler(extenders=[example_extender(url, HARD_RULES)])
    ns_with = _deploy_app(crds, url)
    with_extender = _placement(crds, ns_with)
    assert all(nodes[n]["zone"] != "west-a" for n in with_extender["db"]), with_extender["db"]
    assert _calls(url, "filter") >= sum(r for _, r, _, _ in APP)  # the scheduler really called the filter

    proc.stop()  # ignorable: scheduling must go on without the extender
    ns_without = _deploy_app(crds)
    without_extender = _placement(crds, ns_without)
    assert sum(len(v) for v in without_extender.values()) == sum(r for _, r, _, _ in APP)

    log = proc.log_path.read_text()
    assert "forbidden" not in log.lower() and "Traceback" not in log, proc.log_tail(40)

    cost_with, cost_without = network_cost(with_extender, nodes), network_cost(without_extender, nodes)
    cost_shipped = network_cost(shipped, nodes)
    print(f"network cost: shipped {cost_shipped:.1f}, with the filter {cost_with:.1f}, without {cost_without:.1f}")
    assert cost_with < cost_without, (with_extender, without_extender)
    assert cost_shipped < cost_without, (shipped, without_extender)


def test_extender_over_tls_and_graceful_shutdown(crds: LocalCluster, tmp_path: Path) -> None:
    """kube-scheduler calls the extender over HTTPS (enableHTTPS + tlsConfig.caFile); SIGTERM ends it cleanly."""
    pki = create_pki(tmp_path / "pki")  # its apiserver certificate is valid for 127.0.0.1
    proc, url = crds.start_extender(name="augur-extender-tls", tls=(pki.apiserver.cert, pki.apiserver.key, pki.ca.cert))
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    entry = {**example_extender(url), "enableHTTPS": True, "tlsConfig": {"caFile": str(pki.ca.cert)}}
    crds.restart_scheduler(extenders=[entry])
    try:
        ns = f"extender-tls-{next(_ns)}"
        crds.kubectl("create", "namespace", ns)
        apply(crds, deployment("tls", ns, 2))
        crds.kubectl("rollout", "status", "deployment/tls", "-n", ns, "--timeout=120s")
        metrics = httpx.get(f"{url}/metrics", verify=context, timeout=5).text
        assert 'augur_extender_request_duration_seconds_count{verb="prioritize"}' in metrics
    finally:
        crds.restart_scheduler(extenders=[])
    os.kill(proc.pid, signal.SIGTERM)
    wait_until(lambda: not proc.running(), 20, "extender exit after SIGTERM")
    log = proc.log_path.read_text()
    # uvicorn drains, runs the shutdown hooks, then re-raises SIGTERM so the exit status tells the signal.
    assert "Application shutdown complete" in log and "augur extender stopped" in log, proc.log_tail()
    assert proc.returncode in (0, -signal.SIGTERM), proc.log_tail()
