"""Health, metrics, debug endpoints and the cache's bookkeeping."""

from __future__ import annotations

import gc
import threading
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from augur.api.quantity import quantity
from augur_extender.app import create_app
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.gcfreeze import freeze_when_synced
from augur_extender.selector import parse_selector
from augur_extender.settings import Settings

from .extender_objects import ZONES, fill, node, pod, profile


def test_health_and_readiness_follow_the_cache() -> None:
    cache = MemoryCache()
    settings = Settings()
    with TestClient(create_app(settings, ExtenderState.build(cache, settings))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 503
        fill(cache)
        assert client.get("/readyz").status_code == 200


def test_metrics_expose_latency_histogram_per_verb(client: TestClient) -> None:
    args = {"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)}
    client.post("/prioritize", json=args)
    client.post("/filter", json=args)
    client.post("/filter", content=b"nope")
    text = client.get("/metrics").text
    assert 'augur_extender_request_duration_seconds_count{verb="prioritize"} 1.0' in text
    assert 'augur_extender_request_duration_seconds_count{verb="filter"} 1.0' in text
    assert 'augur_extender_requests_total{outcome="bad_request",verb="filter"} 1.0' in text
    assert "augur_extender_cache_nodes 4.0" in text


def test_debug_explain_returns_breakdown_best_first(client: TestClient) -> None:
    body = client.post("/debug/explain", json={"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)}).json()
    assert body["workload"] == "shop/web"
    nodes = body["nodes"]
    assert nodes[0]["node"] == "b1"
    assert set(nodes[0]["components"]) == {"load", "proximity", "affinity", "colocation", "spread", "packing", "plan"}
    assert nodes[0]["components"]["proximity"]["raw"] == 100.0
    assert {n["node"]: n["filteredOut"] for n in nodes}["c1"].startswith("zone c is avoided")


def test_debug_explain_says_how_hard_rules_act_and_scores_as_prioritize_does(client: TestClient) -> None:
    """Without a filter call (the shipped configuration) hard rules steer: the failing node scores 0, as in
    ``prioritize``; once kube-scheduler has called the filter verb, they are said to filter."""
    args = {"Pod": pod("web-0", "web"), "NodeNames": list(ZONES)}
    steered = client.post("/debug/explain", json=args).json()
    assert steered["hardRules"] == "steered"
    assert {n["node"]: n["score"] for n in steered["nodes"]}["c1"] == 0
    prioritized = {h["Host"]: h["Score"] for h in client.post("/prioritize", json=args).json()}
    assert {n["node"]: n["score"] for n in steered["nodes"]} == prioritized
    client.post("/filter", json=args)
    assert client.post("/debug/explain", json=args).json()["hardRules"] == "filtered"
    other = client.post("/debug/explain", json={"Pod": pod("api-0", "api"), "NodeNames": list(ZONES)}).json()
    assert other["workload"] == "shop/api" and other["hardRules"] is None


def test_debug_cached_pod_and_404(client: TestClient) -> None:
    body = client.get("/debug/pods/shop/web-0").json()
    assert body["nodes"][0]["node"] == "b1"
    assert client.get("/debug/pods/shop/nope").status_code == 404


def test_cache_counts_requests_and_workloads() -> None:
    cache = MemoryCache()
    fill(cache)
    view = cache.view()
    table = view.snapshot.table
    assert table.cpu_requested[table.position["b1"]] == 1.0
    assert view.snapshot.occupancy.nodes_of("shop/api") == {"b1": 2}
    cache.apply("pods", "DELETED", pod("api-1", "api", "b1"))
    view = cache.view()
    assert view.snapshot.occupancy.nodes_of("shop/api") == {"b1": 1}
    assert view.snapshot.table.cpu_requested[table.position["b1"]] == 0.5
    # a profile change re-maps the pods
    cache.apply("workloadprofiles", "DELETED", profile("api", {}))
    assert cache.view().snapshot.occupancy.nodes_of("shop/api") == {}


def test_topology_labels_and_overrides_come_from_the_network_topology() -> None:
    cache = MemoryCache()
    fill(cache)
    cache.apply(
        "networktopologies",
        "MODIFIED",
        {
            "metadata": {"name": "default"},
            "spec": {"overrides": [{"scope": "Zone", "from": "a", "to": "b", "distance": 15}]},
        },
    )
    topo = cache.view().snapshot.table.topology
    assert topo.zone_distance("a", "east", "b", "east") == 15


def test_selector_and_quantities() -> None:
    sel = parse_selector("app=web, tier in (front,edge),!legacy,env!=dev")
    assert sel.matches({"app": "web", "tier": "edge"})
    assert not sel.matches({"app": "web", "tier": "edge", "legacy": "1"})
    assert not sel.matches({"app": "web", "tier": "back"})
    assert not parse_selector("").matches({"app": "web"})
    assert quantity("500m") == 0.5
    assert quantity("2Gi") == 2 * 2**30
    assert quantity(3) == 3.0


def test_cache_learns_replica_counts_and_pod_sizes_for_packing() -> None:
    cache = MemoryCache()
    fill(cache)
    web = profile("web", {"dependencies": [{"name": "api", "traffic": 100}]}, selector="app=web")
    web["status"] = {"desiredReplicas": 3}
    cache.apply("workloadprofiles", "MODIFIED", web)
    rules = cache.view().snapshot.rulebook.get("shop/web")
    assert rules is not None
    assert rules.replicas == 3
    assert rules.pod_cpu == pytest.approx(0.5)  # from the pending web-0 pod's requests
    cache.apply("pods", "ADDED", pod("web-1", "web", "a1", cpu="2"))
    resized = cache.view().snapshot.rulebook.get("shop/web")
    assert resized is not None and resized.pod_cpu == pytest.approx(2.0)


def test_a_profile_status_write_that_changes_nothing_keeps_the_view_and_the_node_table() -> None:
    """The operator writes status often: an unchanged profile must not rebuild anything (a new node table
    would also force a full re-plan); a changed replica count rebuilds the rule book only."""
    cache = MemoryCache()
    fill(cache)
    web = profile("web", {"dependencies": [{"name": "api", "traffic": 100}]}, selector="app=web")
    cache.apply("workloadprofiles", "MODIFIED", web)
    view = cache.view()
    cache.apply("workloadprofiles", "MODIFIED", {**web, "status": {"observedGeneration": 3}})
    assert cache.view() is view
    cache.apply("workloadprofiles", "MODIFIED", {**web, "status": {"desiredReplicas": 4}})
    after = cache.view()
    assert after is not view and after.snapshot.table.memo is view.snapshot.table.memo
    assert after.snapshot.rulebook.get("shop/web").replicas == 4  # type: ignore[union-attr]
    np.testing.assert_array_equal(after.snapshot.table.cpu_requested, view.snapshot.table.cpu_requested)


def test_the_template_size_in_status_sizes_a_workload_until_one_of_its_pods_is_seen() -> None:
    """With ``podRequestsFromStatus`` (the default), ``status.podRequests`` (the operator reads the target's pod
    template) makes a workload plannable before its first pod exists; a pod seen wins (admission may change
    what the template asks for); a malformed or CPU-less entry is ignored. Without it the status is not read
    and a status write that only changes it leaves the rule book alone."""
    off = MemoryCache(pod_requests_from_status=False)
    fill(off)
    db = profile("db", {}, selector="app=db")
    off.apply("workloadprofiles", "MODIFIED", {**db, "status": {"desiredReplicas": 2}})
    before = off.view().snapshot.rulebook
    sizes = {"podRequests": {"cpu": "1500m", "memory": "524288Ki"}}
    off.apply("workloadprofiles", "MODIFIED", {**db, "status": {"desiredReplicas": 2, **sizes}})
    assert off.view().snapshot.rulebook is before
    rules = before.get("shop/db")
    assert rules is not None and (rules.replicas, rules.pod_cpu, rules.pod_memory) == (2, None, None)

    cache = MemoryCache()
    fill(cache)

    def sized(status: dict[str, Any]) -> tuple[float | None, float | None]:
        cache.apply("workloadprofiles", "MODIFIED", {**db, "status": {"desiredReplicas": 2, **status}})
        rules = cache.view().snapshot.rulebook.get("shop/db")
        assert rules is not None and rules.replicas == 2
        return rules.pod_cpu, rules.pod_memory

    assert sized({}) == (None, None)
    assert sized({"podRequests": {"cpu": "1500m", "memory": "524288Ki"}}) == (1.5, 0.5)
    assert sized({"podRequests": {"cpu": "lots", "memory": "1Gi"}}) == (None, None)
    assert sized({"podRequests": {"cpu": "0m", "memory": "1Gi"}}) == (None, None)
    sized({"podRequests": {"cpu": "1500m", "memory": "524288Ki"}})
    cache.apply("pods", "ADDED", pod("db-0", "db", cpu="2"))
    rules = cache.view().snapshot.rulebook.get("shop/db")
    assert rules is not None and (rules.pod_cpu, rules.pod_memory) == (2.0, 1.0)


def test_a_bind_keeps_the_rule_book_and_a_node_heartbeat_keeps_the_view() -> None:
    """kube-scheduler binds pods the cache saw pending: the workload's pod count and expected replicas do not
    change, so the rule book (and what views reuse from it) stays; the node's requests move. A node status
    write that changes nothing placement reads keeps the view and the node table (no full re-plan)."""
    cache = MemoryCache()
    fill(cache)
    before = cache.view()
    web0 = pod("web-0", "web")
    cache.apply("pods", "MODIFIED", {**web0, "spec": {**web0["spec"], "nodeName": "a1"}})
    after = cache.view()
    assert after is not before and after.snapshot.rulebook is before.snapshot.rulebook
    a1 = after.snapshot.table.position["a1"]
    assert after.snapshot.table.cpu_requested[a1] == pytest.approx(before.snapshot.table.cpu_requested[a1] + 0.5)
    assert dict(after.snapshot.occupancy.nodes_of("shop/web")) == {"a1": 1}
    cache.apply("pods", "MODIFIED", pod("web-0", "web", "a1", cpu="2"))  # resized: the rule book follows
    assert cache.view().snapshot.rulebook.get("shop/web").pod_cpu == pytest.approx(2.0)  # type: ignore[union-attr]

    view = cache.view()
    heartbeat = node("a1", *ZONES["a1"])
    heartbeat["status"]["conditions"] = [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z"}
    ]
    cache.apply("nodes", "MODIFIED", heartbeat)
    assert cache.view() is view
    cache.apply("nodes", "MODIFIED", node("a1", *ZONES["a1"], cpu="4"))
    grown = cache.view()
    assert grown is not view and grown.snapshot.table.cpu[grown.snapshot.table.position["a1"]] == pytest.approx(4.0)


def test_the_gc_freeze_waits_for_the_sync_and_gives_up_on_stop() -> None:
    cache = MemoryCache()
    stop = threading.Event()
    stop.set()
    assert not freeze_when_synced(cache, stop, poll=0.01)  # never synced: gives up, freezes nothing
    fill(cache)
    try:
        assert freeze_when_synced(cache, threading.Event(), poll=0.01)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
