"""The kube-scheduler extender wire format, for both nodeCacheCapable modes."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from augur.placement import NEUTRAL_SCORE, NodeInfo, NodeTable, TopologyModel
from augur_extender.service import render_priorities
from augur_extender.wire import ExtenderFilterResult, HostPriority

from .extender_objects import ZONES, node, pod


def cache_args(pod_obj: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    return {"Pod": pod_obj, "Nodes": None, "NodeNames": list(ZONES) if names is None else names}


def full_args(pod_obj: dict[str, Any], nodes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    items = nodes if nodes is not None else [node(n, z, r) for n, (z, r) in ZONES.items()]
    return {"Pod": pod_obj, "Nodes": {"metadata": {}, "items": items}, "NodeNames": None}


def test_prioritize_returns_bare_host_priority_list(client: TestClient) -> None:
    reply = client.post("/prioritize", json=cache_args(pod("web-0", "web")))
    assert reply.status_code == 200
    body = reply.json()
    assert isinstance(body, list)
    assert all(set(item) == {"Host", "Score"} for item in body)
    scores = {HostPriority.model_validate(i).Host: i["Score"] for i in body}
    assert set(scores) == set(ZONES)
    assert scores["b1"] == 10  # both api pods run on b1 and web talks to api
    assert scores["a1"] < scores["b1"]


def test_prioritize_with_full_node_objects_matches_cache_mode(client: TestClient) -> None:
    by_names = client.post("/prioritize", json=cache_args(pod("web-0", "web"))).json()
    by_nodes = client.post("/prioritize", json=full_args(pod("web-0", "web"))).json()
    assert by_nodes == by_names


def test_full_mode_scores_nodes_missing_from_the_cache(client: TestClient) -> None:
    nodes = [node("b1", "b", "east"), node("new-b", "b", "east"), node("new-c", "c", "west")]
    body = client.post("/prioritize", json=full_args(pod("web-0", "web"), nodes)).json()
    scores = {i["Host"]: i["Score"] for i in body}
    assert scores["b1"] == 10
    assert scores["new-b"] > scores["new-c"]


def test_filter_cache_mode_reports_reasons(client: TestClient) -> None:
    reply = client.post("/filter", json=cache_args(pod("web-0", "web")))
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"Nodes", "NodeNames", "FailedNodes", "FailedAndUnresolvableNodes", "Error"}
    result = ExtenderFilterResult.model_validate(body)
    assert result.NodeNames == ["a1", "a2", "b1"]
    assert result.Nodes is None
    assert result.FailedNodes == {"c1": "zone c is avoided by shop/web (requiredAvoidance)"}
    assert result.Error == ""


def test_filter_full_mode_returns_node_objects(client: TestClient) -> None:
    body = client.post("/filter", json=full_args(pod("web-0", "web"))).json()
    assert body["NodeNames"] is None
    assert [n["metadata"]["name"] for n in body["Nodes"]["items"]] == ["a1", "a2", "b1"]
    assert body["Nodes"]["items"][0]["status"]["allocatable"]["cpu"] == "8"
    assert list(body["FailedNodes"]) == ["c1"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "body must be a JSON object"),
        (b'{"Pod": 3, "NodeNames": "a1"}', "Pod: must be an object; NodeNames: must be a list"),
        (b'{"Pod": {}}', "one of Nodes or NodeNames must be set"),
        (b'{"Pod": {}, "Nodes": {"items": 5}}', "Nodes: must be a NodeList"),
    ],
)
def test_malformed_requests_get_400_with_a_message(client: TestClient, payload: bytes, message: str) -> None:
    for verb in ("/filter", "/prioritize"):
        reply = client.post(verb, content=payload, headers={"content-type": "application/json"})
        assert reply.status_code == 400
        assert message in reply.json()["detail"]


def test_pod_without_profile_gets_neutral_scores_and_passes_filter(client: TestClient) -> None:
    stranger = pod("x-0", "unknown-app")
    scores = client.post("/prioritize", json=cache_args(stranger)).json()
    assert {i["Score"] for i in scores} == {5}
    assert client.post("/filter", json=cache_args(stranger)).json()["NodeNames"] == list(ZONES)


def test_unknown_nodes_get_neutral_scores(client: TestClient) -> None:
    body = client.post("/prioritize", json=cache_args(pod("web-0", "web"), ["ghost", "b1", "c1"])).json()
    assert body[0]["Host"] != "ghost"
    assert {i["Host"]: i["Score"] for i in body}["ghost"] == 5
    passed = client.post("/filter", json=cache_args(pod("web-0", "web"), ["ghost", "c1"])).json()
    assert passed["NodeNames"] == ["ghost"]


def test_internal_errors_become_error_or_neutral(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("augur_extender.service.score_nodes", boom)
    monkeypatch.setattr("augur_extender.service.score_unfiltered", boom)
    monkeypatch.setattr("augur_extender.service.filter_nodes", boom)
    scores = client.post("/prioritize", json=cache_args(pod("web-0", "web"))).json()
    assert scores == [{"Host": n, "Score": 5} for n in ZONES]
    body = client.post("/filter", json=cache_args(pod("web-0", "web"))).json()
    assert body["Error"] == "internal error: boom"
    assert body["NodeNames"] is None


def test_rendered_priorities_are_valid_json_with_every_score() -> None:
    names = ["a", "node-with-a-much-longer-name-0", 'quote"and\\slash', "z"]
    table = NodeTable.build([NodeInfo(n) for n in names], TopologyModel())
    cand = np.array([3, 0, 2, 1], dtype=np.int64)
    for scores in (np.array([10, 0, 7, 5]), np.array([1, 9, 10, 10])):
        reply = orjson.loads(render_priorities(table, cand, scores, ["ghost"]))
        expected = [{"Host": names[i], "Score": int(s)} for i, s in zip(cand, scores, strict=True)]
        assert reply == [*expected, {"Host": "ghost", "Score": NEUTRAL_SCORE}]
    assert orjson.loads(render_priorities(table, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [])) == []


def test_resolve_reuses_the_last_list_and_notices_a_new_one() -> None:
    table = NodeTable.build([NodeInfo(n) for n in ("a", "b", "c")], TopologyModel())
    first, unknown = table.resolve(["c", "a", "x"])
    assert first.tolist() == [2, 0] and unknown == ["x"]
    again, unknown_again = table.resolve(["c", "a", "x"])
    assert again.tolist() == [2, 0] and unknown_again == ["x"]
    other, none = table.resolve(["b"])
    assert other.tolist() == [1] and none == []


def test_the_verb_fast_path_answers_like_the_routes(cache: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The middleware answers before FastAPI's routes, with the same bytes, statuses and metrics; with it off,
    the routes answer."""
    from augur_extender import app as app_module
    from augur_extender.deps import ExtenderState
    from augur_extender.routers import scheduler as routes
    from augur_extender.settings import Settings

    replies = {}
    for fast in (True, False):
        settings = Settings(planner=False, verb_fast_path=fast)
        state = ExtenderState.build(cache, settings)
        with TestClient(app_module.create_app(settings, state)) as client:
            got = [
                client.post(f"/{verb}", content=body)
                for verb in ("filter", "prioritize")
                for body in (orjson.dumps(cache_args(pod("web-0", "web"))), b"{not json", b'{"Pod": 1}')
            ]
            replies[fast] = [(r.status_code, r.content) for r in got]
            metrics = client.get("/metrics").text
        assert 'augur_extender_requests_total{outcome="bad_request",verb="prioritize"} 2.0' in metrics
        assert 'augur_extender_requests_total{outcome="scored",verb="filter"} 1.0' in metrics
    assert replies[True] == replies[False]
    assert [s for s, _ in replies[True]] == [200, 400, 400, 200, 400, 400]

    def unreachable(*_: Any) -> Any:
        raise AssertionError("the fast path answers before the route")

    monkeypatch.setattr(routes, "answer", unreachable)
    settings = Settings(planner=False)
    with TestClient(app_module.create_app(settings, ExtenderState.build(cache, settings))) as client:
        assert client.post("/prioritize", content=orjson.dumps(cache_args(pod("web-0", "web")))).status_code == 200


def _unfiltered_count(client: TestClient, workload: str) -> float:
    prefix = f'augur_extender_hard_rules_unfiltered_total{{workload="{workload}"}} '
    lines = [line for line in client.get("/metrics").text.splitlines() if line.startswith(prefix)]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_prioritize_without_a_filter_call_scores_failing_nodes_zero_and_counts_it(client: TestClient) -> None:
    """kube-scheduler filters a pod right before prioritizing it; without filterVerb it never does, and the
    hard rules can only steer. web avoids zone c with requiredAvoidance (extender_objects)."""
    body = cache_args(pod("web-0", "web"))
    scores = {i["Host"]: i["Score"] for i in client.post("/prioritize", json=body).json()}
    assert scores["c1"] == 0 and max(scores.values()) == 10 and min(scores[n] for n in ("a1", "a2", "b1")) >= 1
    assert _unfiltered_count(client, "shop/web") == 1.0
    client.post("/filter", json=body)
    client.post("/prioritize", json=body)  # filtered just before: the filter decided, nothing to count
    assert _unfiltered_count(client, "shop/web") == 1.0
    client.post("/prioritize", json=cache_args(pod("api-2", "api")))  # no hard rules: nothing to count
    assert _unfiltered_count(client, "shop/api") == 0.0
    client.post("/prioritize", json=cache_args(pod("web-1", "web")))  # the filter call was for web-0
    assert _unfiltered_count(client, "shop/web") == 2.0
    # two schedulers sharing the extender interleave their cycles: still filtered
    client.post("/filter", json=cache_args(pod("web-1", "web")))
    client.post("/filter", json=cache_args(pod("web-2", "web")))
    client.post("/prioritize", json=cache_args(pod("web-1", "web")))
    assert _unfiltered_count(client, "shop/web") == 2.0
