"""The extender scores with traffic the operator measured into status.traffic, and ignores bad entries."""

from __future__ import annotations

from augur_extender.cache import MemoryCache

from .extender_objects import fill, profile


def _web_traffic(cache: MemoryCache) -> dict[str, float]:
    (web,) = [p for p in cache.view().profiles["shop"] if p.key.endswith("/web")]
    return {d.peer: d.traffic for d in web.rules.dependencies}


def test_measured_traffic_replaces_spec_weight() -> None:
    cache = MemoryCache()
    fill(cache)
    obj = profile("web", {"dependencies": [{"name": "api", "traffic": 5, "trafficQuery": "q"}]}, selector="app=web")
    cache.replace("workloadprofiles", [obj])
    assert _web_traffic(cache) == {"shop/api": 5.0}
    measured = {**obj, "status": {"traffic": [{"name": "api", "traffic": 40.0, "measuredAt": "2026-11-23T12:00:00Z"}]}}
    cache.replace("workloadprofiles", [measured])
    assert _web_traffic(cache) == {"shop/api": 40.0}


def test_malformed_status_traffic_is_ignored_not_fatal() -> None:
    cache = MemoryCache()
    fill(cache)
    obj = profile("web", {"dependencies": [{"name": "api", "traffic": 5}]}, selector="app=web")
    broken = {**obj, "status": {"traffic": [{"name": "api", "traffic": -3}], "somethingNew": {"a": 1}}}
    cache.replace("workloadprofiles", [broken])
    assert _web_traffic(cache) == {"shop/api": 5.0}
