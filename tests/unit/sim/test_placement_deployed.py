"""The simulator as deployed: kube-scheduler's plugins, the extender's weight, seeded random ties and
independence of the order in which nodes are listed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from augur.cli.main import main
from augur.cli.placement import extender_model
from augur.placement import NodeInfo
from augur.placement.constants import SHIPPED_EXTENDER_FILTER, SHIPPED_EXTENDER_WEIGHT
from augur.placement.table import NodeTable
from augur.placement.topology import TopologyModel
from augur.sim.placement import (
    KubeModel,
    counts_of,
    network_cost,
    node_distances,
    parse_scenario,
    shuffled,
    simulate,
    simulate_augur_alone,
    simulate_default,
    simulate_deployed,
)
from augur.sim.placement.kube import KubeNodes, plugin_scores, with_extender
from augur.sim.placement.simulate import reordered

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "examples" / "scheduler" / "kube-scheduler-config.yaml"


def chain(nodes: int = 6, seed: int = 0) -> dict[str, Any]:
    """Four chatty services on identical nodes in three zones: many ties for the first pods."""
    return {
        "nodes": [
            {"name": f"n{i}", "zone": "abc"[i % 3], "region": "east" if i % 3 < 2 else "west", "cpu": 4, "memory": 16}
            for i in range(nodes)
        ],
        "workloads": [
            {"name": "web", "replicas": 3, "cpu": 1, "memory": 1, "talksTo": {"api": 50}},
            {"name": "api", "replicas": 3, "cpu": 1, "memory": 1, "talksTo": {"db": 80, "cache": 20}},
            {"name": "cache", "replicas": 2, "cpu": 0.5, "memory": 2},
            {"name": "db", "replicas": 2, "cpu": 1, "memory": 4},
        ],
        "seed": seed,
    }


def test_shuffled_node_order_gives_the_same_placements() -> None:
    sc = parse_scenario(chain())
    for run in (simulate_deployed, simulate_default):
        first = run(sc)
        for other in shuffled(sc, 3):
            assert [n.name for n in other.nodes] != [n.name for n in sc.nodes] or len(sc.nodes) < 3
            assert run(other).assignment == first.assignment
    report = simulate(sc, search_rounds=5, orders=3)
    assert {o["augur"] for o in report["orders"]} == {report["augur"]["network_cost"]}
    assert {o["default"] for o in report["orders"]} == {report["default"]["network_cost"]}


def test_ties_are_random_among_the_best_but_seeded() -> None:
    raw = {
        "nodes": [{"name": f"n{i}", "zone": "a", "cpu": 4, "memory": 8} for i in range(6)],
        "workloads": [{"name": "solo", "replicas": 1, "cpu": 1, "memory": 1}],
    }
    chosen = set()
    for seed in range(12):
        sc = replace(parse_scenario(raw), seed=seed)
        first = simulate_default(sc).assignment["solo-0"]
        assert simulate_default(sc).assignment["solo-0"] == first  # reproducible
        assert simulate_deployed(sc).assignment["solo-0"] == simulate_deployed(sc).assignment["solo-0"]
        chosen.add(first)
    assert len(chosen) >= 3  # uniformly at random among equal totals, not the first node listed


def test_kube_plugin_scores_by_hand() -> None:
    table = NodeTable.build(
        [NodeInfo("x", zone="a", cpu=4, memory=8), NodeInfo("y", zone="b", cpu=4, memory=8)], TopologyModel()
    )
    nodes = KubeNodes(table)
    nodes.add(0, 1.0, 2.0)
    cand = np.array([0, 1], dtype=np.int64)
    scores = plugin_scores(nodes, 1.0, 2.0, np.array([2.0, 0.0]), cand)
    # x: cpu (4000 - 2000) * 100 / 4000 = 50, memory (8 - 4) / 8 = 50; y: 75 and 75
    assert scores["NodeResourcesFit"].tolist() == [50, 75]
    assert scores["NodeResourcesBalancedAllocation"].tolist() == [100, 100]
    # spread: x has 2 own pods: round(2 ln 4 + 4 + 2 ln 4 + 2) = 12, y round(6) = 6 -> 100 (12 + 6 - s) / 12
    assert scores["PodTopologySpread"].tolist() == [50, 100]
    assert scores["TaintToleration"].tolist() == [100, 100]
    total = with_extender(np.array([10, 20]), np.array([10, 3]), KubeModel(extender_weight=5))
    assert total.tolist() == [10 + 10 * 5 * 10, 20 + 3 * 5 * 10]


def test_shipped_scheduler_config_weight_is_the_simulated_one() -> None:
    assert extender_model(yaml.safe_load(SHIPPED.read_text())).extender_weight == SHIPPED_EXTENDER_WEIGHT
    assert KubeModel().extender_weight == SHIPPED_EXTENDER_WEIGHT


def test_scenario_workloads_go_through_the_profile_converter() -> None:
    sc = parse_scenario(chain())
    api = next(r for r in sc.rules if r.key == "api")
    assert {d.peer: d.traffic for d in api.dependencies} == {"db": 80, "cache": 20}
    assert (api.replicas, api.pod_cpu) == (3, 1)
    raw = chain()
    raw["workloads"][0]["name"] = "Web_Frontend"
    raw["workloads"][1]["talksTo"] = {"db": 1}
    with pytest.raises(Exception, match="WorkloadProfile"):
        parse_scenario(raw)


def test_cli_seed_orders_and_scheduler_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(chain()))
    config = tmp_path / "sched.yaml"
    config.write_text(yaml.safe_dump({"extenders": [{"urlPrefix": "http://x", "prioritizeVerb": "p", "weight": 7}]}))
    args = ["placement", "simulate", str(scenario), "--json", "--rounds", "2", "--seed", "3"]
    assert main([*args, "--shuffle-nodes", "2", "--scheduler-config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["extender_weight"] == 7 and report["model"]["seed"] == 3
    assert report["model"]["extender_filter"] is False  # no filterVerb in this configuration
    assert len(report["orders"]) == 2
    assert set(report) >= {"augur", "augur_alone", "default", "best"}
    config.write_text("extenders: [{prioritizeVerb: p, weight: 0}]\n")
    assert main([*args, "--scheduler-config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "weight" in err


def test_pod_limit_is_a_filter_for_the_scheduler_and_a_bound_for_the_plan_and_the_best() -> None:
    """Tiny pods on two roomy nodes with ``pods: 4``: every run keeps at most 4 pods per node."""
    raw = {
        "nodes": [{"name": f"n{i}", "zone": "a", "cpu": 64, "memory": 256, "pods": 4} for i in range(3)],
        "workloads": [
            {"name": "web", "replicas": 4, "cpu": 0.1, "memory": 0.1, "talksTo": {"api": 100}},
            {"name": "api", "replicas": 4, "cpu": 0.1, "memory": 0.1},
        ],
    }
    sc = parse_scenario(raw)
    assert [n.max_pods for n in sc.nodes] == [4, 4, 4]
    for run in (simulate_deployed, simulate_default):
        out = run(sc)
        assert out.unplaced == 0
        assert max(list(out.assignment.values()).count(n) for n in ("n0", "n1", "n2")) <= 4
    report = simulate(sc, search_rounds=5, orders=1)
    assert report["best"]["unplaced"] == 0
    best = report["best"]["assignment"]
    assert max(list(best.values()).count(n) for n in ("n0", "n1", "n2")) == 4
    with pytest.raises(Exception, match="pods"):
        parse_scenario({**raw, "nodes": [{**raw["nodes"][0], "pods": -1}]})


def test_orders_renamed_by_position_are_reported_in_the_scenario_names() -> None:
    """``rename``: the shuffled nodes are renamed by position (their positions in the node table change);
    their placements come back in the scenario's names and cost exactly what the listed order costs: the
    planner and the ties work in a canonical order of what the nodes are, not of their names."""
    sc = parse_scenario(chain(nodes=9))
    report = simulate(sc, search_rounds=5, orders=2, rename=True)
    assert report["orders_renamed"] is True and len(report["orders"]) == 2
    for order in report["orders"]:
        assert order["augur"] == pytest.approx(report["augur"]["network_cost"], abs=1e-6)
        assert order["default"] == pytest.approx(report["default"]["network_cost"], abs=1e-6)
        assert order["augur"] >= report["best"]["network_cost"] - 1e-6
    with pytest.raises(ValueError, match="refers to nodes by name"):
        named = parse_scenario({**chain(), "distances": {"nodes": {"n0|n1": 5}}})
        simulate(named, search_rounds=0, orders=1, rename=True)


def test_renamed_and_shuffled_nodes_give_the_same_costs_on_uneven_nodes() -> None:
    """Nodes of two sizes in zones of different sizes, renamed by position and shuffled (six orders): the
    as-deployed, alone and default costs are the listed order's, within 10% required and equal in fact."""
    raw = chain(nodes=10, seed=4)
    for i, node in enumerate(raw["nodes"]):
        node["cpu"], node["memory"] = (8, 32) if i % 4 == 0 else (4, 16)
        node["zone"] = "abcd"[i % 4] if i < 8 else "a"
        node["region"] = "east" if node["zone"] in "ab" else "west"
    sc = parse_scenario(raw)
    distances = node_distances(sc)
    base = {run.__name__: run(sc) for run in (simulate_deployed, simulate_default, simulate_augur_alone)}
    cost = {k: network_cost(sc, counts_of(sc, o.assignment), distances) for k, o in base.items()}
    for other, back in reordered(sc, 6, rename=True):
        assert {n.name for n in other.nodes} != {n.name for n in sc.nodes}
        for run in (simulate_deployed, simulate_default, simulate_augur_alone):
            out = run(other)
            renamed = {pod: back[node] for pod, node in out.assignment.items()}
            c = network_cost(sc, counts_of(sc, renamed), distances)
            assert c <= 1.10 * cost[run.__name__] + 1e-6 and c >= cost[run.__name__] / 1.10 - 1e-6
            assert c == pytest.approx(cost[run.__name__], abs=1e-6)


def test_cli_rename_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(chain(nodes=9)))
    args = ["placement", "simulate", str(scenario), "--rounds", "2"]
    assert main([*args, "--json", "--shuffle-nodes", "2", "--rename-nodes"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["orders_renamed"] is True and len(report["orders"]) == 2
    assert {o["augur"] for o in report["orders"]} == {report["augur"]["network_cost"]}
    assert main([*args, "--shuffle-nodes", "1", "--rename-nodes"]) == 0
    assert "shuffled and renamed node orders" in capsys.readouterr().out
    assert main([*args, "--rename-nodes"]) == 2
    assert "--shuffle-nodes" in capsys.readouterr().err
    named = tmp_path / "named.yaml"
    named.write_text(yaml.safe_dump({**chain(), "distances": {"nodes": {"n0|n1": 5}}}))
    assert main(["placement", "simulate", str(named), "--shuffle-nodes", "1", "--rename-nodes"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "refers to nodes by name" in err


def test_example_scheduler_configs_are_the_simulated_models() -> None:
    shipped, hard = SHIPPED, SHIPPED.with_name("kube-scheduler-config-hard-rules.yaml")
    assert extender_model(yaml.safe_load(shipped.read_text())) == KubeModel()
    assert KubeModel().extender_filter is SHIPPED_EXTENDER_FILTER is False
    assert extender_model(yaml.safe_load(hard.read_text())) == KubeModel(extender_filter=True)


def test_hard_rules_hold_with_the_filter_verb_and_only_steer_without_it() -> None:
    """db (talking to nobody, its peers talking to it) avoids zone b with requiredAvoidance. In the chain
    there is room elsewhere, and both configurations keep it off zone b (without the filter verb the avoided
    nodes score 0). On two nodes where only the avoided one has room, the filter verb leaves db unplaced and
    the prioritize-only configuration places it there: it steers, it does not guarantee."""
    raw = chain()
    raw["workloads"][3] |= {"avoidZones": ["b"], "requiredAvoidance": True}
    sc = parse_scenario(raw)
    zone = {n.name: n.zone for n in sc.nodes}
    for model in (KubeModel(extender_filter=True), KubeModel()):
        out = simulate_deployed(sc, model)
        db = [node for pod, node in out.assignment.items() if pod.startswith("db-")]
        assert out.unplaced == 0 and len(db) == 2
        assert all(zone[node] != "b" for node in db), (model, db)
    tight = parse_scenario(
        {
            "nodes": [
                {"name": "small", "zone": "a", "region": "r", "cpu": 1, "memory": 16},
                {"name": "big", "zone": "b", "region": "r", "cpu": 4, "memory": 16},
            ],
            "workloads": [
                {"name": "db", "replicas": 1, "cpu": 2, "memory": 1, "avoidZones": ["b"], "requiredAvoidance": True}
            ],
        }
    )
    assert simulate_deployed(tight, KubeModel(extender_filter=True)).unplaced == 1
    assert simulate_deployed(tight, KubeModel()).assignment == {"db-0": "big"}


def test_with_a_view_lag_augur_scores_without_the_last_binds_and_kube_counts_them() -> None:
    """``view_lag`` L: the snapshot Augur scores (and its planner plans) on holds every pod placed but the
    last L, while kube's resource fit and plugins count them all; 0 is the run as before."""
    from augur.sim.placement.runs import _deployed, _run

    sc = parse_scenario(chain())
    seen: list[tuple[int, int]] = []
    deployed = _deployed(KubeModel())

    def spy(state: Any, w: int, info: Any, snap: Any, fit: Any, rng: Any) -> int | None:
        in_view = sum(sum(c.values()) for c in snap.occupancy.by_workload.values())
        seen.append((int(state.pods.sum()), in_view))
        assert int(snap.table.pods.sum()) == in_view  # the view's requested totals lag with it
        return deployed(state, w, info, snap, fit, rng)

    _run(sc, spy, planned=True, lag=2)
    assert seen == [(k, max(0, k - 2)) for k in range(10)]
    assert simulate_deployed(sc, KubeModel(view_lag=0)).assignment == simulate_deployed(sc).assignment
    lagged = simulate_deployed(sc, KubeModel(view_lag=3))
    assert lagged.unplaced == 0 and len(lagged.assignment) == 10


def test_simulate_cli_takes_a_view_lag_and_reports_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sc.yaml"
    path.write_text(yaml.safe_dump(chain()))
    assert main(["placement", "simulate", str(path), "--json", "--rounds", "5", "--view-lag", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["view_lag"] == 2
    assert main(["placement", "simulate", str(path), "--view-lag", "-1"]) == 2
    assert "--view-lag must be 0 or more" in capsys.readouterr().err
