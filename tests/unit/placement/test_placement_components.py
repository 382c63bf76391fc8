from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from augur.placement import (
    DependencyRule,
    NodeInfo,
    PeerPlacement,
    PodInfo,
    ScoringConfig,
    Snapshot,
    WorkloadRules,
    score_nodes,
)
from augur.placement.components.load import LoadArgs
from augur.placement.components.proximity import ProximityArgs
from augur.placement.config import ScoringConfig as Config


def only(component: str) -> ScoringConfig:
    """A config where only ``component`` has weight."""
    raw = {
        name: {"weight": 1.0 if name == component else 0.0}
        for name in ("load", "proximity", "affinity", "colocation", "spread", "packing")
    }
    return Config.from_dict(raw)


def raw_scores(result_components: dict[str, np.ndarray], name: str) -> list[float]:
    return [round(float(v), 6) for v in result_components[name]]


def test_load_prefers_free_capacity_including_the_pod(nodes: list[NodeInfo]) -> None:
    nodes[0] = NodeInfo("a1", "a", "east", cpu=8, memory=32, cpu_requested=6, memory_requested=16)
    snap = Snapshot.build(nodes)
    res = score_nodes(PodInfo("p", cpu=2, memory=0), snap, ["a1", "a2"], only("load"))
    # a1: cpu (6+2)/8 = 1.0, mem 16/32 = .5 -> 100*(1-.75) = 25; a2: cpu .25, mem 0 -> 87.5
    assert raw_scores(res.components, "load") == [25.0, 87.5]
    assert res.scores.tolist() == [0, 10]


def test_load_blends_measured_utilization_where_known(nodes: list[NodeInfo]) -> None:
    nodes[1] = NodeInfo("a2", "a", "east", cpu=8, memory=32, cpu_utilization=0.9)
    snap = Snapshot.build(nodes)
    cfg = Config(load=LoadArgs(utilization_weight=0.5))
    res = score_nodes(PodInfo("p"), snap, ["a1", "a2"], cfg)
    assert raw_scores(res.components, "load") == [100.0, pytest.approx(55.0)]


def test_load_counts_a_node_with_nothing_allocatable_as_full_and_reads_the_table_once(nodes: list[NodeInfo]) -> None:
    nodes[0] = NodeInfo("a1", "a", "east", cpu=0, memory=0)
    snap = Snapshot.build(nodes)
    first = score_nodes(PodInfo("p", cpu=1, memory=1), snap, ["a1", "a2"], only("load"))
    assert raw_scores(first.components, "load")[0] == 0.0 and raw_scores(first.components, "load")[1] > 0
    again = replace(snap, table=snap.table.with_requested(snap.table.cpu_requested + 1, snap.table.memory_requested))
    second = score_nodes(PodInfo("p", cpu=1, memory=1), again, ["a1", "a2"], only("load"))
    assert raw_scores(second.components, "load")[0] == 0.0
    assert raw_scores(second.components, "load")[1] < raw_scores(first.components, "load")[1]  # the new requests count


def _chatty(extra: WorkloadRules | None = None) -> list[WorkloadRules]:
    rules = [
        WorkloadRules("web", dependencies=(DependencyRule("api", 100.0),)),
        WorkloadRules("api", dependencies=(DependencyRule("db", 50.0),)),
    ]
    return rules + ([extra] if extra else [])


def test_proximity_is_traffic_weighted_mean_distance_to_peers(nodes: list[NodeInfo]) -> None:
    placements = [PeerPlacement("web", "a1", 2), PeerPlacement("db", "c1")]
    snap = Snapshot.build(nodes, placements=placements, rules=_chatty())
    res = score_nodes(PodInfo("api-0", workload="api"), snap, None, only("proximity"))
    # api talks to web (in-coming, 100) and db (out-going, 50)
    expected = {
        "a1": 100 - (100 * 0 + 50 * 100) / 150,
        "a2": 100 - (100 * 10 + 50 * 100) / 150,
        "b1": 100 - (100 * 40 + 50 * 100) / 150,
        "c1": 100 - (100 * 100 + 50 * 0) / 150,
    }
    got = dict(zip(res.nodes, res.components["proximity"].tolist(), strict=True))
    assert got == pytest.approx(expected)
    assert res.best() == "a1"


def test_proximity_is_neutral_without_running_peers(nodes: list[NodeInfo]) -> None:
    snap = Snapshot.build(nodes, rules=_chatty())
    res = score_nodes(PodInfo("web-0", workload="web"), snap, None, only("proximity"))
    assert set(res.components["proximity"].tolist()) == {100.0}
    assert set(res.scores.tolist()) == {5}


def test_affinity_bonus_and_penalty(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules(
        "web",
        prefer_zones=frozenset({"a"}),
        avoid_regions=frozenset({"west"}),
        avoid_nodes=frozenset({"a2"}),
        avoid_workloads=frozenset({"batch"}),
    )
    snap = Snapshot.build(nodes, placements=[PeerPlacement("batch", "b1")], rules=[rules])
    res = score_nodes(PodInfo("w", workload="web"), snap, None, only("affinity"))
    got = dict(zip(res.nodes, res.components["affinity"].tolist(), strict=True))
    assert got == {"a1": 100.0, "a2": 50.0, "b1": 0.0, "c1": 0.0}


def test_colocation_bonus_on_node_and_partial_in_zone(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", colocate_with=frozenset({"cache"}))
    snap = Snapshot.build(nodes, placements=[PeerPlacement("cache", "a1")], rules=[rules])
    res = score_nodes(PodInfo("w", workload="web"), snap, None, only("colocation"))
    assert res.components["colocation"].tolist() == [100.0, 25.0, 0.0, 0.0]


def test_spread_prefers_domains_with_fewer_replicas(nodes: list[NodeInfo]) -> None:
    placements = [PeerPlacement("web", "a1", 2), PeerPlacement("web", "b1", 1)]
    snap = Snapshot.build(nodes, placements=placements, rules=[WorkloadRules("web")])
    res = score_nodes(PodInfo("w", workload="web"), snap, None, only("spread"))
    assert res.components["spread"].tolist() == [0.0, 0.0, 50.0, 100.0]


def test_spread_by_hostname(nodes: list[NodeInfo]) -> None:
    rules = WorkloadRules("web", spread_topology_key="kubernetes.io/hostname")
    snap = Snapshot.build(nodes, placements=[PeerPlacement("web", "a1", 2)], rules=[rules])
    res = score_nodes(PodInfo("w", workload="web"), snap, None, only("spread"))
    assert res.components["spread"].tolist() == [0.0, 100.0, 100.0, 100.0]


def test_proximity_follows_pending_peers_several_hops_to_where_the_application_runs(nodes: list[NodeInfo]) -> None:
    # front -> gw -> api -> db; only db runs (on c1). gw and api have no pod yet, so front's expected
    # distance to gw goes through api to db: two hops of pending workloads.
    rules = [
        WorkloadRules("front", dependencies=(DependencyRule("gw", 10.0),)),
        WorkloadRules("gw", dependencies=(DependencyRule("api", 10.0),)),
        WorkloadRules("api", dependencies=(DependencyRule("db", 10.0),)),
        WorkloadRules("db"),
    ]
    snap = Snapshot.build(nodes, placements=[PeerPlacement("db", "c1")], rules=rules)
    far = Config.from_dict({**{n: {"weight": 0} for n in ("load", "affinity", "colocation", "spread", "packing")}})
    res = score_nodes(PodInfo("front-0", workload="front"), snap, None, far)
    got = dict(zip(res.nodes, res.components["proximity"].tolist(), strict=True))
    assert got == pytest.approx({"a1": 0.0, "a2": 0.0, "b1": 0.0, "c1": 100.0})
    one_hop = Config.from_dict({"proximity": {"pendingPeerHops": 1}})
    flat = score_nodes(PodInfo("front-0", workload="front"), snap, None, one_hop)
    assert set(flat.components["proximity"].tolist()) == {100.0}


def test_proximity_pulls_a_replica_to_its_siblings_through_a_pending_peer(nodes: list[NodeInfo]) -> None:
    rules = [WorkloadRules("web", dependencies=(DependencyRule("api", 50.0),)), WorkloadRules("api")]
    snap = Snapshot.build(nodes, placements=[PeerPlacement("web", "b1")], rules=rules)
    res = score_nodes(PodInfo("web-1", workload="web"), snap, None, only("proximity"))
    got = dict(zip(res.nodes, res.components["proximity"].tolist(), strict=True))
    assert got == pytest.approx({"a1": 60.0, "a2": 60.0, "b1": 100.0, "c1": 0.0})
    off = Config.from_dict({"proximity": {"pendingPeerFactor": 0}})
    assert set(score_nodes(PodInfo("web-1", workload="web"), snap, None, off).components["proximity"].tolist()) == {
        100.0
    }


def test_proximity_with_pending_peer_room_expects_a_peer_only_where_it_fits(nodes: list[NodeInfo]) -> None:
    """``pendingPeerRoom`` (off by default): a pending peer expected on a full node is expected on the fitting
    nodes nearest to it instead (b1 full: the zone-a nodes, 40 away); where part of its expected mass has room,
    only that part counts. Off: expected where its peer runs, full or not."""
    nodes[2] = NodeInfo("b1", zone="b", region="east", cpu=8, memory=32, cpu_requested=8)
    rules = [
        WorkloadRules("web", dependencies=(DependencyRule("api", 50.0),)),
        WorkloadRules("api", replicas=2, pod_cpu=1.0, pod_memory=1.0),
    ]
    snap = Snapshot.build(nodes, placements=[PeerPlacement("web", "b1")], rules=rules)
    room = replace(only("proximity"), proximity=ProximityArgs(weight=1.0, pending_peer_room=True))
    res = score_nodes(PodInfo("web-1", workload="web"), snap, None, room)
    got = dict(zip(res.nodes, res.components["proximity"].tolist(), strict=True))
    # api expected half on a1, half on a2: on a1, half its traffic at 0 and half at the same zone's 10
    assert got == pytest.approx({"a1": 95.0, "a2": 95.0, "b1": 60.0, "c1": 0.0})
    unmasked = replace(only("proximity"), proximity=ProximityArgs(weight=1.0, pending_peer_room=False))
    off = score_nodes(PodInfo("web-1", workload="web"), snap, None, unmasked).components["proximity"]
    assert off.tolist() == pytest.approx([60.0, 60.0, 100.0, 0.0])
    two = Snapshot.build(nodes, placements=[PeerPlacement("web", "b1"), PeerPlacement("web", "a1")], rules=rules)
    kept = score_nodes(PodInfo("web-2", workload="web"), two, None, room).components["proximity"].tolist()
    assert kept[0] == pytest.approx(100.0)  # api expected on a1 only (b1 has no room)


def test_packing_prefers_nodes_where_the_rest_of_the_group_fits() -> None:
    small = [NodeInfo("s", cpu=4, memory=32, cpu_requested=2), NodeInfo("big", cpu=8, memory=32)]
    rules = [
        WorkloadRules("web", dependencies=(DependencyRule("api", 1.0),), replicas=4, pod_cpu=1.0, pod_memory=0.0),
        WorkloadRules("api", replicas=2, pod_cpu=1.0, pod_memory=0.0),
    ]
    snap = Snapshot.build(small, placements=[PeerPlacement("web", "s")], rules=rules)
    cfg = Config.from_dict(
        {
            **{n: {"weight": 0} for n in ("load", "proximity", "affinity", "colocation", "spread")},
            "packing": {"weight": 1, "peerShare": 0.5, "contention": 0},
        }
    )
    res = score_nodes(PodInfo("web-1", workload="web", cpu=1.0), snap, None, cfg)
    # after this pod: 2 more web replicas + 0.5 (peerShare) * 2 api replicas = 3 cores still to come;
    # s has 4 allocatable - 2 requested - 1 for this pod = 1 core left.
    got = dict(zip(res.nodes, res.components["packing"].tolist(), strict=True))
    assert got == pytest.approx({"s": 100.0 * 1.0 / 3.0, "big": 100.0})
    unknown = Snapshot.build(small, rules=[WorkloadRules("web")])
    flat = score_nodes(PodInfo("web-0", workload="web", cpu=1.0), unknown, None, only("packing"))
    assert set(flat.components["packing"].tolist()) == {100.0}


def test_packing_leaves_a_contested_node_to_chattier_pending_services() -> None:
    # batch (100 traffic / (2 replicas * 1 core) = 50 per core) runs one pod on n1; api (100 / (2 * 0.5)
    # = 100 per core, no pod yet) is expected next to batch, on n1: its 1 core is reserved there.
    nodes = [
        NodeInfo("n1", zone="a", cpu=2.5, memory=32, cpu_requested=1.0),
        NodeInfo("n2", zone="a", cpu=8, memory=32),
    ]
    rules = [
        WorkloadRules("batch", replicas=2, pod_cpu=1.0, pod_memory=0.0),
        WorkloadRules("api", dependencies=(DependencyRule("batch", 100.0),), replicas=2, pod_cpu=0.5, pod_memory=0.0),
    ]
    snap = Snapshot.build(nodes, placements=[PeerPlacement("batch", "n1")], rules=rules)
    pod = PodInfo("batch-1", workload="batch", cpu=1.0)
    res = score_nodes(pod, snap, None, only("packing"))
    got = dict(zip(res.nodes, res.components["packing"].tolist(), strict=True))
    # n1: 1.5 cores free - 1 reserved = 0.5 of the pod's 1 core fits
    assert got == pytest.approx({"n1": 50.0, "n2": 100.0})
    off = Config.from_dict({"packing": {"contention": 0}})
    assert set(score_nodes(pod, snap, None, off).components["packing"].tolist()) == {100.0}
