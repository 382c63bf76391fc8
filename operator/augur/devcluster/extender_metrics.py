"""Reading a running extender's ``/metrics`` page (the replay waits on its cache gauges and reports its plan use,
the plans its planner made and how far its view lagged the scheduler's binds)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families


def gauges_at_least(url: str, want: Mapping[str, float], verify: ssl.SSLContext | bool = True) -> bool:
    """Whether every gauge in ``want`` is at least its value on the extender at ``url``."""
    seen: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=5, verify=verify).text.splitlines():
        name, _, value = line.partition(" ")
        if name in want:
            seen[name] = float(value)
    return all(seen.get(k, 0.0) >= v for k, v in want.items())


def _families(url: str, verify: ssl.SSLContext | bool = True) -> list[Any]:
    try:
        text = httpx.get(f"{url}/metrics", timeout=5, verify=verify).text
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


@dataclass(frozen=True)
class PassReport:
    """What a replay pass reads from the extender when it ends (one read of the metrics page)."""

    plan_use: dict[str, int]
    """:func:`plan_use`."""
    unseen_binds: dict[str, Any]
    """:func:`unseen_binds`."""
    plans: dict[str, int]
    """The planner's plans by kind (``augur_extender_plans_total``: full, incremental, provisional, refreshed,
    failed, superseded, cut_short; the kinds it has counted)."""
    gate: dict[str, float]
    """Pods let through the plan gate by reason (``augur_extender_plan_gate_lifts_total``) and, when any was,
    ``mean_wait_seconds`` (``augur_extender_plan_gate_wait_seconds``); empty when no pod carried the gate."""


def pass_report(url: str, verify: ssl.SSLContext | bool = True) -> PassReport:
    families = _families(url, verify)
    plans = _counts(families, "augur_extender_plans", "kind")
    return PassReport(_plan_use(families), _unseen_binds(families), plans, _gate(families))


def merge_reports(reports: Sequence[PassReport]) -> PassReport:
    """Several extender replicas' reports as one: counts summed, means weighted by their counts."""
    unseen = [r.unseen_binds for r in reports if r.unseen_binds.get("calls")]
    calls = sum(int(u["calls"]) for u in unseen)
    merged_unseen: dict[str, Any] = {}
    if unseen:
        mean = sum(float(u["mean"]) * int(u["calls"]) for u in unseen) / calls
        at_most: dict[str, int] = {}
        for u in unseen:
            for bound, count in u["at_most"].items():
                at_most[bound] = at_most.get(bound, 0) + int(count)
        merged_unseen = {"calls": calls, "mean": round(mean, 3), "at_most": at_most}
    gate: dict[str, float] = {}
    waited = lifted = 0.0
    for r in reports:
        n = sum(v for k, v in r.gate.items() if k != "mean_wait_seconds")
        for k, v in r.gate.items():
            if k != "mean_wait_seconds":
                gate[k] = gate.get(k, 0.0) + v
        if "mean_wait_seconds" in r.gate:
            waited, lifted = waited + r.gate["mean_wait_seconds"] * n, lifted + n
    if lifted:
        gate["mean_wait_seconds"] = round(waited / lifted, 3)
    return PassReport(_sum([r.plan_use for r in reports]), merged_unseen, _sum([r.plans for r in reports]), gate)


def _sum(counts: Sequence[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


def _gate(families: list[Any]) -> dict[str, float]:
    lifted = _counts(families, "augur_extender_plan_gate_lifts", "reason")
    out: dict[str, float] = {reason: float(count) for reason, count in lifted.items()}
    count, total = _count_and_sum(families, "augur_extender_plan_gate_wait_seconds")
    if count:
        out["mean_wait_seconds"] = round(total / count, 3)
    return out


def _plan_use(families: list[Any]) -> dict[str, int]:
    return _counts(families, "augur_extender_prioritize_plans", "plan")


def _counts(families: list[Any], name: str, label: str) -> dict[str, int]:
    """A counter's values by one label."""
    return {
        sample.labels[label]: int(sample.value)
        for family in families
        if family.name == name
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def _count_and_sum(families: list[Any], name: str) -> tuple[int, float]:
    """A histogram's observation count and sum (0 and 0.0 when it has none)."""
    for family in families:
        if family.name == name:
            samples = {s.name.rsplit("_", 1)[-1]: s for s in family.samples if not s.name.endswith("_bucket")}
            count = int(samples["count"].value) if "count" in samples else 0
            return count, float(samples["sum"].value) if "sum" in samples else 0.0
    return 0, 0.0


def _unseen_binds(families: list[Any]) -> dict[str, Any]:
    for family in families:
        if family.name != "augur_extender_prioritize_unseen_binds":
            continue
        calls, total = _count_and_sum(families, family.name)
        bounded = [s for s in family.samples if s.name.endswith("_bucket") and s.labels["le"] != "+Inf"]
        buckets = {s.labels["le"]: int(s.value) for s in bounded}
        return {"calls": calls, "mean": round(total / calls, 3) if calls else None, "at_most": buckets}
    return {}
