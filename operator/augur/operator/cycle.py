"""Joining a reconcile and a scaling cycle into the one status the handler applies.

Status is written by server-side apply as field manager ``augur``: a field missing from an apply is
removed, so every write carries the complete status. Between cycles the scaling fields of the last
cycle are carried over from the object's status (:data:`~augur.operator.scalestatus.SCALING_FIELDS`).
"""

from __future__ import annotations

from typing import Any

from augur.api.conditions import ConditionUpdate
from augur.api.durations import parse_duration
from augur.kube.client import KubeError
from augur.kube.resources import TargetError
from augur.operator.reconcile import EventToPost, Outcome, apply_updates
from augur.operator.scaler import ProfileRef, Scaler
from augur.operator.scalestatus import SCALING, SCALING_FIELDS

DEFAULT_INTERVAL_SECONDS = 30.0


def scale_profile(body: dict[str, Any], outcome: Outcome, scaler: Scaler) -> tuple[dict[str, Any], list[EventToPost]]:
    """The status to apply and the Events to post after ``outcome``; runs a scaling cycle when due.
    Transient API failures raise ``KubeError`` (the handler retries)."""
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
    if mode != "Off" and outcome.spec.demand is not None and not scaler.due(ref, interval):
        return {**carried, **status}, events
    try:
        report = scaler.run(ref, outcome.spec, policy, mode)
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
    if report is None:  # the previous cycle of this profile is still running
        return {**carried, **status}, events
    status["conditions"], more = apply_updates(status["conditions"], list(report.conditions), generation)
    return {**report.fields, **status}, [*events, *more, *report.events]
