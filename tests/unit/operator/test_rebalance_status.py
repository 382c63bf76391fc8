"""A rebalancer run → the RebalancePolicy status, conditions and Events."""

from __future__ import annotations

from datetime import UTC, datetime

from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec, RebalancePolicyStatus
from augur.migration.limits import Readings
from augur.migration.result import Figures, Proposal, RebalanceResult
from augur.operator.rebalance_status import LoadOrigin, after_run, not_in_use, off

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REQUESTS = LoadOrigin(False, "Requests", "load comes from CPU requests")


def result(spread: float, proposals: tuple[Proposal, ...] = (), notes: tuple[str, ...] = ()) -> RebalanceResult:
    figures = Figures(spread, spread / 2, None, 120.0)
    return RebalanceResult(proposals, figures, figures, Readings(3, 0), ("Rebalance",), notes)


def by_type(status: dict[str, object]) -> dict[str, dict[str, str]]:
    return {c["type"]: c for c in status["conditions"]}  # type: ignore[index,attr-defined]


def test_dry_run_says_nothing_moves_and_lists_the_plans() -> None:
    move = Proposal("app", "web-1", "app/Deployment/web", None, "n1", "n3", "Rebalance", 0.05, 0.05, 0, 1.5, "why")
    status, events = after_run(
        {}, RebalancePolicySpec(), 2, NOW, result(0.375, (move,)), REQUESTS, [("app/web-1", "web-1-abcde")], 1
    )
    RebalancePolicyStatus.model_validate(status)
    c = by_type(status)
    assert (c["Active"]["status"], c["Active"]["reason"]) == ("False", "DryRun")
    assert "no pod is moved" in c["Active"]["message"]
    assert (c["Balanced"]["status"], c["Balanced"]["reason"]) == ("False", "SpreadAboveThreshold")
    assert c["LoadMeasured"]["status"] == "False" and status["loadSource"] == "Requests"
    assert status["nodeLoadSpread"] == 37.5 and status["readingsAboveThreshold"] == 3
    assert status["proposals"] == [
        {"pod": "app/web-1", "sourceNode": "n1", "targetNode": "n3", "reason": "Rebalance", "predictedGain": 5.0,
         "migration": "web-1-abcde"}
    ]  # fmt: skip
    reasons = [e.reason for e in events]
    assert "MigrationsCreated" in reasons and "SpreadAboveThreshold" in reasons
    created = next(e for e in events if e.reason == "MigrationsCreated")
    assert "dry run" in created.message and "app/web-1 n1 -> n3" in created.message
    # the same picture again: no transition, no Event but nothing new
    again, events = after_run(status, RebalancePolicySpec(), 2, NOW, result(0.375), REQUESTS, [], 1)
    assert events == [] and again["proposals"] == status["proposals"]


def test_off_and_not_in_use_say_so() -> None:
    status, events = off({}, 1, "2026-11-30T09:00:00Z")
    c = by_type(status)
    assert (c["Active"]["reason"], c["Ready"]["status"]) == ("Off", "True")
    assert "nothing is computed" in c["Active"]["message"] and [e.reason for e in events] == ["Off"]
    status, events = not_in_use({}, 1, "2026-11-30T09:00:00Z", "Superseded", "RebalancePolicy default acts")
    assert by_type(status)["Ready"]["reason"] == "Superseded" and events[0].type == "Warning"
