"""The Migration API: defaults, the mode/target rule, and the generated immutability rule."""

from __future__ import annotations

import pytest

from augur.api.crdgen import crd
from augur.api.v1alpha1 import MIGRATION, MigrationSpec, MigrationStatus
from augur.api.validation import SpecError, parse


def test_defaults_reserve_first_and_act() -> None:
    spec = parse(MigrationSpec, {"podName": "web-1"})
    assert (spec.mode, spec.approved, spec.target_node) == ("ReservationFirst", True, "")
    assert spec.eviction_timeout == "5m" and spec.ready_timeout == "5m" and spec.expected_gain is None


def test_target_node_needs_reservation_first() -> None:
    with pytest.raises(SpecError, match="targetNode needs mode ReservationFirst"):
        parse(MigrationSpec, {"podName": "web-1", "mode": "EvictDirectly", "targetNode": "n1"})
    assert parse(MigrationSpec, {"podName": "web-1", "mode": "EvictDirectly"}).mode == "EvictDirectly"


def test_gain_needs_kind_and_value() -> None:
    spec = parse(MigrationSpec, {"podName": "p", "expectedGain": {"kind": "NetworkCost", "value": 12.5}})
    assert spec.expected_gain is not None and spec.expected_gain.value == 12.5
    with pytest.raises(SpecError, match="kind"):
        parse(MigrationSpec, {"podName": "p", "expectedGain": {"kind": "Vibes", "value": 1}})


def _spec_schema() -> dict:
    return crd(MIGRATION)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_immutability_rule_covers_every_field_but_approved() -> None:
    rules = _spec_schema()["x-kubernetes-validations"]
    immutable = rules[0]["rule"]
    for name in _spec_schema()["properties"]:
        assert (f"self.{name} == oldSelf.{name}" in immutable) == (name != "approved"), name
    assert rules[1]["rule"] == "self.approved || !oldSelf.approved"


def test_status_round_trips_through_the_model() -> None:
    raw = {
        "phase": "Succeeded",
        "phaseHistory": [{"phase": "Reserving", "time": "2026-01-01T00:00:00Z", "message": "m"}],
        "durations": {"totalSeconds": 3.5},
        "predictedGain": {"kind": "NodeLoadStdDev", "value": 0.1},
        "reason": "Moved",
    }
    status = MigrationStatus.model_validate(raw)
    dumped = status.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert dumped["phaseHistory"][0]["phase"] == "Reserving" and dumped["durations"] == {"totalSeconds": 3.5}
