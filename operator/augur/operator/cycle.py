"""Joining a reconcile and a scaling cycle into the one status the handler applies.

Status is written by server-side apply as field manager ``augur``: a field missing from an apply is
removed, so every write carries the complete status. Between cycles the scaling fields of the last
cycle are carried over from the object's status (:data:`~augur.operator.scalestatus.SCALING_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from augur.api.conditions import ConditionUpdate
from augur.api.durations import parse_duration
from augur.kube.client import KubeError
from augur.kube.resources import TargetError
from augur.operator import operations
from augur.operator.operations import LeadTimes
from augur.operator.reconcile import EventToPost, Outcome, apply_updates
from augur.operator.scaler import ProfileRef, Scaler
from augur.operator.scalestatus import SCALING, SCALING_FIELDS
from augur.scaling.leadtime import LeadTimeState, estimate

DEFAULT_INTERVAL_SECONDS = 30.0
LEARNING = (
    "the demand history is queued to be read and learned (AUGUR_WARMUP_CONCURRENCY profiles at a time); "
    "the first decision follows"
)


def _first_sight(conditions: list[dict[str, Any]]) -> bool:
    """No scaling cycle has reported yet (a restarted operator keeps the last reported condition)."""
    scaling = next((c for c in conditions if c.get("type") == SCALING), None)
    return scaling is None or scaling.get("reason") in ("NotReady", "LearningHistory")


def scale_profile(
    body: dict[str, Any],
    outcome: Outcome,
    scaler: Scaler,
    indexes: Mapping[str, Any] | None = None,
    lead_times: LeadTimes | None = None,
) -> tuple[dict[str, Any], list[EventToPost]]:
    """The status to apply and the Events to post after ``outcome``; runs a scaling cycle when due.
    ``indexes`` are the kopf indexes of other autoscalers (conflicts), ``lead_times`` measures lead time
    from pods (:mod:`augur.operator.operations`). Transient API failures raise ``KubeError``."""
    meta, old = body.get("metadata") or {}, body.get("status") or {}
    status = dict(outcome.status)
    events = list(outcome.events)
    generation = meta.get("generation")
    carried = {k: old[k] for k in SCALING_FIELDS if k in old}
    if not outcome.ready or outcome.spec is None:
        update = ConditionUpdate(SCALING, "False", "NotReady", "the profile is not Ready (see the Ready condition)")
        status["conditions"], more = apply_updates(status["conditions"], [update], generation)
        return {**carried, **status}, [*events, *more]
    ref = ProfileRef(str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(meta.get("uid") or ""))
    policy = outcome.policy
    interval = parse_duration(policy.decision_interval) if policy else DEFAULT_INTERVAL_SECONDS
    mode = policy.mode if policy else "ForecastOnly"
    gate = operations.guard(body, indexes or {})
    if gate.update is not None:
        status["conditions"], conflict_events = operations.merge_conflict(status["conditions"], gate.update, generation)
        events += conflict_events
    auto_lead = policy is not None and policy.lead_time == "auto"
    lead = lead_times.known(ref.uid, old.get("measuredLeadTime")) if lead_times else None
    if mode != "Off" and outcome.spec.demand is not None and not scaler.due(ref, interval):
        operations.record_cycle(gate.update, ref.namespace, ref.name, mode, interval, None, gate.conflict is not None)
        return {**carried, **_lead_status(lead, auto_lead), **status}, events
    if lead_times is not None and mode != "Off" and outcome.spec.demand is not None:
        selector = str(status.get("selector") or "")
        lead = lead_times.measure(ref.uid, ref.namespace, selector, old.get("measuredLeadTime"))
    try:
        report = scaler.run(
            ref, outcome.spec, policy, mode, blocked=gate.blocked, lead_time=estimate(lead) if lead else None,
            known=outcome.scale,
        )  # fmt: skip
    except TargetError as exc:  # the target went away between the reconcile and the cycle
        update = ConditionUpdate(SCALING, "False", exc.reason, str(exc))
        status["conditions"], more = apply_updates(status["conditions"], [update], generation)
        return {**carried, **status}, [*events, *more]
    except KubeError as exc:
        if exc.status.transient:
            raise
        update = ConditionUpdate(SCALING, "False", "ScaleFailed", str(exc))
        status["conditions"], more = apply_updates(status["conditions"], [update], generation)
        return {**carried, **status}, [*events, *more]
    if report is None:  # the previous cycle of this profile is still running, or its history is being read
        if scaler.warming(ref.uid) and _first_sight(status["conditions"]):
            update = ConditionUpdate(SCALING, "False", "LearningHistory", LEARNING)
            status["conditions"], more = apply_updates(status["conditions"], [update], generation)
            events += more
        return {**carried, **_lead_status(lead, auto_lead), **status}, events
    operations.record_cycle(gate.update, ref.namespace, ref.name, mode, interval, report, gate.conflict is not None)
    if gate.blocked is not None and mode == "Auto":
        operations.record_blocked(gate.blocked, report)
    status["conditions"], more = apply_updates(status["conditions"], list(report.conditions), generation)
    return {**report.fields, **_lead_status(lead, auto_lead), **status}, [*events, *more, *report.events]


def _lead_status(lead: LeadTimeState | None, auto: bool) -> dict[str, Any]:
    measured = operations.lead_time_status(lead, auto) if lead is not None else None
    return {} if measured is None else {"measuredLeadTime": measured}
