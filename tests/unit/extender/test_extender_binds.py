"""The count of binds the extender's view has not seen yet (``augur_extender_prioritize_unseen_binds``)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from augur.devcluster import extender_metrics
from augur_extender.binds import UNSEEN_MEMORY, UnseenBinds
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.metrics import UNSEEN_BUCKETS
from augur_extender.settings import Settings
from augur_extender.verbs import answer

from .extender_objects import ZONES, pod


def test_pods_scored_and_not_seen_bound_are_counted_until_bound_or_forgotten() -> None:
    bound: set[str] = set()
    binds = UnseenBinds(bound.__contains__, ttl=5.0, memory=3)
    assert binds.scored("a", 0.0) == 0
    assert binds.scored("b", 0.1) == 1  # a not bound yet
    assert binds.scored("c", 0.2) == 2
    bound.add("a")
    assert binds.scored("d", 0.3) == 2  # b and c; a seen bound, dropped
    assert binds.scored("c", 0.4) == 2  # scored again (a retry): b and d, not itself
    assert binds.scored("e", 6.0) == 0  # all older than the TTL
    assert binds.scored("", 6.1) == 1  # a pod without a uid is counted against, never recorded
    for uid in "fghij":
        binds.scored(uid, 6.2)
    assert binds.scored("k", 6.3) == 3  # at most `memory` remembered, the oldest forgotten first


def test_the_memory_reaches_just_past_the_histograms_last_bucket() -> None:
    """Every count the histogram tells apart is exact; a longer lag lands in +Inf, as it would uncapped."""
    assert UNSEEN_BUCKETS[-1] + 1 == UNSEEN_MEMORY
    binds = UnseenBinds(lambda uid: False)
    for i in range(3 * UNSEEN_MEMORY):
        unseen = binds.scored(str(i), 0.0)
    assert unseen == UNSEEN_MEMORY > UNSEEN_BUCKETS[-1]


def _body(name: str) -> bytes:
    return orjson.dumps({"Pod": pod(name, "web"), "NodeNames": list(ZONES)})


def test_prioritize_observes_the_binds_the_cache_has_not_seen(cache: MemoryCache) -> None:
    state = ExtenderState.build(cache, Settings(planner=False))
    for name in ("web-1", "web-2"):
        cache.apply("pods", "ADDED", pod(name, "web"))
        assert answer(state, "prioritize", _body(name))[0] == 200
    cache.apply("pods", "MODIFIED", pod("web-1", "web", "a1"))  # the watch delivers web-1's binding
    cache.apply("pods", "ADDED", pod("web-3", "web"))
    answer(state, "prioritize", _body("web-3"))
    value = state.metrics.registry.get_sample_value
    assert value("augur_extender_prioritize_unseen_binds_count") == 3
    assert value("augur_extender_prioritize_unseen_binds_sum") == 0 + 1 + 1  # web-1, then web-2 unseen
    assert value("augur_extender_prioritize_unseen_binds_bucket", {"le": "0.0"}) == 1


def test_the_replay_reads_the_histogram_from_the_metrics_page(
    cache: MemoryCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = ExtenderState.build(cache, Settings(planner=False))
    for name in ("web-1", "web-2", "web-3"):
        answer(state, "prioritize", _body(name))
    page = generate_latest(state.metrics.registry).decode()

    def get(url: str, timeout: float, verify: Any = True) -> Any:
        assert url == "http://extender/metrics"
        return httpx.Response(200, text=page)

    monkeypatch.setattr(extender_metrics.httpx, "get", get)
    got = extender_metrics.unseen_binds("http://extender")
    assert got["calls"] == 3 and got["mean"] == 1.0  # 0, 1, 2
    assert got["at_most"]["0.0"] == 1 and got["at_most"]["1.0"] == 2 and got["at_most"]["2.0"] == 3
    reads: list[str] = []
    monkeypatch.setattr(
        extender_metrics.httpx, "get", lambda url, timeout, verify=True: reads.append(url) or get(url, timeout)
    )
    state.metrics.plans.labels("provisional").inc(2)
    state.metrics.plans.labels("refreshed").inc()
    page = generate_latest(state.metrics.registry).decode()
    report = extender_metrics.pass_report("http://extender")  # what a replay pass reads when it ends
    assert reads == ["http://extender/metrics"] and report.unseen_binds == got
    assert report.plans == {"provisional": 2, "refreshed": 1}
    assert report.plan_use == extender_metrics.plan_use("http://extender") and len(reads) == 2

    def down(url: str, timeout: float, verify: Any = True) -> Any:
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(extender_metrics.httpx, "get", down)
    assert extender_metrics.unseen_binds("http://extender") == {}


def test_the_metric_is_on_the_metrics_page(client: TestClient) -> None:
    client.post("/prioritize", content=_body("web-0"))
    assert "augur_extender_prioritize_unseen_binds_count 1.0" in client.get("/metrics").text
