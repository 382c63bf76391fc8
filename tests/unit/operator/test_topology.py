"""NetworkTopology reconcile: effective matrix, measurements and their fallback (in-memory query)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from augur.operator.topology import reconcile_topology
from augur.placement.measured import Measurement, ZoneValue, measured_distances, normalize
from augur.prom.client import PromError, Sample

ZONES = {"east-a": "east", "east-b": "east", "west-a": "west"}
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATENCY = {"latency": {"query": "zone_rtt_ms", "worst": 100.0}, "refreshInterval": "5m"}


def body(spec: dict[str, Any], status: dict[str, Any] | None = None, generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": "default", "generation": generation}, "spec": spec, "status": status}


def rtt(values: dict[tuple[str, str], float]):
    calls: list[str] = []

    def query(q: str) -> list[Sample]:
        calls.append(q)
        return [Sample({"source_zone": a, "destination_zone": b}, v) for (a, b), v in values.items()]

    return query, calls


def matrix(outcome) -> dict[tuple[str, str], int]:
    m = outcome.status["matrix"]
    return {(a, b): m["distances"][i][j] for i, a in enumerate(m["zones"]) for j, b in enumerate(m["zones"])}


def cond(outcome, type_: str) -> dict[str, Any]:
    return next(c for c in outcome.status["conditions"] if c["type"] == type_)


def test_normalize_clamps_and_handles_inverted_scales() -> None:
    assert normalize(50, 0, 100) == 50 and normalize(150, 0, 100) == 100 and normalize(-5, 0, 100) == 0
    assert normalize(1000, 1000, 0) == 0 and normalize(250, 1000, 0) == 75  # bandwidth: more is better
    with pytest.raises(ValueError, match="differ"):
        normalize(1, 2, 2)


def test_measurements_average_directions_and_combine_by_weight() -> None:
    latency = Measurement([ZoneValue("a", "b", 20), ZoneValue("b", "a", 40), ZoneValue("a", "a", 99)], 0, 100, 3)
    loss = Measurement([ZoneValue("a", "b", 0.5)], 0, 1, 1)
    assert measured_distances([latency, loss]) == {("a", "b"): pytest.approx((3 * 30 + 1 * 50) / 4)}


def test_levels_and_overrides_without_measurements() -> None:
    spec = {"overrides": [{"scope": "Zone", "from": "east-a", "to": "east-b", "distance": 20}]}
    out = reconcile_topology(body(spec), ZONES, None, NOW)
    m = matrix(out)
    assert m["east-a", "east-b"] == 20 and m["east-a", "west-a"] == 100 and m["east-a", "east-a"] == 10
    assert cond(out, "Ready")["status"] == "True" and cond(out, "MeasurementsAvailable")["reason"] == "NotConfigured"
    assert "measuredAt" not in out.status


def test_measured_values_refine_levels_but_not_explicit_overrides() -> None:
    query, _ = rtt({("east-a", "west-a"): 80, ("east-a", "east-b"): 5})
    spec = {"measurements": LATENCY, "overrides": [{"scope": "Zone", "from": "east-a", "to": "east-b", "distance": 20}]}
    out = reconcile_topology(body(spec), ZONES, query, NOW)
    m = matrix(out)
    assert m["east-a", "west-a"] == 80 and m["east-a", "east-b"] == 20 and m["east-b", "west-a"] == 100
    assert out.status["measuredAt"] == "2026-11-23T12:00:00Z"
    assert cond(out, "MeasurementsAvailable")["reason"] == "Measured"


def test_measurements_refresh_only_when_due() -> None:
    query, calls = rtt({("east-a", "west-a"): 80})
    first = reconcile_topology(body({"measurements": LATENCY}), ZONES, query, NOW)
    again = reconcile_topology(body({"measurements": LATENCY}, first.status), ZONES, query, NOW + timedelta(minutes=1))
    assert len(calls) == 1 and again.status["matrix"] == first.status["matrix"] and again.events == ()
    reconcile_topology(body({"measurements": LATENCY}, first.status), ZONES, query, NOW + timedelta(minutes=6))
    assert len(calls) == 2


def test_failed_measurement_keeps_last_matrix_and_says_why() -> None:
    query, _ = rtt({("east-a", "west-a"): 80})
    first = reconcile_topology(body({"measurements": LATENCY}), ZONES, query, NOW)

    def broken(q: str) -> list[Sample]:
        raise PromError("PrometheusUnavailable", "cannot reach Prometheus at http://127.0.0.1:1")

    later = reconcile_topology(body({"measurements": LATENCY}, first.status), ZONES, broken, NOW + timedelta(hours=1))
    assert later.status["matrix"] == first.status["matrix"] and later.status["measuredAt"] == first.status["measuredAt"]
    c = cond(later, "MeasurementsAvailable")
    assert c["status"] == "False" and c["reason"] == "PrometheusUnavailable" and "keeping" in c["message"]
    assert [e.reason for e in later.events] == ["PrometheusUnavailable"]
    assert cond(later, "Ready")["status"] == "True"


def test_no_data_and_invalid_spec() -> None:
    empty, _ = rtt({})
    out = reconcile_topology(body({"measurements": LATENCY}), ZONES, empty, NOW)
    assert cond(out, "MeasurementsAvailable")["reason"] == "NoData"
    assert matrix(out)["east-a", "west-a"] == 100  # levels, since nothing was ever measured
    bad = reconcile_topology(body({"levels": {"sameZone": 500}}), ZONES, None, NOW)
    assert cond(bad, "Ready")["reason"] == "InvalidSpec" and "spec.levels.sameZone" in cond(bad, "Ready")["message"]


def test_an_unreadable_measured_at_is_measured_again_not_a_crash() -> None:
    query, calls = rtt({("east-a", "west-a"): 80})
    first = reconcile_topology(body({"measurements": LATENCY}), ZONES, query, NOW)
    garbled = {**first.status, "measuredAt": "not a time"}
    again = reconcile_topology(body({"measurements": LATENCY}, garbled), ZONES, query, NOW + timedelta(minutes=1))
    assert len(calls) == 2 and again.status["measuredAt"] != "not a time"
    assert again.status["matrix"] == first.status["matrix"]
