"""The scaling cycle with conflicts, the Lease gate and measured lead time wired in (kopf-free)."""

from __future__ import annotations

from typing import Any

import pytest

from augur.kube.autoscalers import HPA, TargetKey, claim_from_body
from augur.operator.cycle import scale_profile
from augur.operator.operations import LeadTimes
from augur.operator.reconcile import Outcome
from augur.scaling.leadtime import PodStartup
from tests.unit.operator.test_scaler import make, policy, spec

TARGET = {"kind": "Deployment", "name": "web"}


def body(status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns", "uid": "uid-1", "generation": 1},
        "spec": {"scaleTargetRef": TARGET},
        "status": status or {},
    }


def hpa_indexes() -> dict[str, Any]:
    raw = {"metadata": {"name": "web-hpa", "namespace": "ns"}, "spec": {"scaleTargetRef": TARGET}}
    return {"augur_hpa_claims": {TargetKey("ns", "apps", "Deployment", "web"): [claim_from_body(HPA, raw)]}}


def cond(status: dict[str, Any], type_: str) -> tuple[str, str]:
    c = next(c for c in status["conditions"] if c["type"] == type_)
    return c["status"], c["reason"]


def ready(previous: dict[str, Any] | None = None) -> Outcome:
    """As the reconcile hands it over: conditions start from the previous status."""
    conditions = (previous or {}).get("conditions", [])
    return Outcome(
        {"conditions": conditions, "observedGeneration": 1, "selector": "app=web"}, (), True, spec(), policy()
    )


def test_an_hpa_blocks_writes_with_one_event_and_its_removal_resumes_them() -> None:
    scaler, _, targets, _, clock = make(replicas=1)
    status, events = scale_profile(body(), ready(), scaler, hpa_indexes())
    assert targets.writes == []
    assert cond(status, "Conflict") == ("True", "HorizontalPodAutoscaler")
    assert cond(status, "Scaling") == ("False", "WritesBlocked")
    assert status["desiredReplicas"] > 1  # it decided: the block is what held the write back
    assert [e.reason for e in events if e.reason.startswith("Conflict")] == ["Conflict"]
    assert "HorizontalPodAutoscaler ns/web-hpa" in next(e for e in events if e.reason == "Conflict").message
    clock.now += 30
    status, events = scale_profile(body(status), ready(status), scaler, hpa_indexes())
    assert targets.writes == [] and not [e for e in events if e.reason.startswith("Conflict")]
    clock.now += 30
    status, events = scale_profile(body(status), ready(status), scaler, {})
    assert targets.writes and cond(status, "Conflict") == ("False", "NoConflict")
    assert "ConflictResolved" in [e.reason for e in events]


@pytest.mark.parametrize(("lead_time", "used"), [("auto", True), ("10m", False)])
def test_measured_lead_time_is_used_with_auto_and_reported_otherwise(lead_time: str, used: bool) -> None:
    scaler, *_ = make(replicas=3)
    pods = [PodStartup(f"u{i}", 1000.0 + i, s) for i, s in enumerate([80.0, 90.0, 100.0, 110.0])]
    seen: list[tuple[str, str]] = []

    def read(namespace: str, selector: str) -> list[PodStartup]:
        seen.append((namespace, selector))
        return pods

    outcome = Outcome(
        {"conditions": [], "observedGeneration": 1, "selector": "app=web"},
        (),
        True,
        spec(),
        policy("ForecastOnly", leadTime=lead_time),
    )
    status, _ = scale_profile(body(), outcome, scaler, {}, LeadTimes(read))
    assert seen == [("ns", "app=web")]
    measured = status["measuredLeadTime"]
    assert measured["seconds"] == pytest.approx(107.0) and measured["used"] is used
    assert measured["samples"] == [80.0, 90.0, 100.0, 110.0]
    assert status["leadTimeSeconds"] == (pytest.approx(107.0) if used else 600)
