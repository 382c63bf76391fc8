"""score_unfiltered: what a scheduler that never calls the filter verb gets for workloads with hard rules."""

from __future__ import annotations

from augur.placement import (
    DependencyRule,
    NodeInfo,
    PeerPlacement,
    PodInfo,
    Snapshot,
    WorkloadRules,
    filter_nodes,
    has_hard_rules,
    normalize,
    score_nodes,
    score_unfiltered,
    steer,
)


def test_failing_nodes_score_zero_and_the_others_are_normalized_among_themselves(nodes: list[NodeInfo]) -> None:
    # web talks to db on b1: without the rule b1 (same node) would score highest
    rules = WorkloadRules(
        "web", dependencies=(DependencyRule("db", 100.0),), avoid_zones=frozenset({"b"}), required_avoidance=True
    )
    snap = Snapshot.build(nodes, placements=[PeerPlacement("db", "b1")], rules=[rules])
    pod = PodInfo("w", workload="web")
    plain, unfiltered = score_nodes(pod, snap), score_unfiltered(pod, snap)
    scores = dict(zip(unfiltered.nodes, unfiltered.scores.tolist(), strict=True))
    assert dict(zip(plain.nodes, plain.scores.tolist(), strict=True))["b1"] == 10
    assert set(filter_nodes(pod, snap).failed) == {"b1"}
    assert scores["b1"] == 0
    passing = [i for i, n in enumerate(plain.nodes) if n != "b1"]
    expected = [max(s, 1) for s in normalize(plain.total[passing]).tolist()]
    assert [scores[plain.nodes[i]] for i in passing] == expected
    assert 0 in normalize(plain.total[passing]).tolist()  # the worst passing node still beats b1
    assert max(scores[plain.nodes[i]] for i in passing) == 10
    assert unfiltered.total.tolist() == plain.total.tolist()  # the breakdown stays the components' own


def test_same_as_score_nodes_without_hard_rules_or_failures(nodes: list[NodeInfo]) -> None:
    soft = WorkloadRules("web", avoid_zones=frozenset({"b"}))
    far = WorkloadRules("api", dependencies=(DependencyRule("db", 1.0, max_distance=100),))
    snap = Snapshot.build(nodes, placements=[PeerPlacement("db", "a1")], rules=[soft, far])
    assert not has_hard_rules(soft) and has_hard_rules(far) and not has_hard_rules(None)
    for workload in ("web", "api", None):
        pod = PodInfo("p", workload=workload)
        assert score_unfiltered(pod, snap).scores.tolist() == score_nodes(pod, snap).scores.tolist()


def test_only_failing_nodes_among_the_requested_ones(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", avoid_nodes=frozenset({"c1"}), required_avoidance=True)
    snap = Snapshot.build(nodes, rules=[rules])
    result = score_unfiltered(PodInfo("w", workload="web"), snap, ["c1", "ghost", "a1"])
    assert result.nodes == ("c1", "a1") and result.unknown == ("ghost",)
    assert result.scores.tolist()[0] == 0


def test_steer_given_the_filters_verdicts_is_score_unfiltered(nodes: list[NodeInfo]) -> None:
    # /debug/explain filters once and steers with those verdicts; the scores must be prioritize's
    rules = WorkloadRules(
        "web", dependencies=(DependencyRule("db", 100.0),), avoid_zones=frozenset({"b"}), required_avoidance=True
    )
    snap = Snapshot.build(nodes, placements=[PeerPlacement("db", "b1")], rules=[rules])
    pod = PodInfo("w", workload="web")
    names = ["c1", "ghost", "b1", "a1"]
    plain = score_nodes(pod, snap, names)
    steered = steer(plain, filter_nodes(pod, snap, names).failed)
    assert steered.scores.tolist() == score_unfiltered(pod, snap, names).scores.tolist()
    assert steered.scores.tolist() != plain.scores.tolist()
    assert steer(plain, {"ghost": "unknown nodes are not scored"}) is plain
