"""Hard-rule moves: pods placed where their workload's hard rules say they must not run (no filter verb)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from augur.migration.hardrules import violations
from augur.migration.limits import Readings
from augur.migration.params import RebalanceParams
from augur.migration.rebalance import rebalance
from augur.migration.snapshot import ClusterSnapshot
from augur.migration.working import Working
from augur.placement import DependencyRule, WorkloadRules

from .test_rebalance import NOW, ONE_READING, moves, node, pod

WEB = WorkloadRules("ns/web", avoid_zones=frozenset({"z2"}), required_avoidance=True)


def cluster() -> ClusterSnapshot:
    """Even load over three big nodes; web-1 runs in zone z2, which web avoids with requiredAvoidance."""
    nodes = (node("a", cpu=100, zone="z1"), node("b", cpu=100, zone="z2"), node("c", cpu=100, zone="z3"))
    pods = (
        pod("web-0", "a", owner="ns/Deployment/web", workload="ns/web"),
        pod("web-1", "b", owner="ns/Deployment/web", workload="ns/web"),
        pod("other", "b"),
        pod("other-2", "c"),
    )
    return ClusterSnapshot(nodes=nodes, pods=pods, rules=(WEB,))


def test_a_pod_on_an_excluded_node_moves_to_a_passing_one_first() -> None:
    snap = cluster()
    assert [(p.name, why) for p, why in violations(Working(snap.canonical()))] == [
        ("web-1", "zone z2 is avoided by ns/web (requiredAvoidance)")
    ]
    result = rebalance(snap, ONE_READING, now=NOW)
    assert moves(result) == [("web-1", "b", "a", "HardRule")] or moves(result) == [("web-1", "b", "c", "HardRule")]
    (move,) = result.proposals
    assert move.gain == 0.0 and "HardRule" in result.triggered
    assert "zone z2 is avoided by ns/web" in move.explanation and move.target in move.explanation
    # applied, nothing is left to repair: the next run proposes nothing
    moved = tuple(replace(p, node=move.target) if p.name == "web-1" else p for p in snap.pods)
    assert rebalance(replace(snap, pods=moved), ONE_READING, now=NOW).proposals == ()


def test_soft_rules_and_unmovable_pods_are_left_alone() -> None:
    soft = replace(cluster(), rules=(replace(WEB, required_avoidance=False),))
    assert list(violations(Working(soft.canonical()))) == []
    assert rebalance(soft, ONE_READING, now=NOW).proposals == ()
    pinned = cluster()
    pinned = replace(
        pinned, pods=tuple(replace(p, blocked="local storage") if p.name == "web-1" else p for p in pinned.pods)
    )
    result = rebalance(pinned, ONE_READING, now=NOW)
    assert result.proposals == ()
    assert any("web-1 breaks its workload's hard rules" in n and "local storage" in n for n in result.notes)


def test_no_passing_node_with_room_is_reported_not_forced() -> None:
    full = replace(
        cluster(), nodes=(node("a", cpu=0.6, zone="z1"), node("b", cpu=100, zone="z2"), node("c", cpu=0.6, zone="z2"))
    )
    result = rebalance(full, RebalanceParams(readings=99), now=NOW)
    assert result.proposals == ()
    assert any("no node that passes has room" in n for n in result.notes)


def test_max_distance_counts_as_a_hard_rule() -> None:
    rules = (
        WorkloadRules("ns/web", dependencies=(DependencyRule("ns/db", 1.0, max_distance=10),)),
        WorkloadRules("ns/db"),
    )
    nodes = (node("a", cpu=100, zone="z1", region="r1"), node("b", cpu=100, zone="z2", region="r2"))
    pods = (
        pod("db-0", "a", owner="ns/StatefulSet/db", workload="ns/db"),
        pod("web-0", "b", owner="ns/Deployment/web", workload="ns/web"),
        pod("web-1", "a", owner="ns/Deployment/web", workload="ns/web"),
    )
    result = rebalance(ClusterSnapshot(nodes=nodes, pods=pods, rules=rules), RebalanceParams(readings=99), now=NOW)
    assert moves(result) == [("web-0", "b", "a", "HardRule")]


def test_a_pod_is_judged_after_the_moves_made_before_it() -> None:
    """a and b each avoid the other's workload with requiredAvoidance and share node n1: moving the first
    (a-0) ends both breaches, so b-0 stays (one eviction, not two), though n3 would pass its rules."""
    rules = (
        WorkloadRules("ns/a", avoid_workloads=frozenset({"ns/b"}), required_avoidance=True),
        WorkloadRules("ns/b", avoid_workloads=frozenset({"ns/a"}), required_avoidance=True),
    )
    nodes = (node("n1", cpu=100), node("n2", cpu=100), node("n3", cpu=100))
    pods = (
        pod("a-0", "n1", owner="ns/Deployment/a", workload="ns/a"),
        pod("b-0", "n1", owner="ns/Deployment/b", workload="ns/b"),
    )
    snap = ClusterSnapshot(nodes=nodes, pods=pods, rules=rules)
    assert [p.name for p, _ in violations(Working(snap.canonical()))] == ["a-0", "b-0"]  # both, judged alone
    result = rebalance(snap, RebalanceParams(readings=99), now=NOW)
    assert [(p, src, r) for p, src, _, r in moves(result)] == [("a-0", "n1", "HardRule")]
    assert not any("b-0" in n for n in result.notes)


def test_the_source_node_limit_holds_hard_rule_moves_too() -> None:
    result = rebalance(cluster(), replace(RebalanceParams(readings=99), max_per_node=0), now=NOW)
    assert result.proposals == ()
    assert any("web-1 breaks its workload's hard rules" in n and "maxMovesPerNode" in n for n in result.notes)


def test_hard_rules_are_repaired_during_the_settle_time_but_not_during_a_wave() -> None:
    """With measured load, the settle time after a move holds load moves back (the figures still show the
    moved pod on its source) but not a hard-rule move, which reads no load; a move in progress holds both."""
    base = cluster()
    used = {"a": 0.0, "b": 80.0, "c": 0.0}
    nodes = tuple(replace(n, cpu_used=used[n.name]) for n in base.nodes)
    pods = tuple(replace(p, cpu_used=40.0 if p.node == "b" else 0.0) for p in base.pods)
    snap = replace(base, nodes=nodes, pods=pods, measured=True, last_finished=NOW - timedelta(seconds=100))
    settling = rebalance(snap, replace(ONE_READING, settle=150.0), Readings(5, 0), now=NOW)
    assert [(p, src, r) for p, src, _, r in moves(settling)] == [("web-1", "b", "HardRule")]
    assert settling.readings == Readings() and settling.triggered == ("HardRule",)
    assert settling.notes[0] == "waiting 50 s more for the measured load to show the last move (load.settleTime)"
    settled = rebalance(snap, replace(ONE_READING, settle=150.0), now=NOW + timedelta(seconds=60))
    assert "Rebalance" in settled.triggered  # the same spread moves load once the settle time is over
    in_flight = rebalance(replace(snap, in_flight=1), replace(ONE_READING, settle=150.0), now=NOW)
    assert in_flight.proposals == () and in_flight.notes == ("waiting for 1 move(s) in progress to finish",)
