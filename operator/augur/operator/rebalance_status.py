"""A rebalancer run → the ``RebalancePolicy`` status (through the API models), its conditions and Events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from augur.api.conditions import ConditionUpdate, find_condition, merge_condition
from augur.api.v1alpha1.rebalancepolicy import PlannedMove, RebalancePolicySpec, RebalancePolicyStatus
from augur.migration.result import RebalanceResult
from augur.operator.reconcile import EventToPost

MODE_CONDITION = {
    "Auto": ConditionUpdate("Active", "True", "Auto", "moves are carried out (Migrations are created approved)"),
    "DryRun": ConditionUpdate(
        "Active",
        "False",
        "DryRun",
        "dry run: moves are recorded as Migrations with approved: false, which stay Pending; no pod is moved",
    ),
    "Off": ConditionUpdate("Active", "False", "Off", "mode Off: nothing is computed and no pod is moved"),
}


@dataclass(frozen=True)
class LoadOrigin:
    """Where a run's load came from, as the ``LoadMeasured`` condition says it."""

    measured: bool
    reason: str
    message: str


def _conditions(
    old: dict[str, Any], updates: list[ConditionUpdate], generation: int | None, now: str
) -> tuple[list[dict[str, Any]], list[ConditionUpdate]]:
    conditions = list(old.get("conditions") or [])
    changed = []
    for update in updates:
        previous = find_condition(conditions, update.type)
        conditions, flipped = merge_condition(conditions, update, generation, now)
        if flipped or (previous is not None and previous.get("reason") != update.reason):
            changed.append(update)
    return conditions, changed


def not_in_use(
    old: dict[str, Any], generation: int | None, now: str, reason: str, message: str
) -> tuple[dict[str, Any], list[EventToPost]]:
    """Status of a policy that does not act (invalid, superseded): ``Ready=False`` with the reason."""
    conditions, changed = _conditions(old, [ConditionUpdate("Ready", "False", reason, message)], generation, now)
    status = RebalancePolicyStatus.model_validate(
        {**_kept(old), "observedGeneration": generation, "conditions": conditions}
    )
    events = [EventToPost("Warning", c.reason, c.message) for c in changed]
    return status.model_dump(by_alias=True, exclude_none=True, mode="json"), events


def _kept(old: dict[str, Any]) -> dict[str, Any]:
    """Fields of the old status that stay valid (the ones a run did not recompute)."""
    keep = ("proposals", "lastProposalTime", "migrationsCreated")
    return {k: old[k] for k in keep if k in old}


def off(old: dict[str, Any], generation: int | None, now: str) -> tuple[dict[str, Any], list[EventToPost]]:
    updates = [
        ConditionUpdate("Ready", "True", "PolicyActive", "this policy configures the rebalancer"),
        MODE_CONDITION["Off"],
    ]
    conditions, changed = _conditions(old, updates, generation, now)
    status = RebalancePolicyStatus.model_validate(
        {**_kept(old), "observedGeneration": generation, "conditions": conditions}
    )
    events = [EventToPost("Normal", c.reason, c.message) for c in changed if c.type == "Active"]
    return status.model_dump(by_alias=True, exclude_none=True, mode="json"), events


def after_run(
    old: dict[str, Any],
    spec: RebalancePolicySpec,
    generation: int | None,
    now: datetime,
    result: RebalanceResult,
    origin: LoadOrigin,
    created: list[tuple[str, str]],
    total_created: int,
) -> tuple[dict[str, Any], list[EventToPost]]:
    """``created``: (proposal key, Migration name) of the Migrations this run created."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    before, thr = result.before, spec.rebalance_threshold / 100
    balanced = before.spread <= thr + 1e-9
    updates = [
        ConditionUpdate("Ready", "True", "PolicyActive", "this policy configures the rebalancer"),
        MODE_CONDITION[spec.mode],
        ConditionUpdate(
            "Balanced",
            "True" if balanced else "False",
            "WithinThreshold" if balanced else "SpreadAboveThreshold",
            f"node load spread {100 * before.spread:.1f}% "
            f"{'within' if balanced else 'above'} the {spec.rebalance_threshold}% threshold "
            f"({result.readings.above} consecutive reading(s) above)",
        ),
        ConditionUpdate("LoadMeasured", "True" if origin.measured else "False", origin.reason, origin.message),
    ]
    conditions, changed = _conditions(old, updates, generation, stamp)
    names = dict(created)
    fields: dict[str, Any] = {
        **_kept(old),
        "observedGeneration": generation,
        "conditions": conditions,
        "lastRunTime": stamp,
        "loadSource": "Prometheus" if origin.measured else "Requests",
        "nodeLoadSpread": round(100 * before.spread, 3),
        "nodeLoadStddev": round(100 * before.stddev, 3),
        "networkCost": round(before.network_cost, 3),
        "readingsAboveThreshold": result.readings.above,
        "forecastReadingsAboveThreshold": result.readings.forecast_above,
        "migrationsCreated": total_created,
        "notes": [n[:1024] for n in result.notes[:10]],
    }
    if before.forecast_spread is not None:
        fields["forecastLoadSpread"] = round(100 * before.forecast_spread, 3)
    if result.proposals:
        fields["lastProposalTime"] = stamp
        fields["proposals"] = [
            PlannedMove(
                pod=p.key,
                source_node=p.source,
                target_node=p.target,
                reason=p.reason,
                predicted_gain=round(100 * p.gain if p.reason != "NetworkCost" else p.gain, 4),
                migration=names.get(p.key, ""),
            ).model_dump(by_alias=True)
            for p in result.proposals
        ]
    status = RebalancePolicyStatus.model_validate(fields)
    events = [
        EventToPost("Normal" if c.status == "True" or c.type == "Active" else "Warning", c.reason, c.message)
        for c in changed
        if c.type in ("Balanced", "LoadMeasured", "Active")
    ]
    if created:
        verb = "carried out" if spec.mode == "Auto" else "planned (dry run, approved: false)"
        moves = "; ".join(f"{p.key} {p.source} -> {p.target} ({p.reason})" for p in result.proposals if p.key in names)
        events.append(EventToPost("Normal", "MigrationsCreated", f"{len(created)} move(s) to be {verb}: {moves}"))
    return status.model_dump(by_alias=True, exclude_none=True, mode="json"), events
