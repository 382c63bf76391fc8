"""Generated rebalancing scenarios, their Kubernetes objects and the descheduler's policy (pure)."""

from __future__ import annotations

import pytest

from augur.devcluster.descheduler import PolicyOptions, PrometheusSource, evictions_in_log, policy
from augur.devcluster.rebalance_scenarios import (
    RUN_LABEL,
    Phase,
    RunNames,
    augur_manifests,
    deployment_manifest,
    generate,
    load_skew,
    node_manifests,
    pdb_manifest,
)
from augur.sim.rebalance_metrics import placement_figures


@pytest.mark.parametrize("seed", [0, 1, 2, 100])
def test_load_scenario_fits_its_hot_nodes_and_is_skewed(seed: int) -> None:
    rs = generate("load", seed)
    sc = rs.scenario
    (phase,) = rs.phases
    assert len(phase.nodes) == 3 and set(phase.workloads) == {w.name for w in sc.workloads}
    cpu = sum(w.cpu * w.replicas for w in sc.workloads)
    assert 0.6 * 12 <= cpu <= 0.8 * 12  # ~80 % of the three hot 4-core nodes
    assert all(w.replicas >= 2 for w in sc.workloads)  # a budget of maxUnavailable 1 leaves one running
    assert rs == generate("load", seed) and rs.raw == generate("load", seed).raw


@pytest.mark.parametrize("seed", [0, 1, 100, 200])
def test_mixed_scenario_is_load_with_pods_of_mixed_sizes(seed: int) -> None:
    rs = generate("mixed", seed)
    sc = rs.scenario
    (phase,) = rs.phases
    assert rs.family == "mixed" and rs.name == f"mixed-{seed}" and len(phase.nodes) == 3
    assert 0.6 * 12 <= sum(w.cpu * w.replicas for w in sc.workloads) <= 0.8 * 12 + 1e-9
    assert {w.cpu for w in sc.workloads} <= {0.1, 0.25, 0.5, 1.0}
    assert len({w.cpu for w in sc.workloads}) >= 3  # mixed: not load's two sizes
    assert rs.spread and all(w.replicas >= 2 for w in sc.workloads)
    assert rs.raw == generate("mixed", seed).raw


def test_mixed_family_leaves_the_load_family_as_it_was() -> None:
    # The load family's draws are unchanged by the mixed one (its held-out results stay reproducible).
    sc = generate("load", 200).scenario
    assert [(w.replicas, w.cpu) for w in sc.workloads][:3] == [(2, 0.5), (2, 0.5), (3, 0.25)]
    assert generate("load", 200).phases[0].nodes == ("n1", "n4", "n7")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_network_scenario_splits_every_pair_across_regions_with_even_load(seed: int) -> None:
    rs = generate("network", seed)
    sc = rs.scenario
    east, west = rs.phases
    region = {n.name: n.region for n in sc.nodes}
    assert {region[n] for n in east.nodes} == {"east"} and {region[n] for n in west.nodes} == {"west"}
    side = {w: "east" for w in east.workloads} | {w: "west" for w in west.workloads}
    for w in sc.workloads:
        for peer in w.talks_to:
            assert side[w.name] != side[peer]
    cpu = {w.name: w.cpu * w.replicas for w in sc.workloads}
    assert sum(cpu[w] for w in east.workloads) == sum(cpu[w] for w in west.workloads)


def test_unknown_family() -> None:
    with pytest.raises(ValueError, match="unknown scenario family"):
        generate("nope", 0)
    with pytest.raises(ValueError, match="load and mixed families"):
        load_skew(0, "network")
    assert load_skew(3, "mixed") == generate("mixed", 3)


def test_manifests_tie_pods_to_the_run_nodes() -> None:
    rs = generate("load", 0)
    names = RunNames("abc123")
    nodes = node_manifests(rs, names)
    assert [n["metadata"]["name"] for n in nodes] == [f"rb-abc123-n{i}" for i in range(8)]
    assert all(n["spec"]["unschedulable"] for n in nodes)
    assert {"key": RUN_LABEL, "value": "abc123", "effect": "NoSchedule"} in nodes[0]["spec"]["taints"]
    assert names.scenario_node("rb-abc123-n3") == "n3" and names.scenario_node("kwok-east-a-1") == ""
    wl = rs.scenario.workloads[0]
    dep = deployment_manifest(wl, names, spread=True)
    pod = dep["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {RUN_LABEL: "abc123"}
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"
    assert pod["containers"][0]["resources"]["requests"]["cpu"] == f"{round(wl.cpu * 1000)}m"
    assert "topologySpreadConstraints" not in deployment_manifest(wl, names, spread=False)["spec"]["template"]["spec"]
    assert pdb_manifest(wl, names)["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": wl.name}}}


def test_profiles_carry_the_traffic() -> None:
    rs = generate("network", 0)
    objs = augur_manifests(rs, RunNames("abc123"))
    assert objs[0]["kind"] == "NetworkTopology"
    assert objs[0]["spec"]["levels"]["crossRegion"] == 100
    profiles = {o["metadata"]["name"]: o for o in objs[1:]}
    fe = profiles["app0-fe"]["spec"]
    assert fe["dependencies"][0]["name"] == "app0-be" and fe["dependencies"][0]["traffic"] >= 40
    assert fe["selector"] == "app=app0-fe"


def test_initial_network_placement_costs_the_full_cross_region_distance() -> None:
    rs = generate("network", 1)
    sc = rs.scenario
    east, west = rs.phases
    placement = [(w, east.nodes[0]) for w in east.workloads] + [(w, west.nodes[0]) for w in west.workloads]
    traffic = sum(t for w in sc.workloads for t in w.talks_to.values())
    assert placement_figures(sc, placement)["network_cost"] == pytest.approx(100 * traffic)


def test_descheduler_policy() -> None:
    p = policy(PolicyOptions(node_selector=f"{RUN_LABEL}=x", namespaces=("ns",)))
    assert p["apiVersion"] == "descheduler/v1alpha2" and p["nodeSelector"] == f"{RUN_LABEL}=x"
    (profile,) = p["profiles"]
    assert profile["plugins"]["balance"]["enabled"] == [
        "LowNodeUtilization",
        "RemovePodsViolatingTopologySpreadConstraint",
    ]
    args = {c["name"]: c["args"] for c in profile["pluginConfig"]}
    assert args["LowNodeUtilization"] == {
        "thresholds": {"cpu": 20, "memory": 20, "pods": 20},
        "targetThresholds": {"cpu": 50, "memory": 50, "pods": 50},
    }
    assert args["RemovePodsViolatingTopologySpreadConstraint"]["namespaces"] == {"include": ["ns"]}
    only_low = policy(PolicyOptions(topology_spread=False, use_deviation_thresholds=True))
    assert only_low["profiles"][0]["plugins"]["balance"]["enabled"] == ["LowNodeUtilization"]
    assert "nodeSelector" not in only_low


def test_evictions_are_read_from_the_log() -> None:
    log = (
        'I1130 09:00:01.000000 1 evictions.go:589] "Evicted pod" pod="ns/svc0-abc" reason="" '
        'strategy="LowNodeUtilization" node="rb-x-n1" profile="augur-bench"\n'
        'I1130 09:00:02.000000 1 other.go:1] "Evicted pod in dry run mode" pod="ns/y"\n'
    )
    (e,) = evictions_in_log(log)
    assert (e.pod, e.node, e.strategy) == ("ns/svc0-abc", "rb-x-n1", "LowNodeUtilization")


@pytest.mark.parametrize("seed", [100, 200, 201, 202])
def test_usage_scenario_has_even_requests_and_skewed_use(seed: int) -> None:
    rs = generate("usage", seed)
    sc, used = rs.scenario, rs.measured
    hot, cold = rs.phases
    assert rs.name == f"usage-{seed}" and rs.spread and (len(hot.nodes), len(cold.nodes)) == (3, 5)
    assert not set(hot.nodes) & set(cold.nodes) and not set(hot.workloads) & set(cold.workloads)
    by_name = {w.name: w for w in sc.workloads}

    def requested(phase: Phase) -> float:
        return sum(by_name[w].cpu * by_name[w].replicas for w in phase.workloads) / (4 * len(phase.nodes))

    def use(phase: Phase) -> float:
        return sum(rs.usage[w] * by_name[w].replicas for w in phase.workloads) / (4 * len(phase.nodes))

    assert requested(hot) == pytest.approx(requested(cold), abs=0.06)  # ~45 % requested everywhere
    assert use(hot) >= 0.6 and use(cold) <= 0.15  # used: hot nodes ~70 %, cold ones ~13 %
    assert all(1.4 <= rs.usage[w] / by_name[w].cpu <= 1.8 for w in hot.workloads)
    assert [w.cpu for w in used.workloads] == [rs.usage[w.name] for w in sc.workloads]
    assert [w.replicas for w in used.workloads] == [w.replicas for w in sc.workloads]
    start = [(w, hot.nodes[0]) for w in hot.workloads] + [(w, cold.nodes[0]) for w in cold.workloads]
    # On one node per phase: what balance is measured on (use) differs from what was requested.
    assert placement_figures(used, start)["load_stddev"] != pytest.approx(placement_figures(sc, start)["load_stddev"])
    assert rs.raw == generate("usage", seed).raw and rs.usage == generate("usage", seed).usage


def test_measured_scenario_is_the_requested_one_without_usage() -> None:
    rs = generate("load", 200)
    assert rs.measured is rs.scenario and not rs.usage


def test_descheduler_policy_reading_prometheus() -> None:
    source = PrometheusSource("http://127.0.0.1:9090", "q", ("kube-system", "tok"))
    p = policy(PolicyOptions(prometheus=source))
    args = {c["name"]: c["args"] for c in p["profiles"][0]["pluginConfig"]}
    # One figure, the percent of a node used; the descheduler refuses cpu/memory/pods with Prometheus.
    assert args["LowNodeUtilization"] == {
        "thresholds": {"MetricResource": 20},
        "targetThresholds": {"MetricResource": 50},
        "metricsUtilization": {"source": "Prometheus", "prometheus": {"query": "q"}},
    }
    (provider,) = p["metricsProviders"]
    assert provider == {
        "source": "Prometheus",
        "prometheus": {
            "url": "http://127.0.0.1:9090",
            "authToken": {"secretReference": {"namespace": "kube-system", "name": "tok"}},
        },
    }
