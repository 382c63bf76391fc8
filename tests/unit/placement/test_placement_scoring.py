from __future__ import annotations

import numpy as np
import pytest

from augur.placement import (
    NEUTRAL_SCORE,
    DependencyRule,
    NodeInfo,
    PeerPlacement,
    PodInfo,
    Snapshot,
    WorkloadRules,
    normalize,
    score_nodes,
)
from augur.placement.config import ScoringConfig


def test_minmax_normalization_spans_zero_to_ten() -> None:
    assert normalize(np.array([20.0, 60.0, 40.0, 59.0])).tolist() == [0, 10, 5, 10]


def test_absolute_normalization_and_ties() -> None:
    assert normalize(np.array([0.0, 34.0, 100.0]), "Absolute").tolist() == [0, 3, 10]
    assert normalize(np.array([42.0, 42.0])).tolist() == [NEUTRAL_SCORE, NEUTRAL_SCORE]
    assert normalize(np.array([])).tolist() == []


def test_total_is_weighted_mean_and_breakdown_adds_up(nodes: list[NodeInfo]) -> None:
    rules = [WorkloadRules("web", dependencies=(DependencyRule("api", 10.0),), prefer_zones=frozenset({"b"}))]
    snap = Snapshot.build(nodes, placements=[PeerPlacement("api", "a1")], rules=rules)
    res = score_nodes(PodInfo("w", workload="web", cpu=1, memory=1), snap)
    cfg = ScoringConfig()
    for entry, total in zip(res.breakdown(), res.total.tolist(), strict=True):
        parts = entry["components"]
        assert set(parts) == {"load", "proximity", "affinity", "colocation", "spread", "packing", "plan"}
        assert sum(p["contribution"] for p in parts.values()) == pytest.approx(total, abs=0.01)
        assert parts["proximity"]["weight"] == cfg.proximity.weight
    assert res.best() == "a1"
    assert max(res.scores.tolist()) == 10


def test_unknown_nodes_get_neutral_scores(nodes: list[NodeInfo]) -> None:
    snap = Snapshot.build(nodes)
    res = score_nodes(PodInfo("p"), snap, ["ghost", "a1"])
    assert res.nodes == ("a1",)
    assert dict(res.host_priorities())["ghost"] == NEUTRAL_SCORE


def test_pod_without_workload_scored_on_load_only(nodes: list[NodeInfo]) -> None:
    nodes[2] = NodeInfo("b1", "b", "east", cpu=8, memory=32, cpu_requested=7)
    res = score_nodes(PodInfo("p", cpu=1), Snapshot.build(nodes))
    assert res.scores.tolist()[2] == 0
    assert len(set(res.components["proximity"].tolist())) == 1
