"""Measured traffic to dependencies (``spec.dependencies[].trafficQuery``) for ``status.traffic``.

Each query's samples are summed (clamped at zero). Fallback: a dependency whose query fails or returns
nothing keeps its last measured value, and the ``TrafficMeasured`` condition names what failed;
placement then uses the kept value, or the spec's ``traffic`` weight when nothing was ever measured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from augur.api.conditions import ConditionUpdate
from augur.api.v1alpha1 import WorkloadProfileSpec
from augur.prom.client import PromError, Sample

Query = Callable[[str], list[Sample]]
TRAFFIC = "TrafficMeasured"


def measure_traffic(
    spec: WorkloadProfileSpec, old: list[dict[str, Any]], query: Query | None, now: str
) -> tuple[list[dict[str, Any]], ConditionUpdate | None]:
    """New ``status.traffic`` entries and the condition to set (None when no dependency has a query)."""
    deps = [d for d in spec.dependencies if d.traffic_query]
    if not deps:
        return [], None
    kept = {(e.get("name"), e.get("namespace", "")): e for e in old}
    if query is None:
        message = "dependencies have trafficQuery but AUGUR_PROMETHEUS_URL is not set; using spec weights"
        return [kept[k] for k in ((d.name, d.namespace) for d in deps) if k in kept], ConditionUpdate(
            TRAFFIC, "False", "PrometheusNotConfigured", message
        )
    entries: list[dict[str, Any]] = []
    failures: list[tuple[str, PromError]] = []
    for dep in deps:
        try:
            samples = query(dep.traffic_query)
            if not samples:
                raise PromError("NoData", f"{dep.traffic_query!r} returned no samples")
        except PromError as exc:
            failures.append((dep.name, exc))
            if (dep.name, dep.namespace) in kept:
                entries.append(kept[(dep.name, dep.namespace)])
            continue
        value = max(0.0, sum(s.value for s in samples))
        entries.append({"name": dep.name, "namespace": dep.namespace, "traffic": value, "measuredAt": now})
    if failures:
        detail = "; ".join(f"{name}: {error}" for name, error in failures)
        return entries, ConditionUpdate(TRAFFIC, "False", failures[0][1].reason, f"{detail} (keeping last values)")
    return entries, ConditionUpdate(TRAFFIC, "True", "Measured", f"traffic measured for {len(entries)} dependencies")
