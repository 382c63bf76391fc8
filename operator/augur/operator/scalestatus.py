"""What one scaling cycle reports: status fields (through the API models), conditions and Events.

Conditions (``docs/scaling.md`` explains them to users):

* ``MetricsAvailable``: ``True``/``DemandRead``; ``False`` with ``PrometheusUnavailable``, ``QueryInvalid``,
  ``QueryFailed``, ``MultipleSeries``, ``NoData``, ``StaleData``, ``BadResponse`` or
  ``PrometheusNotConfigured``; ``Unknown``/``ModeOff`` or ``NoDemandMetric`` when demand is not read.
* ``Scaling``: ``True`` when Augur writes ``/scale`` (mode ``Auto``) with the reason saying what drives the
  decision: ``Predictive``, ``WarmingUp`` (reactive until the first model is fitted), ``ReactiveOnly``
  (policy ``predictive: false``), ``MetricsFallback``; ``False`` with ``ForecastOnly``, ``ModeOff``,
  ``NoDemandMetric``, ``WritesBlocked`` (e.g. a conflict) or ``ScaleFailed``.
* ``FeedsUsed`` (only with ``spec.feeds``): ``True``/``FeedsRead``; ``False`` with the failing feed's reason
  (its last value is carried forward; demand-based scaling goes on).

Events: one per condition transition (posted by the handler), ``Scaled`` for each ``/scale`` write with
the numbers behind it, ``ScaleRecommended`` in ``ForecastOnly`` when the recommendation changes,
``StateRestored`` when learned state was restored after a start (``StateNotRestored`` when saved state
could not be used, e.g. learned from another query), ``StateNotSaved`` on a failed save.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from augur.api.conditions import ConditionUpdate
from augur.api.v1alpha1 import WorkloadProfileSpec
from augur.api.v1alpha1.workloadprofile import (
    Decision,
    Fingerprint,
    ForecastSummary,
    LearnedState,
    NextScaleUp,
)
from augur.forecast.demand import DemandError
from augur.kube.workload import TargetReplicas
from augur.operator.reconcile import EventToPost
from augur.prom.client import PromError
from augur.scaling.loop import DemandLoop, LoopDecision

METRICS = "MetricsAvailable"
SCALING = "Scaling"
FEEDS = "FeedsUsed"
SCALING_FIELDS = (
    "desiredReplicas",
    "readyReplicas",
    "demand",
    "forecast",
    "fingerprint",
    "anomalyScore",
    "lastDecision",
    "leadTimeSeconds",
    "learned",
)
"""Status fields only the scaling cycle sets; carried over unchanged by reconciles between cycles."""


@dataclass(frozen=True)
class CycleReport:
    """Numbers about one cycle, for logs and operator metrics."""

    decision_seconds: float
    points_read: int
    query_error: str = ""
    fit_started: bool = False
    fit_seconds: float | None = None
    wrote: bool = False


@dataclass(frozen=True)
class Facts:
    """Everything one cycle found out and did."""

    mode: str
    now: float
    spec: WorkloadProfileSpec
    loop: DemandLoop | None = None
    target: TargetReplicas | None = None
    decision: LoopDecision | None = None
    error: PromError | DemandError | None = None
    wrote: bool = False
    blocked: str | None = None
    recommend: bool = False
    restored: str = ""
    restored_at: float | None = None
    saved_at: float | None = None
    save_error: str = ""
    fit_error: str = ""
    fit_in_flight: bool = False
    feed_errors: tuple[tuple[str, str, str], ...] = ()
    """(feed, reason, message) of each feed that could not be read this cycle."""
    config_map: str = ""
    report: CycleReport | None = None


@dataclass(frozen=True)
class Report:
    fields: dict[str, Any]
    """Status fields (camelCase, from the API models)."""
    conditions: tuple[ConditionUpdate, ...]
    events: tuple[EventToPost, ...]
    decision: LoopDecision | None
    cycle: CycleReport | None


def _time(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(round(ts), UTC)


def _dump(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return out


def build(facts: Facts) -> Report:
    if facts.mode == "Off" or facts.spec.demand is None:
        return _idle(facts)
    fields = _fields(facts)
    conditions = [_metrics_condition(facts), _scaling_condition(facts)]
    if facts.spec.feeds:
        conditions.append(_feeds_condition(facts))
    return Report(fields, tuple(conditions), _events(facts), facts.decision, facts.report)


def _feeds_condition(facts: Facts) -> ConditionUpdate:
    names = ", ".join(f.name for f in facts.spec.feeds)
    if facts.feed_errors:
        detail = "; ".join(f"{name}: {message}" for name, _, message in facts.feed_errors)
        return ConditionUpdate(FEEDS, "False", facts.feed_errors[0][1], f"{detail} (last values carried forward)")
    model = facts.loop.forecaster.model_name if facts.loop and facts.loop.forecaster else "none yet"
    return ConditionUpdate(
        FEEDS, "True", "FeedsRead",
        f"{names} read as regressors; the sarimax candidate uses them, the others forecast demand alone "
        f"(model in use: {model}); future feed values are taken as their last value",
    )  # fmt: skip


def _idle(facts: Facts) -> Report:
    if facts.mode == "Off":
        why, text = "ModeOff", "mode Off: Augur reads no demand and never scales"
    else:
        why, text = "NoDemandMetric", "spec.demand is not set: Augur cannot forecast or scale this workload"
    conditions = (ConditionUpdate(METRICS, "Unknown", why, text), ConditionUpdate(SCALING, "False", why, text))
    return Report({}, conditions, (), None, None)


def _fields(facts: Facts) -> dict[str, Any]:
    loop, decision, target = facts.loop, facts.decision, facts.target
    assert loop is not None and decision is not None and target is not None
    fields: dict[str, Any] = {
        "desiredReplicas": decision.replicas,
        "readyReplicas": target.ready,
        "leadTimeSeconds": loop.config.params.lead_time_seconds,
    }
    if decision.demand is not None:
        fields["demand"] = round(decision.demand, 6)
    if loop.anomaly_score is not None:
        fields["anomalyScore"] = round(min(1.0, max(0.0, loop.anomaly_score)), 4)
    fields["lastDecision"] = _dump(
        Decision(
            time=datetime.fromtimestamp(round(facts.now), UTC),
            desired_replicas=decision.replicas,
            acted=facts.wrote,
            reason=decision.reason[:4096],
            kind=decision.kind,
            from_replicas=target.spec,
        )
    )
    outlook = decision.outlook
    if outlook is not None:
        next_up = None
        if outlook.next_scale_up_at is not None and outlook.next_scale_up_replicas is not None:
            next_up = NextScaleUp(at=_time(outlook.next_scale_up_at), replicas=outlook.next_scale_up_replicas)
        error = loop.rolling_error
        fields["forecast"] = _dump(
            ForecastSummary(
                generated_at=_time(facts.now),
                model=outlook.model,
                horizon_seconds=round(outlook.horizon_seconds),
                peak_p50=round(outlook.peak_p50, 6),
                peak_upper=round(outlook.peak_upper, 6),
                quantile=outlook.quantile,
                peak_at=_time(outlook.peak_at),
                rolling_error=None if error is None else round(error, 4),
                next_scale_up=next_up,
            )
        )
    if loop.forecaster is not None:
        fp = loop.forecaster.fingerprint
        level = fp.level if math.isfinite(fp.level) else None
        fields["fingerprint"] = _dump(
            Fingerprint(
                periods_seconds=[round(p.seconds) for p in fp.periods][:8],
                level=None if level is None else round(level, 6),
                trend=None if level is None else round(fp.trend_per_day * level, 6),
                noise=round(fp.noise, 6) if math.isfinite(fp.noise) else None,
                burstiness=round(fp.burstiness, 6),
            )
        )
    fields["learned"] = _dump(
        LearnedState(
            config_map=facts.config_map,
            saved_at=_time(facts.saved_at),
            restored_at=_time(facts.restored_at),
            model=loop.forecaster.model_name if loop.forecaster else "",
            fitted_at=_time(loop.last_fit_at),
            fit_points=loop.fit_points or None,
            safety_quantile=loop.learner.chosen if loop.learner else loop.config.params.safety_quantile,
        )
    )
    return fields


def _metrics_condition(facts: Facts) -> ConditionUpdate:
    error, loop = facts.error, facts.loop
    if error is not None:
        return ConditionUpdate(METRICS, "False", error.reason, f"{error}; {_fallback_words(facts)}")
    assert loop is not None
    newest = _time(loop.newest_good)
    shown = newest.strftime("%H:%M:%S") if newest else "never"
    return ConditionUpdate(METRICS, "True", "DemandRead", f"{loop.history.size} points held, newest at {shown} UTC")


def _fallback_words(facts: Facts) -> str:
    loop = facts.loop
    fallback = loop.config.fallback if loop else "Hold"
    return f"metricsOutageFallback {fallback}, never below max(1, minReplicas)"


def _scaling_condition(facts: Facts) -> ConditionUpdate:
    decision = facts.decision
    assert decision is not None
    loop = facts.loop
    assert loop is not None
    if decision.kind == "Fallback":
        reason = "MetricsFallback"
    elif decision.kind == "Reactive":
        reason = "ReactiveOnly" if not loop.config.predictive else "WarmingUp"
    else:
        reason = "Predictive"
    detail = decision.reason
    if facts.fit_error:
        detail += f"; last {facts.fit_error}"
    if facts.mode != "Auto":
        return ConditionUpdate(
            SCALING, "False", "ForecastOnly", f"mode {facts.mode}: computed, never applied; {detail}"
        )
    if facts.blocked is not None:
        return ConditionUpdate(SCALING, "False", "WritesBlocked", f"{facts.blocked}; {detail}")
    return ConditionUpdate(SCALING, "True", reason, detail[:32768])


def _events(facts: Facts) -> tuple[EventToPost, ...]:
    events: list[EventToPost] = []
    if facts.restored:
        why = "StateRestored" if facts.restored.startswith("restored") else "StateNotRestored"
        events.append(EventToPost("Normal", why, facts.restored))
    if facts.save_error:
        events.append(EventToPost("Warning", "StateNotSaved", f"learned state not saved: {facts.save_error}"))
    decision, target = facts.decision, facts.target
    if decision is not None and target is not None and (facts.wrote or facts.recommend):
        verb = "scaling" if facts.wrote else "would scale"
        tail = f"{verb} {target.spec} → {decision.replicas} now"
        reason = "Scaled" if facts.wrote else "ScaleRecommended"
        events.append(EventToPost("Normal", reason, _explain(facts, decision, tail)[:1024]))
    return tuple(events)


def _explain(facts: Facts, decision: LoopDecision, tail: str) -> str:
    """For example: forecast p90 1,240 req/s at 14:05 needs 13 replicas at 80% target; pods take 95 s
    to become Ready; scaling 9 → 13 now."""
    loop = facts.loop
    assert loop is not None and facts.spec.demand is not None
    params, unit = loop.config.params, facts.spec.demand.unit
    units = f" {unit}" if unit else ""
    target = f"at {params.target_utilization:.0%} target"
    inner = decision.decision
    if decision.kind == "Predictive" and inner is not None and decision.decision_peak_at is not None:
        when = datetime.fromtimestamp(decision.decision_peak_at, UTC).strftime("%H:%M")
        needs = max(inner.forecast_replicas, inner.guard_replicas)
        return (
            f"forecast p{inner.quantile * 100:g} {inner.peak_demand:,.0f}{units} at {when} UTC needs {needs} "
            f"replicas {target}; pods take {params.lead_time_seconds:.0f} s to become Ready; {tail}"
        )
    if decision.kind == "Reactive" and inner is not None and decision.demand is not None:
        return f"demand {decision.demand:,.4g}{units} needs {inner.recommendation} replicas {target} (reactive); {tail}"
    return f"{decision.reason}; {tail}"
