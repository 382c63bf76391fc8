"""Raw API objects → the rebalancer's snapshot, and a proposal → its Migration."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from augur.api.v1alpha1.migration import MigrationSpec
from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec
from augur.migration.result import Proposal
from augur.operator.rebalance_input import (
    STATEFULSET_NOTE,
    build_snapshot,
    migration_body,
    owner_key,
    past_moves,
    profile,
)
from augur.placement.topology import TopologyModel

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ZONES = ("topology.kubernetes.io/zone", "topology.kubernetes.io/region")


def node(name: str, pool: str = "p", unschedulable: bool = False) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"pool": pool, ZONES[0]: "z1", ZONES[1]: "r1"}},
        "spec": {"unschedulable": unschedulable, "taints": [{"key": "kwok", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}},
    }


def pod(
    name: str, on: str, kind: str = "ReplicaSet", owner: str = "web-5f7d", ns: str = "app", **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"uid-{name}",
            "labels": {"pod-template-hash": "5f7d"},
            "ownerReferences": [
                {"controller": True, "kind": kind, "name": owner, "uid": f"{kind}-{owner}", "apiVersion": "apps/v1"}
            ],
        },
        "spec": {
            "nodeName": on,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}}}],
            "tolerations": [{"key": "kwok", "operator": "Exists", "effect": "NoSchedule"}],
            **spec,
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_owner_key_folds_a_replicaset_into_its_deployment() -> None:
    assert owner_key(pod("a", "n1")) == "app/Deployment/web"
    assert owner_key(pod("a", "n1", kind="StatefulSet", owner="db")) == "app/StatefulSet/db"


def test_snapshot_from_raw_objects() -> None:
    policy = RebalancePolicySpec(node_selector={"pool": "p"}, excluded_namespaces=["kube-system", "ops"])
    nodes = [node("n1"), node("n2", unschedulable=True), node("other", pool="q")]
    pods = [
        pod("web-1", "n1"),
        pod("web-2", "n1"),
        pod("db-0", "n1", kind="StatefulSet", owner="db"),
        pod("db-1", "other", kind="StatefulSet", owner="db"),
        pod("tool-1", "n1", ns="ops", owner="tool-5f7d"),
        pod("tool-2", "n1", ns="ops", owner="tool-5f7d"),
        pod("web-3", "other"),
    ]
    snap = build_snapshot(policy, nodes, pods, [], TopologyModel(), ZONES, [], None, NOW)
    assert [n.name for n in snap.nodes] == ["n1", "n2"]  # nodeSelector
    assert [n.schedulable for n in snap.nodes] == [True, False]
    assert snap.nodes[0].cpu == 4 and snap.nodes[0].memory == 16 and snap.nodes[0].taints == frozenset({"kwok"})
    by = {p.name: p for p in snap.pods}
    assert set(by) == {"web-1", "web-2", "db-0", "tool-1", "tool-2"}  # pods on other nodes are left alone
    web = by["web-1"]
    assert (web.cpu, web.memory, web.owner, web.blocked) == (0.5, 0.5, "app/Deployment/web", "")
    assert web.tolerates == frozenset({"kwok"})
    assert by["db-0"].blocked == STATEFULSET_NOTE
    assert "excluded" in by["tool-1"].blocked
    # web has three Ready pods in all (one on another pool): none of them is the last available replica
    assert by["web-2"].blocked == ""


def test_a_pod_being_deleted_is_terminating_and_blocked() -> None:
    leaving = pod("web-1", "n1")
    leaving["metadata"]["deletionTimestamp"] = "2026-11-30T08:59:00Z"
    snap = build_snapshot(
        RebalancePolicySpec(), [node("n1")], [leaving, pod("web-2", "n1")], [], TopologyModel(), ZONES, [], None, NOW
    )
    by = {p.name: p for p in snap.pods}
    assert (by["web-1"].terminating, by["web-2"].terminating) == (True, False)
    assert by["web-1"].blocked and by["web-1"].cpu == 0.5  # never moved; its requests still hold the node


def test_allocatable_pods_of_a_node() -> None:
    """``status.allocatable.pods`` is the node's pod limit; 110 (kubelet's default) when absent or unreadable."""
    limited, bad = node("n1"), node("n2")
    limited["status"]["allocatable"]["pods"] = "3"
    bad["status"]["allocatable"]["pods"] = "many"
    snap = build_snapshot(
        RebalancePolicySpec(), [limited, bad, node("n3")], [], [], TopologyModel(), ZONES, [], None, NOW
    )
    assert [n.max_pods for n in snap.nodes] == [3, 110, 110]


def test_last_available_replica_is_never_moved() -> None:
    snap = build_snapshot(
        RebalancePolicySpec(),
        [node("n1")],
        [pod("solo", "n1", owner="solo-5f7d")],
        [],
        TopologyModel(),
        ZONES,
        [],
        None,
        NOW,
    )
    assert "last available replica" in snap.pods[0].blocked


def test_past_moves_and_busy_pods_from_migrations() -> None:
    def mig(
        pod_name: str, age_s: int, approved: bool = True, phase: str = "Pending", ours: bool = True
    ) -> dict[str, Any]:
        created = datetime.fromtimestamp(NOW.timestamp() - age_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        labels = {"augur.dev/created-by": "rebalancer"} if ours else {}
        return {
            "metadata": {
                "namespace": "app",
                "creationTimestamp": created,
                "labels": labels,
                "annotations": {"augur.dev/owner": "app/Deployment/web", "augur.dev/source-node": "n1"},
            },
            "spec": {"podName": pod_name, "targetNode": "n2", "approved": approved},
            "status": {"phase": phase},
        }

    items = [
        mig("a", 60),
        mig("b", 60, phase="Succeeded"),
        mig("c", 4000, approved=False),  # an old dry-run plan no longer holds its pod
        mig("d", 60, approved=False),
        mig("e", 60, ours=False),  # a person's Migration: busy, but not a rebalancer move
    ]
    history = past_moves(items, NOW, horizon=900, dry_plan_life=900)
    assert [(m.owner, m.source, m.target) for m in history.recent] == [("app/Deployment/web", "n1", "n2")] * 3
    assert history.busy == frozenset({"app/a", "app/d", "app/e"})
    assert history.in_flight == (("app/a", "n2"), ("app/e", "n2"))
    assert [m.planned for m in history.recent] == [False, False, True]  # d: a dry-run plan

    assert history.finished == ()  # b succeeded without a startTime or completionTime: it never acted

    # a policy scoped to other namespaces does not count these moves
    def snap(namespaces: list[str]) -> Any:
        policy = RebalancePolicySpec(namespaces=namespaces)
        return build_snapshot(policy, [node("n1")], [pod("web-1", "n1")], [], TopologyModel(), ZONES, items, None, NOW)

    assert len(snap(["app"]).recent) == 3 and snap(["elsewhere"]).recent == ()


def test_migration_body_validates_against_the_api() -> None:
    p = Proposal("app", "web-1", "app/Deployment/web", "app/web", "n1", "n2", "Rebalance", 0.05, 0.05, 0.0, 1.5, "why")
    body = migration_body(p, approved=False)
    spec = MigrationSpec.model_validate(body["spec"])
    assert (spec.pod_name, spec.target_node, spec.approved, spec.reason) == ("web-1", "n2", False, "Rebalance")
    assert spec.expected_gain is not None and spec.expected_gain.kind == "NodeLoadStdDev"
    assert body["metadata"]["labels"] == {"augur.dev/created-by": "rebalancer"}
    hard = migration_body(replace(p, reason="HardRule", gain=0.0), approved=True)
    spec = MigrationSpec.model_validate(hard["spec"])
    assert spec.reason == "HardRule" and spec.expected_gain is None  # made to restore a rule, not for a gain


def _profile(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "app"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "selector": "app=web",
            "dependencies": [{"name": "db", "traffic": 3}],
        },
        "status": status,
    }


def test_profile_rules_pods_and_forecast_growth() -> None:
    peak_at = datetime.fromtimestamp(NOW.timestamp() + 300, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "demand": 100.0,
        "currentReplicas": 2,
        "desiredReplicas": 2,
        "forecast": {"peakUpper": 300.0, "peakAt": peak_at, "nextScaleUp": {"at": peak_at, "replicas": 4}},
    }
    selected: list[tuple[str, str]] = []

    def select(ns: str, selector: str) -> set[str]:
        selected.append((ns, selector))
        return {"web-1", "web-2"}

    prof = profile(_profile(status), select, NOW, lead_time=600)
    assert prof is not None and selected == [("app", "app=web")]
    assert prof.key == "app/web" and prof.pods == frozenset({"app/web-1", "app/web-2"})
    assert prof.rules.dependencies[0].peer == "app/db" and prof.rules.dependencies[0].traffic == 3
    # three times the demand, spread over twice the replicas: each pod carries 1.5 times what it does now
    assert prof.growth == 1.5
    # a peak beyond the lead time does not count
    assert profile(_profile(status), select, NOW, lead_time=60).growth is None  # type: ignore[union-attr]
    assert profile(_profile({"demand": 0.0}), select, NOW, lead_time=600).growth is None  # type: ignore[union-attr]
    # the growth reaches the snapshot as the pod's forecast cores
    snap = build_snapshot(RebalancePolicySpec(), [node("n1")], [pod("web-1", "n1"), pod("web-2", "n1")], [prof],
                          TopologyModel(), ZONES, [], None, NOW)  # fmt: skip
    assert [p.cpu_forecast for p in snap.pods] == [0.75, 0.75] and snap.pods[0].workload == "app/web"


def test_the_latest_finished_move_on_these_nodes() -> None:
    """With measured load the rebalancer waits after the last move; only moves that acted count, and only
    those touching the policy's nodes."""

    def done(name: str, minutes_ago: int, source: str, target: str, acted: bool = True) -> dict[str, Any]:
        at = datetime.fromtimestamp(NOW.timestamp() - 60 * minutes_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = {"phase": "Succeeded", "completionTime": at, "sourceNode": source, "destinationNode": target}
        if acted:
            status["startTime"] = at
        return {
            "metadata": {"namespace": "app", "name": name, "creationTimestamp": at},
            "spec": {"podName": name, "targetNode": target, "approved": True},
            "status": status,
        }

    items = [done("old", 30, "n1", "n2"), done("other-pool", 1, "x1", "x2"), done("never-acted", 0, "n1", "n2", False)]
    snap = build_snapshot(
        RebalancePolicySpec(),
        [node("n1"), node("n2")],
        [pod("web-1", "n1")],
        [],
        TopologyModel(),
        ZONES,
        items,
        None,
        NOW,
    )
    assert snap.last_finished == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    assert snap.in_flight == 0
