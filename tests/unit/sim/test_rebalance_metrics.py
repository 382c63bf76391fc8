"""Figures of a rebalancing run, computed by hand on tiny inputs."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest

from augur.sim.placement import parse_scenario
from augur.sim.placement.scenario import Scenario
from augur.sim.rebalance_bound import bound_by_evictions, levelled_stddev
from augur.sim.rebalance_metrics import (
    HealthSample,
    PodEvent,
    balance_bound,
    balance_by_evictions,
    bound_fields,
    churn,
    converge_seconds,
    evictions,
    evictions_to_reach,
    late_evictions,
    ping_pong,
    placement_figures,
    placement_pairs,
    pod_deletions,
    run_figures,
    spread,
    summarize,
    violations,
)

# two 4-core nodes in different regions; a (1 core, 2 replicas) sends traffic 10 to b (1 core, 2 replicas)
SC = parse_scenario(
    {
        "nodes": [
            {"name": "n0", "zone": "z0", "region": "r0", "cpu": 4, "memory": 16},
            {"name": "n1", "zone": "z1", "region": "r1", "cpu": 4, "memory": 16},
        ],
        "distances": {"sameNode": 0, "sameZone": 10, "sameRegion": 40, "crossRegion": 100},
        "workloads": [
            {"name": "a", "replicas": 2, "cpu": 1, "memory": 1, "talksTo": {"b": 10}},
            {"name": "b", "replicas": 2, "cpu": 1, "memory": 1},
        ],
    }
)


def test_split_pairs_cost_the_full_cross_region_distance() -> None:
    # loads 2/4 and 2/4: no spread; every a-b pair crosses regions: 10 * (2*2*100) / (2*2) = 1000
    f = placement_figures(SC, [("a", "n0"), ("a", "n0"), ("b", "n1"), ("b", "n1")])
    assert f == {"load_stddev": 0.0, "network_cost": 1000.0, "max_node_load": 0.5, "min_node_load": 0.5, "pods": 4}


def test_mixed_and_stacked_placements() -> None:
    # one of each per node: pairs (n0,n0)=0, (n0,n1)=100, (n1,n0)=100, (n1,n1)=0 -> 10 * 200 / 4 = 500
    mixed = placement_figures(SC, [("a", "n0"), ("a", "n1"), ("b", "n0"), ("b", "n1")])
    assert mixed["network_cost"] == 500.0 and mixed["load_stddev"] == 0.0
    # all four on n0: loads 1.0 and 0.0 -> standard deviation 0.5, no network cost
    stacked = placement_figures(SC, [("a", "n0")] * 2 + [("b", "n0")] * 2)
    assert stacked["load_stddev"] == 0.5 and stacked["network_cost"] == 0.0


def test_unknown_workloads_and_unbound_pods_are_ignored() -> None:
    assert placement_figures(SC, [("a", "n0"), ("zzz", "n0"), ("a", "")])["pods"] == 1


def test_evictions_and_deletions_after_the_start() -> None:
    events = [
        PodEvent(-3.0, "evicted", "a", "n0", "a-old"),
        PodEvent(1.0, "evicted", "a", "n0", "a-1"),
        PodEvent(1.2, "bound", "a", "n1", "a-2"),
        PodEvent(2.0, "ready", "a", "n1", "a-2"),
        PodEvent(30.0, "evicted", "b", "n1", "b-1"),
        PodEvent(31.0, "evicted", "", "n1", "unlabelled"),  # no workload label: not counted
        PodEvent(31.0, "discarded", "b", "n0", "b-reservation"),  # never Ready: neither
        PodEvent(32.0, "deleted", "b", "n0", "b-surplus"),  # a Ready pod deleted without eviction
    ]
    assert evictions(events) == 2
    assert pod_deletions(events) == 3
    assert late_evictions(events, after=10.0) == 1
    assert converge_seconds(events) == 32.0
    assert converge_seconds([PodEvent(-1.0, "bound", "a", "n0", "x")]) == 0.0


def test_ping_pong_is_a_reversal_on_one_node() -> None:
    clean = [PodEvent(1.0, "evicted", "a", "n0", "a-1"), PodEvent(1.5, "bound", "a", "n1", "a-2")]
    assert ping_pong(clean) == 0
    # the replacement lands back on the node its pod was evicted from
    back = [*clean, PodEvent(3.0, "evicted", "a", "n0", "a-3"), PodEvent(3.5, "bound", "a", "n0", "a-4")]
    assert ping_pong(back) == 1
    # a pod moved in and later evicted again: one reversal on n1; events before the start don't count
    undo = [PodEvent(-5.0, "evicted", "b", "n1", "b-0"), *clean, PodEvent(9.0, "evicted", "a", "n1", "a-2")]
    assert ping_pong(undo) == 1 and churn(undo) == 0
    # other workloads on the same node are independent
    assert ping_pong([PodEvent(1.0, "evicted", "a", "n0", "x"), PodEvent(2.0, "bound", "b", "n0", "y")]) == 0


def test_churn_pods_are_counted_apart_from_ping_pong() -> None:
    events = [
        PodEvent(1.0, "evicted", "a", "n0", "a-1"),  # the evicted original
        PodEvent(1.2, "bound", "a", "n0", "a-surplus"),  # its controller's replacement, back on n0 ...
        PodEvent(1.8, "ready", "a", "n0", "a-surplus"),
        PodEvent(40.0, "deleted", "a", "n0", "a-surplus"),  # ... deleted as surplus (no eviction)
        PodEvent(0.5, "bound", "a", "n1", "a-reservation"),
        PodEvent(0.9, "ready", "a", "n1", "a-reservation"),
        PodEvent(6.0, "bound", "b", "n1", "b-placeholder"),
        PodEvent(9.0, "discarded", "b", "n1", "b-placeholder"),  # never Ready
    ]
    assert churn(events) == 2
    assert ping_pong(events) == 0
    assert (evictions(events), pod_deletions(events)) == (1, 2)


def test_violation_episodes() -> None:
    samples = [
        HealthSample(-1.0, "pdb/a", 0, 1),  # during setup: not counted
        HealthSample(1.0, "pdb/a", 1, 1),
        HealthSample(2.0, "pdb/a", 0, 1),
        HealthSample(3.0, "pdb/a", 0, 1),
        HealthSample(4.0, "pdb/a", 1, 1),
        HealthSample(5.0, "pdb/a", 0, 1),
        HealthSample(5.0, "deployment/b", 3, 3),
    ]
    episodes = violations(samples)
    assert [(e["name"], e["from"], e["to"], e["min_healthy"]) for e in episodes] == [
        ("pdb/a", 2.0, 3.0, 0),
        ("pdb/a", 5.0, 5.0, 0),
    ]


def test_run_figures_and_spread() -> None:
    before = [("a", "n0"), ("a", "n0"), ("b", "n1"), ("b", "n1")]
    after = [("a", "n0"), ("a", "n1"), ("b", "n0"), ("b", "n1")]
    events = [PodEvent(1.0, "evicted", "a", "n0", "a-1"), PodEvent(1.5, "bound", "a", "n1", "a-9")]
    row = run_figures(SC, before, after, events, [HealthSample(1.0, "pdb/a", 1, 1)])
    assert row["network_cost_change"] == -0.5
    assert row["load_stddev_change"] is None  # 0 before
    assert (row["evictions"], row["availability_violations"], row["ping_pong"]) == (1, 0, 0)
    assert row["placement_before"] == {"a": {"n0": 2}, "b": {"n1": 2}}
    assert placement_pairs(row["placement_before"]) == before
    assert spread([3, None, 1, 2]) == {"n": 3, "median": 2.0, "min": 1.0, "max": 3.0}
    assert spread([None])["median"] is None
    assert summarize([row, {**row, "evictions": 3}], "evictions")["max"] == 3.0
    assert summarize([row], "after.network_cost")["median"] == pytest.approx(500.0)


def test_balance_by_evictions_counts_only_settled_placements() -> None:
    # all four pods on n0 (stddev 0.5); a reservation for a-0 starts on n1 (5 pods: not settled), a-0 is
    # evicted (settled: 3/4 vs 1/4 -> 0.25); then a descheduler-like eviction of b-0 (3 pods: not settled)
    # and its replacement on n1 (settled: 0.0)
    events = [
        PodEvent(-2, "bound", "a", "n0", "a-0"),
        PodEvent(-2, "bound", "a", "n0", "a-1"),
        PodEvent(-2, "bound", "b", "n0", "b-0"),
        PodEvent(-2, "bound", "b", "n0", "b-1"),
        PodEvent(1, "bound", "a", "n1", "a-0-mig"),
        PodEvent(2, "evicted", "a", "n0", "a-0"),
        PodEvent(3, "bound", "a", "n1", "a-surplus"),
        PodEvent(3.1, "discarded", "a", "n1", "a-surplus"),
        PodEvent(5, "evicted", "b", "n0", "b-0"),
        PodEvent(6, "bound", "b", "n1", "b-2"),
    ]
    curve = balance_by_evictions(SC, events)
    assert curve == [0.5, 0.25, 0.0]
    assert evictions_to_reach(curve, 0.25) == 1 and evictions_to_reach(curve, 0.0) == 2
    assert evictions_to_reach([0.5], 0.1) is None


def bound_curve(sc: Scenario, before: list[tuple[str, str]], most: int = 30) -> list[float] | None:
    """The bound's curve alone (``balance_bound`` also says which bound it is)."""
    bound = balance_bound(sc, before, most)
    return None if bound is None else bound[0]


def test_balance_bound_levels_the_largest_pods_load() -> None:
    # all four 1-core pods on n0 (loads 1, 0): one eviction moves at most 0.25 (0.75, 0.25: stddev 0.25),
    # two level the nodes; no rebalancer can do better
    on_n0 = [("a", "n0"), ("a", "n0"), ("b", "n0"), ("b", "n0")]
    assert bound_curve(SC, on_n0) == [0.5, 0.25, 0.0, 0.0, 0.0]
    assert bound_curve(SC, on_n0, most=1) == [0.5, 0.25]
    # three nodes, two 1-core pods on n0 (0.5, 0, 0): a quarter moved and spread over both idle nodes
    # (0.25, 0.125, 0.125), below what one whole pod can reach (0.25, 0.25, 0)
    raw = {
        "nodes": [{"name": f"n{i}", "zone": f"z{i}", "region": "r0", "cpu": 4, "memory": 16} for i in range(3)],
        "workloads": [{"name": "a", "replicas": 2, "cpu": 1, "memory": 1}],
    }
    three = parse_scenario(raw)
    curve = bound_curve(three, [("a", "n0"), ("a", "n0")])
    assert curve is not None
    assert curve[1] == pytest.approx(np.std([0.25, 0.125, 0.125]), abs=1e-4)
    assert curve[1] < np.std([0.25, 0.25, 0.0])
    raw["nodes"][2]["cpu"] = 8
    assert bound_curve(parse_scenario(raw), [("a", "n0")]) is None  # unequal nodes


def test_balance_bound_evicts_whole_pods_from_the_nodes_they_run_on() -> None:
    # n0 holds eight half-core pods (load 1.0), n1 one 2-core pod (0.5), n2 nothing. Letting the largest
    # pod's CPU flow from anywhere, one eviction would level the nodes (0.5 each: stddev 0). But the 2-core
    # pod is not on the busiest node: one eviction either takes half a core off n0 (0.875, 0.5, 0.125) or
    # the 2 cores off n1 (1.0, then 0.25 and 0.25 at best): the first is the bound, and a move reaches it.
    raw = {
        "nodes": [{"name": f"n{i}", "zone": f"z{i}", "region": "r0", "cpu": 4, "memory": 16} for i in range(3)],
        "workloads": [
            {"name": "a", "replicas": 8, "cpu": 0.5, "memory": 0.25},
            {"name": "b", "replicas": 1, "cpu": 2, "memory": 1},
        ],
    }
    before = [("a", "n0")] * 8 + [("b", "n1")]
    curve = bound_curve(parse_scenario(raw), before)
    assert curve is not None and len(curve) == 10  # entries for 0..9 evictions (nine pods)
    assert curve[0] == pytest.approx(np.std([1.0, 0.5, 0.0]), abs=1e-4)
    assert curve[1] == pytest.approx(np.std([0.875, 0.5, 0.125]), abs=1e-4)
    assert curve == sorted(curve, reverse=True)
    # two evictions: 1 core off n0 onto n2 (0.75, 0.5, 0.25)
    assert curve[2] == pytest.approx(np.std([0.75, 0.5, 0.25]), abs=1e-4)


def test_balance_bound_falls_back_to_fractional_removals_when_there_are_too_many_choices() -> None:
    load = np.array([1.0, 0.5, 0.0])
    pods = [[0.125] * 8, [0.5], []]
    exact, kind = bound_by_evictions(load, pods, 3)
    assert kind == "whole pods"
    with patch("augur.sim.rebalance_bound.MOST_COMBINATIONS", 1):
        loose, kind = bound_by_evictions(load, pods, 3)
    assert kind == "fractional"
    assert loose[1] == pytest.approx(levelled_stddev(load, 0.5))  # the largest pod's CPU, from the top
    assert all(a <= b + 1e-12 for a, b in zip(loose, exact, strict=True))  # a bound, only looser


def test_a_runs_figures_say_which_bound_they_hold() -> None:
    on_n0 = [("a", "n0"), ("a", "n0"), ("b", "n0"), ("b", "n0")]
    assert bound_fields(SC, on_n0) == {
        "balance_bound_by_evictions": [0.5, 0.25, 0.0, 0.0, 0.0],
        "balance_bound_kind": "whole pods",
    }
    with patch("augur.sim.rebalance_bound.MOST_COMBINATIONS", 1):
        assert bound_fields(SC, on_n0)["balance_bound_kind"] == "fractional"
    figures = run_figures(SC, on_n0, on_n0, [], [])
    assert figures["balance_bound_kind"] == "whole pods"
