"""Models accept valid specs, apply defaults, and report every field error at once."""

from __future__ import annotations

import pytest

from augur.api.conditions import ConditionUpdate, merge_condition
from augur.api.durations import parse_duration
from augur.api.v1alpha1 import (
    MigrationSpec,
    NetworkTopologySpec,
    ScalingPolicySpec,
    WorkloadProfileSpec,
)
from augur.api.validation import SpecError, parse


def test_workload_profile_accepts_any_scalable_kind_and_defaults() -> None:
    spec = parse(
        WorkloadProfileSpec,
        {"scaleTargetRef": {"apiVersion": "example.com/v1", "kind": "Worker", "name": "w"}},
    )
    assert spec.scale_target_ref.kind == "Worker"
    assert spec.policy_ref is None and spec.dependencies == []
    default = parse(WorkloadProfileSpec, {"scaleTargetRef": {"kind": "StatefulSet", "name": "db"}})
    assert default.scale_target_ref.api_version == "apps/v1"


def test_every_error_is_reported_with_camel_case_paths() -> None:
    with pytest.raises(SpecError) as info:
        parse(
            WorkloadProfileSpec,
            {
                "scaleTargetRef": {"kind": "deployment"},
                "demand": {"query": "", "capacityPerReplica": 0},
                "dependencies": [{"name": "api", "traffic": -1}],
                "colour": "blue",
            },
        )
    paths = {e.path for e in info.value.errors}
    assert paths == {
        "spec.scaleTargetRef.kind",
        "spec.scaleTargetRef.name",
        "spec.demand.query",
        "spec.demand.capacityPerReplica",
        "spec.dependencies[0].traffic",
        "spec.colour",
    }
    assert "spec.colour: Extra inputs are not permitted" in str(info.value)


def test_non_object_spec_is_an_error() -> None:
    with pytest.raises(SpecError, match="spec: must be an object"):
        parse(WorkloadProfileSpec, None)


def test_scaling_policy_cross_field_rules_mirror_cel() -> None:
    assert parse(ScalingPolicySpec, {"maxReplicas": 5}).mode == "ForecastOnly"
    with pytest.raises(SpecError, match="minReplicas must be less than or equal to maxReplicas"):
        parse(ScalingPolicySpec, {"minReplicas": 6, "maxReplicas": 5})
    with pytest.raises(SpecError, match="allowScaleToZero"):
        parse(ScalingPolicySpec, {"minReplicas": 0, "maxReplicas": 5})
    assert parse(ScalingPolicySpec, {"minReplicas": 0, "maxReplicas": 5, "allowScaleToZero": True}).min_replicas == 0
    assert parse(ScalingPolicySpec, {"maxReplicas": 5, "leadTime": "auto"}).lead_time == "auto"
    with pytest.raises(SpecError, match="leadTime"):
        parse(ScalingPolicySpec, {"maxReplicas": 5, "leadTime": "soon"})


def test_scaling_policy_behavior_defaults_match_hpa() -> None:
    policy = parse(ScalingPolicySpec, {"maxReplicas": 5})
    assert policy.behavior.scale_down.stabilization_window == "5m"
    assert policy.behavior.scale_up.max_step_pods == 4


def test_network_topology_and_migration() -> None:
    topo = parse(NetworkTopologySpec, {"overrides": [{"scope": "Zone", "from": "a", "to": "b", "distance": 20}]})
    assert topo.levels.cross_region == 100 and topo.overrides[0].from_ == "a"
    with pytest.raises(SpecError, match="distance"):
        parse(NetworkTopologySpec, {"overrides": [{"scope": "Zone", "from": "a", "to": "b", "distance": 101}]})
    mig = parse(MigrationSpec, {"podName": "web-1"})
    assert mig.mode == "ReservationFirst" and mig.reason == "Manual" and mig.approved is True


def test_models_round_trip_camel_case() -> None:
    raw = {"maxReplicas": 7, "targetUtilization": 0.6, "behavior": {"scaleUp": {"maxStepPods": 2}}}
    dumped = parse(ScalingPolicySpec, raw).model_dump(exclude_defaults=True)
    assert dumped == {"maxReplicas": 7, "targetUtilization": 0.6, "behavior": {"scaleUp": {"maxStepPods": 2}}}


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("2m", 120), ("1h30m", 5400), ("14d", 1209600), ("500ms", 0.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "1x", "-1s"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="use numbers with units"):
        parse_duration(text)


def test_condition_transition_time_moves_only_on_status_change() -> None:
    conditions, changed = merge_condition([], ConditionUpdate("Ready", "False", "TargetNotFound", "x"), 1, now="t1")
    assert changed and conditions[0]["lastTransitionTime"] == "t1" and conditions[0]["observedGeneration"] == 1
    conditions, changed = merge_condition(
        conditions, ConditionUpdate("Ready", "False", "PolicyNotFound", "y"), 2, now="t2"
    )
    assert not changed and conditions[0]["lastTransitionTime"] == "t1" and conditions[0]["reason"] == "PolicyNotFound"
    conditions, changed = merge_condition(conditions, ConditionUpdate("Ready", "True", "TargetResolved"), 2, now="t3")
    assert changed and conditions[0]["lastTransitionTime"] == "t3"
    conditions, _ = merge_condition(
        conditions, ConditionUpdate("MetricsAvailable", "Unknown", "NotChecked"), 2, now="t4"
    )
    assert [c["type"] for c in conditions] == ["Ready", "MetricsAvailable"]


def test_object_defaults_written_in_the_schema_equal_the_model_defaults() -> None:
    """A `default` on an object field must be what the model would produce (the API server applies it)."""
    from augur.api import KINDS
    from augur.api.crdgen import openapi_schema

    for kind in KINDS:
        schema = openapi_schema(kind.spec)
        for name, prop in schema.get("properties", {}).items():
            if prop.get("type") == "object" and "default" in prop and prop["default"]:
                field = next(f for n, f in kind.spec.model_fields.items() if name in {f.alias or n, n})
                produced = field.get_default(call_default_factory=True).model_dump(by_alias=True)
                assert {k: produced[k] for k in prop["default"]} == prop["default"], f"{kind.info.kind}.{name}"


def test_kubernetes_timestamps_read_as_epoch_seconds_and_bad_ones_as_none() -> None:
    from augur.api.meta import epoch_seconds

    assert epoch_seconds("1970-01-01T00:01:40Z") == 100.0
    assert epoch_seconds("2026-12-06T10:00:01.5+00:00") == epoch_seconds("2026-12-06T10:00:01Z") + 0.5  # type: ignore[operator]
    assert epoch_seconds(None) is None and epoch_seconds("") is None and epoch_seconds("yesterday") is None


def test_kubernetes_timestamps_read_as_aware_datetimes_micro_time_included() -> None:
    from datetime import UTC, datetime

    from augur.api.meta import parse_time

    assert parse_time("2026-12-06T19:05:46Z") == datetime(2026, 12, 6, 19, 5, 46, tzinfo=UTC)
    assert parse_time("2026-12-06T19:05:46.123456Z") == datetime(2026, 12, 6, 19, 5, 46, 123456, tzinfo=UTC)
    assert parse_time(None) is None and parse_time("") is None and parse_time("soon") is None
