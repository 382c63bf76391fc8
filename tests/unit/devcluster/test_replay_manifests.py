"""The objects a placement scenario becomes for ``augur placement replay`` (pure parts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from augur.api.v1alpha1.networktopology import NetworkTopologySpec
from augur.api.v1alpha1.workloadprofile import WorkloadProfileSpec
from augur.api.validation import SpecError
from augur.devcluster.placement_replay import HARD_RULES_EXTENDER, SHIPPED_EXTENDER
from augur.devcluster.replay_manifests import (
    REPLAY_LABEL,
    SCHEDULER_NAME,
    ReplayNames,
    check_cluster_scenario,
    deployment_manifest,
    node_manifests,
    profile_manifest,
    profile_status,
    topology_manifest,
)
from augur.placement import rules_from_api, topology_from_api
from augur.placement.constants import SHIPPED_EXTENDER_FILTER
from augur.sim.placement import parse_scenario

REPO = Path(__file__).resolve().parents[3]


def scenario(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "nodes": [
            {"name": "b-Node_1", "zone": "east-a", "region": "east", "cpu": 8, "memory": 32},
            {"name": "a2", "zone": "west-a", "region": "west", "cpu": 4.5, "memory": 0.5},
        ],
        "distances": {"zones": {"east-a|west-a": 90}, "nodes": {"a2|b-Node_1": 70}},
        "workloads": [
            {"name": "web", "replicas": 2, "cpu": 0.25, "memory": 0.5, "talksTo": {"db": 30}}
            | {"maxDistance": {"db": 40}},
            {"name": "db", "replicas": 1, "cpu": 1, "memory": 2, "avoidNodes": ["a2"], "requiredAvoidance": True},
        ],
    }
    raw.update(extra)
    return raw


def test_shipped_extender_entry_is_the_example_configuration() -> None:
    entries = (("kube-scheduler-config", SHIPPED_EXTENDER), ("kube-scheduler-config-hard-rules", HARD_RULES_EXTENDER))
    for name, expected in entries:
        example = yaml.safe_load((REPO / "examples" / "scheduler" / f"{name}.yaml").read_text())
        (entry,) = example["extenders"]
        assert {k: v for k, v in entry.items() if k != "urlPrefix"} == expected, name
    assert ("filterVerb" in SHIPPED_EXTENDER) is SHIPPED_EXTENDER_FILTER


def test_node_names_follow_the_run_order_and_nodes_carry_size_zone_and_taint() -> None:
    sc = parse_scenario(scenario())
    names = ReplayNames.build(sc, "abc123", order=[1, 0])
    assert names.nodes == ("replay-abc123-0001-b-node-1", "replay-abc123-0000-a2")
    nodes = node_manifests(sc, names)
    assert [n["metadata"]["name"] for n in nodes] == sorted(names.nodes)  # created in listing order
    a2 = nodes[0]
    assert a2["status"]["allocatable"]["cpu"] == "4500m" and a2["status"]["allocatable"]["memory"] == "524288Ki"
    assert a2["metadata"]["labels"]["topology.kubernetes.io/zone"] == "west-a"
    assert a2["metadata"]["labels"][REPLAY_LABEL] == "abc123"
    assert {"key": REPLAY_LABEL, "value": "abc123", "effect": "NoSchedule"} in a2["spec"]["taints"]
    with pytest.raises(ValueError, match="permutation"):
        ReplayNames.build(sc, "x", order=[0, 0])


def test_topology_and_profiles_convert_back_to_the_scenario_rules() -> None:
    sc = parse_scenario(scenario())
    names = ReplayNames.build(sc, "r", order=[0, 1])
    topo = topology_manifest(sc, names)
    model = topology_from_api(NetworkTopologySpec.model_validate(topo["spec"]))
    assert model.zones == sc.topology.zones and model.levels == sc.topology.levels
    assert model.nodes == {tuple(sorted(names.nodes)): 70.0}
    for wl in sc.workloads:
        body = profile_manifest(wl, "ns", names, sc)
        rules = rules_from_api("ns", wl.name, WorkloadProfileSpec.model_validate(body["spec"]), wl.replicas)
        expected = wl.rules()
        assert {(d.peer.split("/")[1], d.traffic, d.max_distance) for d in rules.dependencies} == {
            (d.peer, d.traffic, d.max_distance) for d in expected.dependencies
        }
        assert rules.required_avoidance == expected.required_avoidance
        assert rules.avoid_nodes == frozenset(names.nodes[1:] if wl.name == "db" else ())


def test_deployment_pods_go_only_to_the_run_nodes_through_the_replay_scheduler() -> None:
    sc = parse_scenario(scenario())
    names = ReplayNames.build(sc, "r1", order=[0, 1])
    dep = deployment_manifest(sc.workloads[0], "ns", names)
    pod = dep["spec"]["template"]["spec"]
    assert dep["spec"]["replicas"] == 0
    assert pod["schedulerName"] == SCHEDULER_NAME and pod["nodeSelector"] == {REPLAY_LABEL: "r1"}
    assert pod["containers"][0]["resources"]["requests"] == {"cpu": "250m", "memory": "524288Ki"}
    assert {t["key"] for t in pod["tolerations"]} == {REPLAY_LABEL, "kwok.x-k8s.io/node"}


def test_profile_status_has_the_replicas_to_come_and_the_pod_size_of_the_deployment_template() -> None:
    sc = parse_scenario(scenario())
    names = ReplayNames.build(sc, "r1", order=[0, 1])
    wl = sc.workloads[0]
    status = profile_status(wl, deployment_manifest(wl, "ns", names))["status"]
    assert status == {"desiredReplicas": wl.replicas, "podRequests": {"cpu": "250m", "memory": "524288Ki"}}
    assert profile_status(wl)["status"] == {"desiredReplicas": wl.replicas}


def test_scenarios_that_cannot_become_kubernetes_objects_are_refused_with_every_reason() -> None:
    raw = scenario()
    raw["workloads"][0]["name"] = "web.v1"  # a valid profile name, not a valid Deployment label
    raw["workloads"][1]["talksTo"] = {"web.v1": 5}
    raw["workloads"][1]["preferZones"] = ["east-a"]
    raw["workloads"][1]["avoidZones"] = ["west-a"]
    raw["distances"]["sameZone"] = 12.5
    with pytest.raises(SpecError) as err:
        check_cluster_scenario(parse_scenario(raw))
    text = str(err.value)
    assert "workloads[0].name" in text and "both prefer and avoid" in text and "whole numbers" in text


def test_the_plan_gate_opens_on_a_final_plan_not_a_provisional_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gated replay lifts a pod's gate once the extender's current plan has a slot for it, but not while
    that plan is provisional (the simulator's prediction it is compared with uses the final plan)."""
    import httpx

    from augur.devcluster.placement_replay import ReplayOptions, ReplaySession

    replies = [
        {"plan": {"state": "stale"}, "nodes": [{"planSlots": 1}]},
        {"plan": {"state": "current", "provisional": True}, "nodes": [{"planSlots": 1}]},
        {"plan": {"state": "current", "provisional": False}, "nodes": [{"planSlots": 0}]},
        {"plan": {"state": "current", "provisional": False}, "nodes": [{"planSlots": 0}, {"planSlots": 2}]},
    ]
    asked: list[str] = []

    def get(url: str, timeout: float, verify: object = True) -> httpx.Response:
        asked.append(url)
        return httpx.Response(200, json=replies[min(len(asked), len(replies)) - 1])

    monkeypatch.setattr(httpx, "get", get)
    monkeypatch.setattr("augur.devcluster.placement_replay.time.sleep", lambda _: None)
    session = ReplaySession.__new__(ReplaySession)
    session.extender_url, session.options = "http://extender", ReplayOptions(plan_timeout=5.0)
    session.verify = True
    assert session._wait_for_plan("ns", "web-0")
    assert len(asked) == 4 and asked[0] == "http://extender/debug/pods/ns/web-0"
    replies[:] = [{"plan": {"state": "current", "provisional": True}, "nodes": [{"planSlots": 1}]}]
    asked.clear()
    session.options = ReplayOptions(plan_timeout=0.05)
    assert not session._wait_for_plan("ns", "web-0")  # only provisional plans until the deadline
    assert len(asked) >= 1


def test_plan_use_is_read_from_the_extenders_metrics_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay reports the extender pass's scored prioritize calls by plan, as its /metrics counts them
    (rendered by the extender's own metrics), and nothing when the page cannot be read."""
    import httpx
    from prometheus_client import generate_latest

    from augur.devcluster.extender_metrics import plan_use
    from augur_extender.metrics import Metrics

    metrics = Metrics()
    metrics.prioritize_plans.labels("absent").inc(3)
    metrics.prioritize_plans.labels("current").inc(7)
    page = generate_latest(metrics.registry).decode()
    monkeypatch.setattr(httpx, "get", lambda url, timeout, verify=True: httpx.Response(200, text=page))
    assert plan_use("http://extender") == {"absent": 3, "current": 7}

    def down(url: str, timeout: float, verify: object = True) -> httpx.Response:
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(httpx, "get", down)
    assert plan_use("http://extender") == {}


def test_the_pass_report_reads_the_gate_and_the_unseen_binds_from_the_extenders_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lifts by reason and the mean wait at the plan gate, and the unseen binds' count, mean and buckets, from
    the extender's own metrics page; a page without gate lifts reports no gate."""
    import httpx
    from prometheus_client import generate_latest

    from augur.devcluster.extender_metrics import pass_report
    from augur_extender.metrics import Metrics

    metrics = Metrics()
    page = generate_latest(metrics.registry).decode()
    monkeypatch.setattr(httpx, "get", lambda url, timeout, verify=True: httpx.Response(200, text=page))
    quiet = pass_report("http://extender")
    assert quiet.gate == {} and quiet.unseen_binds["calls"] == 0 and quiet.unseen_binds["mean"] is None

    metrics.gate_lifts.labels("planned").inc(3)
    metrics.gate_lifts.labels("deadline").inc()
    for wait in (1.0, 2.0, 3.0, 6.0):
        metrics.gate_wait.observe(wait)
    for unseen in (0, 0, 2):
        metrics.unseen_binds.observe(unseen)
    page = generate_latest(metrics.registry).decode()
    report = pass_report("http://extender")
    assert report.gate == {"planned": 3.0, "deadline": 1.0, "mean_wait_seconds": 3.0}
    assert report.unseen_binds["calls"] == 3 and report.unseen_binds["mean"] == 0.667
    assert report.unseen_binds["at_most"]["0.0"] == 2 and report.unseen_binds["at_most"]["2.0"] == 3
