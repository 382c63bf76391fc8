"""The scaling decision: forecast quantiles over [now, now + lead time] -> desired replicas and why.

Inputs are plain frozen dataclasses; :meth:`ScalingParams.from_policy` builds them from a
``ScalingPolicySpec`` so the live operator and the backtester call exactly the same :func:`decide`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from augur.api.durations import parse_duration
from augur.api.v1alpha1.scalingpolicy import ScalingPolicySpec
from augur.forecast.quantiles import QuantileForecast
from augur.scaling.learner import BUDGET, CostWeights
from augur.scaling.reactive import hpa_recommendation, replicas_for


@dataclass(frozen=True)
class StepLimits:
    """Largest change per ``period_seconds``; the larger of percent and pods applies (HPA ``behavior``)."""

    up_percent: int = 100
    up_pods: int = 4
    down_percent: int = 100
    down_pods: int = 4
    down_stabilization_seconds: float = 300.0
    period_seconds: float = 15.0

    def allows(self, current: int, replicas: int, interval_seconds: float) -> bool:
        """Whether ``replicas`` lies within :meth:`bounds`; the bounds only widen period by period, so this
        stops as soon as it does (at five-minute steps the bounds take twenty periods to compute)."""
        high = low = current
        for _ in range(max(1, math.floor(interval_seconds / self.period_seconds))):
            high = max(high + math.ceil(high * self.up_percent / 100), high + self.up_pods)
            low = min(low - math.floor(low * self.down_percent / 100), low - self.down_pods)
            if low <= replicas <= high:
                return True
        return False

    def bounds(self, current: int, interval_seconds: float) -> tuple[int, int]:
        """Lowest and highest replica count reachable from ``current`` within one interval."""
        periods = max(1, math.floor(interval_seconds / self.period_seconds))
        high = low = current
        for _ in range(periods):
            high = max(high + math.ceil(high * self.up_percent / 100), high + self.up_pods)
            low = min(low - math.floor(low * self.down_percent / 100), low - self.down_pods)
        return max(0, low), high


@dataclass(frozen=True)
class ScalingParams:
    """Everything of a policy the decision needs, in plain numbers."""

    capacity: float
    target_utilization: float = 0.8
    min_replicas: int = 1
    max_replicas: int | None = None
    lead_time_seconds: float = 120.0
    safety_quantile: float = 0.9
    allow_forecast_scale_in: bool = False
    scale_in_confidence: float = 0.95
    limits: StepLimits = StepLimits()
    learn_headroom: bool = True
    """Let the cost learner pick the quantile (:mod:`augur.scaling.learner`)."""
    headroom_budget: float | None = BUDGET
    """The learner's replica-hour budget over the reactive formula (``None``: cost weights alone)."""
    cost_weights: CostWeights = field(default_factory=CostWeights)

    @classmethod
    def from_policy(
        cls, spec: ScalingPolicySpec, capacity: float, learned_lead_time_seconds: float | None = None
    ) -> ScalingParams:
        """Build from a ``ScalingPolicySpec``; ``leadTime: auto`` uses the learned value (default 120 s)."""
        lead = (learned_lead_time_seconds or 120.0) if spec.lead_time == "auto" else parse_duration(spec.lead_time)
        up, down = spec.behavior.scale_up, spec.behavior.scale_down
        return cls(
            capacity=capacity,
            target_utilization=spec.target_utilization,
            min_replicas=spec.min_replicas,
            max_replicas=spec.max_replicas,
            lead_time_seconds=lead,
            safety_quantile=spec.safety_quantile,
            allow_forecast_scale_in=spec.allow_forecast_scale_in,
            scale_in_confidence=spec.scale_in_confidence,
            limits=StepLimits(
                up_percent=up.max_step_percent,
                up_pods=up.max_step_pods,
                down_percent=down.max_step_percent,
                down_pods=down.max_step_pods,
                down_stabilization_seconds=parse_duration(down.stabilization_window),
            ),
            learn_headroom=spec.learn_headroom,
            headroom_budget=spec.headroom_budget,
            cost_weights=CostWeights(spec.cost_weights.replica_hour, spec.cost_weights.under_provisioned_minute),
        )

    def clamp(self, replicas: int) -> int:
        low = max(self.min_replicas, replicas)
        return low if self.max_replicas is None else min(self.max_replicas, low)


@dataclass(frozen=True)
class Observed:
    """The workload now."""

    current_replicas: int
    """Replicas asked for at the last decision."""
    ready_replicas: int
    demand: float | None
    """Demand in the last interval, ``None`` when the metric is missing."""
    interval_seconds: float
    recent_recommendations: tuple[int, ...] = ()
    """Recommendations inside the scale-down stabilization window, oldest first."""


@dataclass(frozen=True)
class Decision:
    """Desired replicas with the numbers behind them."""

    replicas: int
    recommendation: int
    """Before stabilization and step limits; keep it for the next call's ``recent_recommendations``."""
    forecast_replicas: int
    reactive_replicas: int | None
    guard_replicas: int
    """The floor the guard imposed (the reactive formula, or less for a confident forecast scale-in)."""
    quantile: float
    peak_demand: float
    reason: str


def forecast_replicas(forecast: QuantileForecast, quantile: float, params: ScalingParams) -> tuple[int, float]:
    """Replicas for the highest ``quantile`` demand over the forecast horizons, and that demand."""
    peak = float(np.max(forecast.at(quantile)))
    return replicas_for(peak, params.capacity, params.target_utilization), peak


def prewarm_replicas(
    forecast: QuantileForecast, quantile: float, params: ScalingParams, current: int
) -> tuple[int, float, str]:
    """Replicas to ask for now, the demand behind them, and how they were found.

    Replicas asked for now are ready ``ceil(lead / step)`` steps later, so they must serve the demand
    from then on (horizons from ``L + 1``). Before that only the replicas already there serve, and
    asking for fewer removes them at once: the earlier horizons can only hold the current count, up to
    what they need, never raise it.
    """
    steps = math.ceil(params.lead_time_seconds / forecast.interval_seconds) + 1
    demand = forecast.at(quantile)
    horizons = np.asarray(forecast.horizons)
    later, earlier = demand[horizons >= steps], demand[horizons < steps]
    if not later.size:
        peak = float(np.max(demand))
        return replicas_for(peak, params.capacity, params.target_utilization), peak, _span(forecast)
    peak = float(np.max(later))
    wanted = replicas_for(peak, params.capacity, params.target_utilization)
    if earlier.size:
        early_peak = float(np.max(earlier))
        hold = min(current, replicas_for(early_peak, params.capacity, params.target_utilization))
        if hold > wanted:
            return hold, early_peak, _span(forecast)
    seconds = (steps - 1) * forecast.interval_seconds
    return wanted, peak, f"{_span(forecast)} (ready in {_format_seconds(seconds)})"


def decide(
    forecast: QuantileForecast, observed: Observed, params: ScalingParams, quantile: float | None = None
) -> Decision:
    """Desired replicas: the forecast's need once new replicas would be ready (and, until then, no
    scale-in below what the nearer horizons need), never below the reactive guard unless the policy
    allows a confident forecast-driven scale-in, then stabilized and step-limited."""
    q = params.safety_quantile if quantile is None else quantile
    wanted, peak, span = prewarm_replicas(forecast, q, params, observed.current_replicas)
    parts = [f"p{q * 100:g} demand {peak:.4g} over the next {span} needs {wanted}"]
    reactive = None
    floor = 0
    target = wanted
    if observed.demand is not None:
        reactive = _reactive(observed.demand, observed, params)
        floor = reactive
        if params.allow_forecast_scale_in:
            confident, _ = forecast_replicas(forecast, params.scale_in_confidence, params)
            floor = min(reactive, confident)
        if floor > target:
            parts.append(f"reactive guard asks {reactive}")
        target = max(target, floor)
    recommendation = params.clamp(target)
    replicas = settle(recommendation, observed, params, parts)
    parts.append(f"at {params.target_utilization:.0%} of {params.capacity:g}/replica -> {replicas}")
    return Decision(replicas, recommendation, wanted, reactive, floor, q, peak, "; ".join(parts))


def _reactive(demand: float, observed: Observed, params: ScalingParams) -> int:
    """What the HPA formula asks for ``demand`` given the replicas observed (the guard and the yardstick)."""
    return hpa_recommendation(
        demand,
        observed.ready_replicas,
        observed.current_replicas,
        params.capacity,
        params.target_utilization,
        params.min_replicas,
    )


def decide_reactive(observed: Observed, params: ScalingParams) -> Decision:
    """The HPA rule alone (``facts.md`` §1): the reactive formula, then the same stabilization and step
    limits as :func:`decide`. The backtester's ``hpa`` yardstick; needs the observed demand."""
    if observed.demand is None:
        raise ValueError("the reactive rule needs the observed demand")
    reactive = _reactive(observed.demand, observed, params)
    parts = [f"reactive formula asks {reactive}"]
    recommendation = params.clamp(reactive)
    replicas = settle(recommendation, observed, params, parts)
    parts.append(f"at {params.target_utilization:.0%} of {params.capacity:g}/replica -> {replicas}")
    return Decision(replicas, recommendation, reactive, reactive, reactive, math.nan, observed.demand, "; ".join(parts))


def settle(recommendation: int, observed: Observed, params: ScalingParams, parts: list[str] | None = None) -> int:
    """What every decision does after its recommendation: scale-down stabilization (the highest
    recommendation of the window wins, never above the current count), the step limits of one interval,
    then min/max. Notes what changed the count in ``parts``."""
    notes = [] if parts is None else parts
    replicas = stabilize(recommendation, observed, params, notes)
    if not params.limits.allows(observed.current_replicas, replicas, observed.interval_seconds):
        low, high = params.limits.bounds(observed.current_replicas, observed.interval_seconds)
        notes.append(f"step limit {low}..{high}")
        replicas = min(max(replicas, low), high)
    return params.clamp(replicas)


def stabilization_steps(params: ScalingParams, interval_seconds: float) -> int:
    """Earlier recommendations the scale-down stabilization window holds at this interval (the current
    one comes on top): ``round(window / interval) - 1``, at least 0."""
    return max(0, round(params.limits.down_stabilization_seconds / interval_seconds) - 1)


def stabilize(recommendation: int, observed: Observed, params: ScalingParams, parts: list[str] | None = None) -> int:
    """Scale-down stabilization: below the current count, the highest recommendation inside the window
    (``observed.recent_recommendations`` plus this one) wins, capped at the current count."""
    if recommendation >= observed.current_replicas:
        return recommendation
    window = stabilization_steps(params, observed.interval_seconds)
    recent = observed.recent_recommendations[-window:] if window else ()
    held = min(observed.current_replicas, max([recommendation, *recent]))
    if held > recommendation and parts is not None:
        parts.append(f"scale-down stabilization holds {held}")
    return held


def _span(forecast: QuantileForecast) -> str:
    return _format_seconds(max(forecast.horizons) * forecast.interval_seconds)


def _format_seconds(seconds: float) -> str:
    return f"{seconds / 60:g}m" if seconds >= 60 else f"{seconds:g}s"
