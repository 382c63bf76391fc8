"""What a ``NetworkTopology`` reconcile decides: the effective zone matrix, when it was measured, and
the ``Ready`` and ``MeasurementsAvailable`` conditions.

Fallback when measuring fails (Prometheus unreachable, a bad query, no data): the matrix from the last
successful measurement is kept as long as the spec has not changed, and ``MeasurementsAvailable=False``
says why; otherwise the matrix falls back to levels and explicit overrides. Placement never stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from augur.api.conditions import ConditionUpdate, find_condition, merge_condition
from augur.api.durations import parse_duration
from augur.api.meta import parse_time
from augur.api.v1alpha1 import NetworkTopologySpec
from augur.api.v1alpha1.networktopology import MeasuredQuery
from augur.api.validation import SpecError, parse
from augur.operator.reconcile import EventToPost
from augur.placement.convert import topology_from_api
from augur.placement.measured import Measurement, ZoneValue, effective_zone_matrix, measured_distances
from augur.prom.client import PromError, Sample

Query = Callable[[str], list[Sample]]
MEASURED = "MeasurementsAvailable"


@dataclass(frozen=True)
class TopologyOutcome:
    status: dict[str, Any]
    events: tuple[EventToPost, ...]


def _measurement(q: MeasuredQuery, query: Query) -> Measurement:
    samples = query(q.query)
    values = [
        ZoneValue(s.labels[q.source_label], s.labels[q.destination_label], s.value)
        for s in samples
        if q.source_label in s.labels and q.destination_label in s.labels
    ]
    if not values:
        raise PromError("NoData", f"{q.query!r} returned no samples with labels {q.source_label}/{q.destination_label}")
    return Measurement(values, q.best, q.worst, q.weight)


def _due(spec: NetworkTopologySpec, old: dict[str, Any], now: datetime, generation: int | None) -> bool:
    assert spec.measurements is not None
    measured_at = parse_time(old.get("measuredAt"))
    if measured_at is None or old.get("observedGeneration") != generation:
        return True
    return (now - measured_at).total_seconds() >= parse_duration(spec.measurements.refresh_interval)


def reconcile_topology(
    body: dict[str, Any], zones: dict[str, str], query: Query | None, now: datetime
) -> TopologyOutcome:
    """``zones`` maps each zone to its region (from node labels); ``query`` is None without Prometheus."""
    meta, old = body.get("metadata", {}), body.get("status") or {}
    generation = meta.get("generation")
    conditions: list[dict[str, Any]] = old.get("conditions") or []
    status: dict[str, Any] = {"observedGeneration": generation}
    updates: list[ConditionUpdate] = []
    try:
        spec = parse(NetworkTopologySpec, body.get("spec"))
    except SpecError as exc:
        updates.append(ConditionUpdate("Ready", "False", "InvalidSpec", f"spec is invalid: {exc}"))
        return _finish(status, conditions, updates, generation)
    model = topology_from_api(spec)
    names = sorted(zones)
    measured_update, measured = _measure(spec, old, now, generation, query)
    not_due = measured_update is None
    failed_but_current = measured is None and old.get("matrix") and old.get("observedGeneration") == generation
    if not_due or (
        measured_update is not None
        and measured_update.status == "False"
        and failed_but_current
        and measured_update.reason not in ("NotConfigured", "PrometheusNotConfigured")
    ):
        status["matrix"], status["measuredAt"] = old.get("matrix"), old.get("measuredAt")
    else:
        status["matrix"] = {"zones": names, "distances": effective_zone_matrix(model, names, zones, measured or {})}
        if measured is not None:
            status["measuredAt"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if measured_update is not None:
        updates.append(measured_update)
    updates.append(ConditionUpdate("Ready", "True", "MatrixComputed", f"{len(names)} zones: {', '.join(names)}"))
    return _finish({k: v for k, v in status.items() if v is not None}, conditions, updates, generation)


def _measure(
    spec: NetworkTopologySpec, old: dict[str, Any], now: datetime, generation: int | None, query: Query | None
) -> tuple[ConditionUpdate | None, dict[tuple[str, str], float] | None]:
    m = spec.measurements
    queries = [q for q in (m.latency, m.bandwidth, m.loss) if q is not None] if m else []
    if not queries:
        return ConditionUpdate(MEASURED, "False", "NotConfigured", "no measurements configured; using levels"), None
    if query is None:
        return ConditionUpdate(MEASURED, "False", "PrometheusNotConfigured", "set AUGUR_PROMETHEUS_URL"), None
    if not _due(spec, old, now, generation):
        return None, None
    try:
        distances = measured_distances([_measurement(q, query) for q in queries])
    except PromError as exc:
        return ConditionUpdate(MEASURED, "False", exc.reason, f"{exc}; keeping the last measured matrix"), None
    return ConditionUpdate(MEASURED, "True", "Measured", f"{len(distances)} zone pairs measured"), distances


def _finish(
    status: dict[str, Any], conditions: list[dict[str, Any]], updates: list[ConditionUpdate], generation: int | None
) -> TopologyOutcome:
    events = []
    for update in updates:
        previous = find_condition(conditions, update.type)
        conditions, _ = merge_condition(conditions, update, generation)
        if previous is None or (previous.get("status"), previous.get("reason")) != (update.status, update.reason):
            kind = "Normal" if update.status == "True" or update.reason == "NotConfigured" else "Warning"
            events.append(EventToPost(kind, update.reason, update.message))
    status["conditions"] = conditions
    return TopologyOutcome(status, tuple(events))


def utcnow() -> datetime:
    return datetime.now(UTC)
