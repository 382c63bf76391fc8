"""Operator metrics: bounded labels, per-profile series removed on delete, cadence accounting."""

from __future__ import annotations

import urllib.request

from prometheus_client import REGISTRY, generate_latest

from augur.devcluster.ports import free_port
from augur.operator import metrics


def sample(name: str, labels: dict[str, str] | None = None) -> float | None:
    return REGISTRY.get_sample_value(name, labels or {})


def test_labels_outside_the_fixed_sets_become_other() -> None:
    before = sample("augur_query_errors_total", {"reason": "Other"}) or 0.0
    metrics.query_error("some new reason with a 'quote'")
    metrics.query_error("NoData")
    assert sample("augur_query_errors_total", {"reason": "Other"}) == before + 1
    assert (sample("augur_query_errors_total", {"reason": "NoData"}) or 0) >= 1
    metrics.decision("Weird", 0.01)
    assert (sample("augur_decisions_total", {"kind": "Other"}) or 0) >= 1
    metrics.scale_write_blocked("Conflict")
    metrics.scale_write(succeeded=False)
    assert (sample("augur_scale_writes_blocked_total", {"reason": "Conflict"}) or 0) >= 1
    assert (sample("augur_scale_writes_total", {"result": "Failed"}) or 0) >= 1


def test_per_profile_series_are_removed_with_the_profile() -> None:
    before = sample("augur_profiles") or 0.0  # other tests in this process may have recorded profiles
    metrics.profile("ns1", "web", mode="Auto", conflict=True, forecast_error=0.12, lead_time_seconds=95)
    labels = {"namespace": "ns1", "name": "web"}
    assert sample("augur_profile_mode", {**labels, "augur_profile_mode": "Auto"}) == 1
    assert sample("augur_profile_mode", {**labels, "augur_profile_mode": "Off"}) == 0
    assert sample("augur_profile_conflict", labels) == 1
    assert sample("augur_profile_lead_time_seconds", labels) == 95
    assert sample("augur_profiles") == before + 1
    metrics.profile("ns1", "web", mode="Bogus")  # an unknown mode leaves the series alone
    assert sample("augur_profile_mode", {**labels, "augur_profile_mode": "Auto"}) == 1
    metrics.forget_profile("ns1", "web")
    text = generate_latest(REGISTRY).decode()
    assert 'namespace="ns1"' not in text
    assert sample("augur_profiles") == before
    metrics.forget_profile("ns1", "web")  # twice is harmless


def test_cadence_missed_counts_whole_cadences_late() -> None:
    before = sample("augur_cadence_missed_total") or 0.0
    assert metrics.cadence("ns", "p", 0.0, 30.0) == 0  # first decision
    assert metrics.cadence("ns", "p", 31.0, 30.0) == 0  # 1 s late: on time
    assert metrics.cadence("ns", "p", 75.0, 30.0) == 0  # 14 s late: within half a cadence
    assert metrics.cadence("ns", "p", 121.0, 30.0) == 1  # 16 s late: one missed
    assert metrics.cadence("ns", "p", 197.0, 30.0) == 2  # 46 s late: two missed
    assert sample("augur_cadence_missed_total") == before + 3
    metrics.forget_profile("ns", "p")


def test_serving_metrics_and_a_taken_port_does_not_raise() -> None:
    port = free_port()
    assert metrics.serve(f"127.0.0.1:{port}")
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "augur_decisions_total" in body and "process_resident_memory_bytes" in body
    assert not metrics.serve(f"127.0.0.1:{port}")
    assert not metrics.serve("")


def test_profile_status_mirrors_the_applied_status_for_the_dashboard() -> None:
    status = {
        "currentReplicas": 9,
        "desiredReplicas": 13,
        "readyReplicas": 8,
        "demand": 410.5,
        "anomalyScore": 0.25,
        "forecast": {"peakP50": 900.0, "peakUpper": 1240.0},
        "conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "MetricsAvailable", "status": "False"},
            {"type": "Scaling", "status": "Unknown"},
        ],
    }
    metrics.profile_status("ns2", "api", status, 50.0)
    labels = {"namespace": "ns2", "name": "api"}
    assert sample("augur_profile_demand", labels) == 410.5
    assert sample("augur_profile_capacity", labels) == 400.0  # 8 ready x 50 per replica
    assert sample("augur_profile_forecast_peak", {**labels, "bound": "upper"}) == 1240.0
    assert sample("augur_profile_replicas", {**labels, "kind": "desired"}) == 13
    assert sample("augur_profile_anomaly_score", labels) == 0.25
    assert sample("augur_profile_condition", {**labels, "condition": "Ready"}) == 1
    assert sample("augur_profile_condition", {**labels, "condition": "MetricsAvailable"}) == 0
    assert sample("augur_profile_condition", {**labels, "condition": "Scaling"}) == -1
    assert sample("augur_profile_condition", {**labels, "condition": "Conflict"}) is None
    # a field that disappears from status (metrics outage: no demand) removes its series, no stale reading
    metrics.profile_status("ns2", "api", {**status, "demand": None, "forecast": {}}, None)
    assert sample("augur_profile_demand", labels) is None
    assert sample("augur_profile_forecast_peak", {**labels, "bound": "p50"}) is None
    assert sample("augur_profile_capacity", labels) is None
    metrics.forget_profile("ns2", "api")
    assert sample("augur_profile_replicas", {**labels, "kind": "current"}) is None
    assert sample("augur_profile_condition", {**labels, "condition": "Ready"}) is None
