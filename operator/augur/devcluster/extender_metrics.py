"""Reading a running extender's ``/metrics`` page (the replay waits on its cache gauges and reports its plan use)."""

from __future__ import annotations

from collections.abc import Mapping

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


def plan_use(url: str) -> dict[str, int]:
    """The extender's scored prioritize calls by the plan they saw (``augur_extender_prioritize_plans_total``:
    current, provisional, none); empty when its metrics cannot be read."""
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    return {
        sample.labels["plan"]: int(sample.value)
        for family in text_string_to_metric_families(text)
        if family.name == "augur_extender_prioritize_plans"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
