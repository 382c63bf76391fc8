"""Measured traffic in a WorkloadProfile's status replaces the spec weight of that dependency."""

from __future__ import annotations

from augur.api.v1alpha1 import WorkloadProfileSpec, WorkloadProfileStatus
from augur.api.validation import parse
from augur.placement.convert import rules_from_api

SPEC = {
    "scaleTargetRef": {"kind": "Deployment", "name": "web"},
    "dependencies": [
        {"name": "api", "traffic": 5, "trafficQuery": "q"},
        {"name": "db", "namespace": "data", "traffic": 2},
    ],
}


def test_measured_traffic_overrides_spec_weight_only_for_measured_dependencies() -> None:
    spec = parse(WorkloadProfileSpec, SPEC)
    status = parse(
        WorkloadProfileStatus,
        {"traffic": [{"name": "api", "traffic": 42.0, "measuredAt": "2026-11-23T12:00:00Z"}]},
        "status",
    )
    weights = {d.peer: d.traffic for d in rules_from_api("shop", "web", spec, None, status).dependencies}
    assert list(weights.values()) == [42.0, 2.0]
    plain = {d.peer: d.traffic for d in rules_from_api("shop", "web", spec).dependencies}
    assert list(plain.values()) == [5.0, 2.0]
