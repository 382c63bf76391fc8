from __future__ import annotations

import numpy as np

from augur.placement import DistanceLevels, NodeInfo, NodeTable, TopologyModel
from augur.placement.distance import distance_sums, nearest, pairwise


def test_levels_apply_by_how_far_apart_nodes_are(nodes: list[NodeInfo]) -> None:
    topo = TopologyModel()
    a1, a2, b1, c1 = nodes
    assert topo.distance(a1, a1) == 0
    assert topo.distance(a1, a2) == 10
    assert topo.distance(a1, b1) == 40
    assert topo.distance(a1, c1) == 100


def test_overrides_take_precedence_node_then_zone_then_region(nodes: list[NodeInfo]) -> None:
    a1, a2, b1, c1 = nodes
    topo = TopologyModel.build(
        zones={"b|a": 20, "c|c": 5},
        regions={"east|west": 70},
        nodes={"a1|c1": 3},
    )
    assert topo.distance(a1, b1) == 20  # zone override, written in either order
    assert topo.distance(a2, c1) == 70  # region override
    assert topo.distance(c1, a1) == 3  # node override wins over the region override
    assert topo.zone_distance("c", "west", "c", "west") == 5  # a|a replaces the level inside the zone


def test_effective_zone_matrix_is_symmetric() -> None:
    topo = TopologyModel.build(zones={"a|b": 25})
    m = topo.zone_matrix(["a", "b", "c"], {"a": "east", "b": "east", "c": "west"})
    assert m.tolist() == [[10, 25, 100], [25, 10, 100], [100, 100, 10]]


def test_validation_reports_every_error() -> None:
    topo = TopologyModel.build(
        DistanceLevels(same_node=-1, same_zone=50, same_region=40, cross_region=101), zones={"a|b": 300}
    )
    errors = {e.path: e.message for e in topo.validate()}
    assert set(errors) == {
        "distances.levels.sameNode",
        "distances.levels.crossRegion",
        "distances.levels",
        "distances.zones[a|b]",
    }
    assert "must not decrease" in errors["distances.levels"]


def _random_cluster(rng: np.random.Generator) -> tuple[NodeTable, list[NodeInfo]]:
    nodes = [
        NodeInfo(f"n{i}", zone=f"z{rng.integers(4)}", region=f"r{rng.integers(2)}", cpu=4, memory=8) for i in range(12)
    ]
    # make zone -> region consistent
    nodes = [NodeInfo(n.name, n.zone, f"r{int(n.zone[1]) % 2}", 4, 8) for n in nodes]
    topo = TopologyModel.build(zones={"z0|z1": 17}, nodes={"n0|n3": 77, "n5|n5": 2, "n2|n7": 1})
    return NodeTable.build(nodes, topo), nodes


def test_vectorized_sums_and_nearest_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        table, _ = _random_cluster(rng)
        nodes = list(table.nodes)  # the table sorts nodes by name
        cand = np.arange(len(nodes), dtype=np.int64)
        peer = np.array(sorted(rng.choice(len(nodes), size=4, replace=False)), dtype=np.int64)
        weight = rng.integers(1, 4, size=4).astype(np.float64)
        brute = np.array([[table.topology.distance(nodes[i], nodes[j]) for j in peer] for i in cand], dtype=np.float64)
        np.testing.assert_allclose(pairwise(table, cand, peer), brute)
        np.testing.assert_allclose(distance_sums(table, cand, peer, weight), brute @ weight)
        np.testing.assert_allclose(nearest(table, cand, peer), brute.min(axis=1))


def test_subset_of_candidates_keeps_request_order(nodes: list[NodeInfo]) -> None:
    table = NodeTable.build(nodes, TopologyModel())
    cand, unknown = table.resolve(["c1", "ghost", "a1"])
    assert cand.tolist() == [3, 0]
    assert unknown == ["ghost"]
    sums = distance_sums(table, cand, np.array([1]), np.array([2.0]))
    assert sums.tolist() == [200.0, 20.0]
