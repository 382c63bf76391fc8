from __future__ import annotations

from augur.placement import (
    DependencyRule,
    NodeInfo,
    PeerPlacement,
    PodInfo,
    Snapshot,
    TopologyModel,
    WorkloadRules,
    filter_nodes,
)


def test_required_avoidance_fails_nodes_with_a_reason_each(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules(
        "web",
        avoid_zones=frozenset({"b"}),
        avoid_regions=frozenset({"west"}),
        avoid_nodes=frozenset({"a2"}),
        avoid_workloads=frozenset({"batch"}),
        required_avoidance=True,
    )
    snap = Snapshot.build(nodes, placements=[PeerPlacement("batch", "b1")], rules=[rules])
    res = filter_nodes(PodInfo("w", workload="web"), snap)
    assert res.passed == ("a1",)
    assert res.failed["a2"] == "node a2 is avoided by web (requiredAvoidance)"
    assert res.failed["c1"] == "region west is avoided by web (requiredAvoidance)"
    assert res.failed["b1"] == (
        "zone b is avoided by web (requiredAvoidance); node runs batch, avoided by web (requiredAvoidance)"
    )


def test_soft_avoidance_filters_nothing(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", avoid_zones=frozenset({"b"}))
    res = filter_nodes(PodInfo("w", workload="web"), Snapshot.build(nodes, rules=[rules]))
    assert res.failed == {}
    assert res.passed == ("a1", "a2", "b1", "c1")


def test_max_distance_to_a_dependency(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", dependencies=(DependencyRule("db", 1.0, max_distance=40),))
    snap = Snapshot.build(nodes, TopologyModel(), [PeerPlacement("db", "a1")], [rules])
    res = filter_nodes(PodInfo("w", workload="web"), snap, ["c1", "b1", "a2"])
    assert res.passed == ("b1", "a2")
    assert res.failed == {"c1": "distance 100 to the nearest db pod exceeds maxDistance 40"}


def test_max_distance_without_running_peers_allows_everything(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", dependencies=(DependencyRule("db", 1.0, max_distance=0),))
    res = filter_nodes(PodInfo("w", workload="web"), Snapshot.build(nodes, rules=[rules]))
    assert res.failed == {}


def test_unknown_nodes_pass_through(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", avoid_zones=frozenset({"a"}), required_avoidance=True)
    res = filter_nodes(PodInfo("w", workload="web"), Snapshot.build(nodes, rules=[rules]), ["ghost", "a1"])
    assert res.passed == ("ghost",)
    assert res.unknown == ("ghost",)
    assert set(res.failed) == {"a1"}
