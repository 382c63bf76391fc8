"""Reading a running extender's ``/metrics`` page (the replay waits on its cache gauges and reports its plan use
and how far its view lagged the scheduler's binds)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families


def gauges_at_least(url: str, want: Mapping[str, float]) -> bool:
    """Whether every gauge in ``want`` is at least its value on the extender at ``url``."""
    seen: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        name, _, value = line.partition(" ")
        if name in want:
            seen[name] = float(value)
    return all(seen.get(k, 0.0) >= v for k, v in want.items())


def _families(url: str) -> list[Any]:
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return []
    return list(text_string_to_metric_families(text))


def plan_use(url: str) -> dict[str, int]:
    """The extender's scored prioritize calls by the plan they saw (``augur_extender_prioritize_plans_total``:
    current, provisional, absent, stale; ``none`` before session 49); empty when its metrics cannot be read."""
    return _plan_use(_families(url))


def unseen_binds(url: str) -> dict[str, Any]:
    """The extender's ``augur_extender_prioritize_unseen_binds`` histogram: ``calls``, ``mean`` and, per bucket
    bound, the prioritize calls with at most that many binds unseen (cumulative, as Prometheus counts them);
    empty when its metrics cannot be read."""
    return _unseen_binds(_families(url))


def pass_report(url: str) -> tuple[dict[str, int], dict[str, Any]]:
    """:func:`plan_use` and :func:`unseen_binds` from one read of the metrics page."""
    families = _families(url)
    return _plan_use(families), _unseen_binds(families)


def _plan_use(families: list[Any]) -> dict[str, int]:
    return {
        sample.labels["plan"]: int(sample.value)
        for family in families
        if family.name == "augur_extender_prioritize_plans"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def _unseen_binds(families: list[Any]) -> dict[str, Any]:
    for family in families:
        if family.name != "augur_extender_prioritize_unseen_binds":
            continue
        samples = {s.name.rsplit("_", 1)[-1]: s for s in family.samples if not s.name.endswith("_bucket")}
        calls = int(samples["count"].value) if "count" in samples else 0
        total = float(samples["sum"].value) if "sum" in samples else 0.0
        bounded = [s for s in family.samples if s.name.endswith("_bucket") and s.labels["le"] != "+Inf"]
        buckets = {s.labels["le"]: int(s.value) for s in bounded}
        return {"calls": calls, "mean": round(total / calls, 3) if calls else None, "at_most": buckets}
    return {}
