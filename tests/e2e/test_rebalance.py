"""Rebalancer e2e on the real control plane: a RebalancePolicy over a pool of kwok nodes of its own (a label
and a taint keep every other test's pods off them; ``spec.nodeSelector`` keeps the rebalancer on them).

- Dry run: load skewed onto two of four nodes → Migrations with ``approved: false`` naming the idle nodes,
  left Pending; no pod is evicted or moved; the plans stop at the rate limits and cool-down; mode ``Off``
  says so in status.
- Network (dry run): chatty services in two regions → ``NetworkCost`` plans towards the peer's region.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.nodes import KWOK_TAINT, NodeSpec, node_manifest
from augur.devcluster.procs import wait_until

from .conftest import apply, condition, get_json

POOL = "augur.dev/e2e-pool"
INTERVAL = 2  # seconds between rebalancer runs


@dataclass(frozen=True)
class Pool:
    ns: str
    nodes: tuple[str, ...]
    regions: dict[str, str]


def _node(spec: NodeSpec, ns: str, cordoned: bool) -> dict[str, Any]:
    manifest = node_manifest(spec)
    manifest["metadata"]["labels"][POOL] = ns
    manifest["spec"] = {
        "taints": [KWOK_TAINT, {"key": POOL, "value": ns, "effect": "NoSchedule"}],
        "unschedulable": cordoned,
    }
    return manifest


@pytest.fixture
def pool(crds: LocalCluster, namespace: str) -> Iterator[Pool]:
    """Four 4-core nodes: two in region east (zones a, b), two in region west (zone c); all cordoned."""
    layout = (("1", "a", "east"), ("2", "b", "east"), ("3", "c", "west"), ("4", "c", "west"))
    specs = [
        NodeSpec(f"{namespace}-n{i}", f"{namespace}-{z}", f"{namespace}-{r}", cpu="4", memory="16Gi")
        for i, z, r in layout
    ]
    crds.kubectl("apply", "-f", "-", stdin="\n---\n".join(json.dumps(_node(s, namespace, True)) for s in specs))
    names = {s.name for s in specs}
    wait_until(lambda: names <= crds.ready_nodes(), 120, "pool nodes Ready")
    yield Pool(namespace, tuple(s.name for s in specs), {s.name: s.region for s in specs})
    crds.kubectl("delete", "rebalancepolicy", "default", "--ignore-not-found", "--wait=false")
    crds.kubectl("delete", "node", *names, "--wait=false")


def cordon(cluster: LocalCluster, nodes: tuple[str, ...], on: bool) -> None:
    for n in nodes:
        cluster.kubectl("patch", "node", n, "-p", json.dumps({"spec": {"unschedulable": on}}))


def deployment(pool: Pool, name: str, replicas: int, cpu: str) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {pool.ns}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      nodeSelector: {{{POOL}: {pool.ns}}}
      tolerations:
      - {{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}
      - {{key: {POOL}, operator: Exists, effect: NoSchedule}}
      containers: [{{name: app, image: example/{name}:1, resources: {{requests: {{cpu: {cpu}, memory: 64Mi}}}}}}]
"""


def policy(pool: Pool, mode: str, extra: str = "") -> str:
    return f"""
apiVersion: augur.dev/v1alpha1
kind: RebalancePolicy
metadata: {{name: default}}
spec:
  mode: "{mode}"
  schedulingInterval: {INTERVAL}s
  consecutiveReadings: 2
  nodeSelector: {{{POOL}: {pool.ns}}}
  namespaces: [{pool.ns}]
  load: {{source: Requests}}
  {extra}
"""


def pods(cluster: LocalCluster, ns: str) -> dict[str, tuple[str, str]]:
    """Running pods: name → (uid, node)."""
    items = get_json(cluster, "pods", "-n", ns)["items"]
    return {
        p["metadata"]["name"]: (p["metadata"]["uid"], p["spec"].get("nodeName", ""))
        for p in items
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    }


def migrations(cluster: LocalCluster, ns: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(cluster, "migrations", "-n", ns)["items"]
    return items


def started(cluster: LocalCluster, ns: str, count: int) -> dict[str, tuple[str, str]]:
    wait_until(lambda: len(pods(cluster, ns)) == count, 120, f"{count} pods Running")
    return pods(cluster, ns)


def test_dry_run_records_plans_and_moves_nothing(operator: Any, crds: LocalCluster, pool: Pool) -> None:
    east = pool.nodes[:2]
    cordon(crds, east, False)
    apply(crds, "---".join(deployment(pool, f"web{i}", 2, "500m") for i in range(3)))
    before = started(crds, pool.ns, 6)
    assert {node for _, node in before.values()} <= set(east)  # 3 cores on two nodes: 37.5% vs 0%
    cordon(crds, pool.nodes[2:], False)
    apply(crds, policy(pool, "DryRun"))

    wait_until(lambda: len(migrations(crds, pool.ns)) >= 2, 60, "dry-run Migrations")
    # two readings above the threshold, then plans: web pods to the idle west nodes; the third owner follows
    # on the next run (the pods did not move, the spread is still above the threshold); then every owner
    # is cooling down (15 minutes by default) and the plans stop.
    time.sleep(5 * INTERVAL)
    plans = migrations(crds, pool.ns)
    assert 2 <= len(plans) <= 3
    for m in plans:
        spec = m["spec"]
        assert spec["approved"] is False
        assert spec["reason"] == "Rebalance"
        assert spec["targetNode"] in pool.nodes[2:]
        assert spec["expectedGain"]["kind"] == "NodeLoadStdDev" and spec["expectedGain"]["value"] > 0
        assert "threshold" in spec["explanation"]
        assert (m.get("status") or {}).get("phase", "Pending") == "Pending"
        assert m["metadata"]["labels"]["augur.dev/created-by"] == "rebalancer"
    assert len({m["spec"]["podName"].rsplit("-", 2)[0] for m in plans}) == len(plans)  # one per Deployment

    status = get_json(crds, "rebalancepolicy", "default")["status"]
    assert condition({"status": status}, "Ready")["status"] == "True"  # type: ignore[index]
    active = condition({"status": status}, "Active")
    assert active is not None and (active["status"], active["reason"]) == ("False", "DryRun")
    assert condition({"status": status}, "Balanced")["reason"] == "SpreadAboveThreshold"  # type: ignore[index]
    assert status["nodeLoadSpread"] == pytest.approx(37.5)
    assert status["loadSource"] == "Requests"
    assert status["proposals"] and status["proposals"][0]["migration"]

    # ten more intervals: no further plans, and nothing was evicted or moved
    count = len(plans)
    time.sleep(10 * INTERVAL)
    assert len(migrations(crds, pool.ns)) == count
    assert pods(crds, pool.ns) == before
    events = get_json(crds, "events", "-n", "default", "--field-selector", "involvedObject.name=default")["items"]
    assert any(e["reason"] == "MigrationsCreated" and "dry run" in e["message"] for e in events)

    apply(crds, policy(pool, "Off"))

    def says_off() -> bool:
        c = condition(get_json(crds, "rebalancepolicy", "default"), "Active")
        return c is not None and c["reason"] == "Off" and "nothing is computed" in c["message"]

    wait_until(says_off, 30, "mode Off reported in status")


def profile(pool: Pool, name: str, deps: str) -> str:
    return f"""
apiVersion: augur.dev/v1alpha1
kind: WorkloadProfile
metadata: {{name: {name}, namespace: {pool.ns}}}
spec:
  scaleTargetRef: {{kind: Deployment, name: {name}}}
  selector: app={name}
  dependencies: [{deps}]
"""


def test_network_plans_move_towards_the_peers_region(operator: Any, crds: LocalCluster, pool: Pool) -> None:
    east, west = pool.nodes[:2], pool.nodes[2:]
    apply(crds, profile(pool, "fe", "{name: db, traffic: 10}") + "---" + profile(pool, "db", ""))
    cordon(crds, west, False)
    apply(crds, deployment(pool, "fe", 2, "100m"))
    started(crds, pool.ns, 2)
    cordon(crds, west, True)
    cordon(crds, east, False)
    apply(crds, deployment(pool, "db", 2, "100m"))
    before = started(crds, pool.ns, 4)
    cordon(crds, west, False)
    assert {before[p][1] for p in before if p.startswith("fe")} <= set(west)
    assert {before[p][1] for p in before if p.startswith("db")} <= set(east)
    apply(crds, policy(pool, "DryRun"))

    wait_until(lambda: migrations(crds, pool.ns), 60, "a NetworkCost plan")
    plans = migrations(crds, pool.ns)
    for m in plans:
        spec = m["spec"]
        assert spec["reason"] == "NetworkCost" and spec["approved"] is False
        pod = spec["podName"]
        peer_region = pool.regions[west[0]] if pod.startswith("db") else pool.regions[east[0]]
        assert pool.regions[spec["targetNode"]] == peer_region, spec
        assert spec["expectedGain"]["kind"] == "NetworkCost" and spec["expectedGain"]["value"] > 0
    status = get_json(crds, "rebalancepolicy", "default")["status"]
    assert status["networkCost"] > 0
    assert condition({"status": status}, "Balanced")["status"] == "True"  # type: ignore[index]
    assert pods(crds, pool.ns) == before
