"""The backtest protocol of ``facts.md`` §2: timing, readiness, warm-up, yardsticks and metrics.

Everything here follows the written definitions literally, so that an independent implementation
gets the same numbers to the last digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from augur.api.v1alpha1.scalingpolicy import ScalingPolicySpec
from augur.constants import FloatArray, IntArray
from augur.scaling.decision import Observed, ScalingParams, decide_reactive, stabilization_steps
from augur.scaling.reactive import replicas_for

MAX_REPLICAS = 100000
"""``ScalingPolicy``'s largest ``maxReplicas``: what an unbounded backtest (``max_replicas`` ``None``) uses."""


def policy_spec(
    target_utilization: float = 0.8,
    lead_time: str = "2m",
    min_replicas: int = 1,
    max_replicas: int | None = None,
    **fields: Any,
) -> ScalingPolicySpec:
    """The ``ScalingPolicySpec`` a backtest runs under (``fields``: further spec fields, snake_case);
    ``max_replicas`` ``None`` is the API's largest value. Raises pydantic's ``ValidationError``."""
    return ScalingPolicySpec.model_validate(
        {
            "target_utilization": target_utilization,
            "lead_time": lead_time,
            "min_replicas": min_replicas,
            "max_replicas": MAX_REPLICAS if max_replicas is None else max_replicas,
            "allow_scale_to_zero": min_replicas == 0,
            **fields,
        }
    )


@dataclass(frozen=True)
class Setup:
    """What every policy of one backtest shares: the trace's step, the capacity of one replica and the
    ``ScalingPolicySpec``; the decision parameters come from it exactly as the operator builds them."""

    interval_seconds: float
    capacity: float
    spec: ScalingPolicySpec = field(default_factory=policy_spec)

    @cached_property
    def params(self) -> ScalingParams:
        """:meth:`ScalingParams.from_policy`, the operator's own path."""
        return ScalingParams.from_policy(self.spec, self.capacity)

    @property
    def lead_steps(self) -> int:
        """``L = ceil(lead_time / step)``."""
        return math.ceil(self.params.lead_time_seconds / self.interval_seconds)

    def need(self, demand: float) -> int:
        """``ceil(demand / (capacity x u))``: replicas that serve ``demand`` at the target utilization."""
        return replicas_for(demand, self.params.capacity, self.params.target_utilization)

    def variant(self, **fields: Any) -> Setup:
        """The same backtest under a policy with other ``fields`` (snake_case), validated like any spec."""
        spec = ScalingPolicySpec.model_validate(self.spec.model_copy(update=fields).model_dump())
        return Setup(self.interval_seconds, self.capacity, spec)


def backtest_setup(interval_seconds: float, capacity: float, spec: ScalingPolicySpec | None = None) -> Setup:
    """A backtest's setup; ``spec`` ``None``: :func:`policy_spec`'s defaults."""
    return Setup(interval_seconds, capacity, spec or policy_spec())


@dataclass(frozen=True)
class PolicyMetrics:
    """Outcome of one policy over the evaluated steps."""

    under_provisioned_fraction: float
    unserved_fraction: float
    replica_hours: float
    mean_utilization: float
    scale_events: int
    under_provisioned_steps: int
    """Evaluated steps where demand > ready × capacity (the numerator of the fraction)."""

    def as_dict(self) -> dict[str, float | int]:
        return {
            "under_provisioned_steps": self.under_provisioned_steps,
            "under_provisioned_fraction": self.under_provisioned_fraction,
            "unserved_fraction": self.unserved_fraction,
            "replica_hours": self.replica_hours,
            "mean_utilization": self.mean_utilization,
            "scale_events": self.scale_events,
        }


def ready_at(desired: list[int], t: int, lead_steps: int) -> int:
    """``ready_t = min(desired_j for j in t - L ... t)`` (indices below 0 do not exist)."""
    return min(desired[max(0, t - lead_steps) : t + 1])


def ready_series(desired: list[int], lead_steps: int) -> IntArray:
    return np.asarray([ready_at(desired, t, lead_steps) for t in range(len(desired))], dtype=np.int64)


def default_warmup_steps(steps: int, season_steps: int | None) -> int:
    """``floor(min(50%, max(20%, 2 x season)))`` of ``steps``; no season counts as zero."""
    season = 0 if season_steps is None else season_steps
    return math.floor(min(0.5 * steps, max(0.2 * steps, 2.0 * season)))


def evaluated_mask(demand: FloatArray, warmup_steps: int) -> npt.NDArray[np.bool_]:
    """Steps after the warm-up that have demand."""
    mask = ~np.isnan(demand)
    mask[: max(0, warmup_steps)] = False
    return mask


def compute_metrics(demand: FloatArray, desired: list[int], setup: Setup, mask: npt.NDArray[np.bool_]) -> PolicyMetrics:
    """The five metrics of §2 over the steps in ``mask``."""
    return metrics_from_ready(demand, ready_series(desired, setup.lead_steps), desired, setup, mask)


def metrics_from_ready(
    demand: FloatArray, ready_replicas: IntArray, desired: list[int], setup: Setup, mask: npt.NDArray[np.bool_]
) -> PolicyMetrics:
    """The five metrics of §2 from ready replicas per step, modelled (backtest) or observed (live demo)."""
    ready = np.asarray(ready_replicas, dtype=np.float64)
    d = demand[mask]
    served = ready[mask] * setup.params.capacity
    shortfall = np.maximum(0.0, d - served)
    total = float(d.sum())
    wanted = np.asarray(desired, dtype=np.int64)
    changed = np.zeros(len(desired), dtype=bool)
    changed[1:] = wanted[1:] != wanted[:-1]
    capacity_total = float(served.sum())
    short = int(np.count_nonzero(d > served))
    return PolicyMetrics(
        under_provisioned_fraction=short / d.size,
        unserved_fraction=float(shortfall.sum()) / total if total > 0 else 0.0,
        replica_hours=float(ready[mask].sum()) * setup.interval_seconds / 3600.0,
        mean_utilization=total / capacity_total if capacity_total > 0 else 0.0,
        scale_events=int(np.count_nonzero(changed & mask)),
        under_provisioned_steps=short,
    )


def initial_desired(demand: FloatArray, setup: Setup) -> int:
    """``desired_0 = max(min_replicas, need_0)``, clamped; ``min_replicas`` when step 0 is a gap (a
    trace cut from a longer one can start inside a gap)."""
    first = float(demand[0]) if demand.size else math.nan
    return setup.params.clamp(setup.need(first) if math.isfinite(first) else setup.params.min_replicas)


def run_oracle(demand: FloatArray, setup: Setup) -> list[int]:
    """``desired_t = max(min_replicas, max(need_j for j in t ... t + L))``; gaps have no need."""
    lead = setup.lead_steps
    needs = [None if math.isnan(x) else setup.need(x) for x in demand.tolist()]
    desired: list[int] = []
    for t in range(len(needs)):
        window = [n for n in needs[t : t + lead + 1] if n is not None]
        if window:
            desired.append(setup.params.clamp(max(window)))
        else:
            desired.append(desired[-1] if desired else setup.params.min_replicas)
    return desired


def run_hpa(demand: FloatArray, setup: Setup) -> list[int]:
    """The Kubernetes HPA at one evaluation per step (§2's ``hpa`` baseline): the operator's own
    :func:`~augur.scaling.decision.decide_reactive` (reactive formula, stabilization, step limits)."""
    lead = setup.lead_steps
    recent = RecentRecommendations(stabilization_steps(setup.params, setup.interval_seconds))
    desired = [initial_desired(demand, setup)]
    for t in range(1, demand.size):
        previous = desired[t - 1]
        observed = float(demand[t - 1])
        if math.isnan(observed):
            desired.append(previous)
            continue
        state = Observed(previous, ready_at(desired, t - 1, lead), observed, setup.interval_seconds, recent.at(t))
        decision = decide_reactive(state, setup.params)
        recent.add(t, decision.recommendation)
        desired.append(decision.replicas)
    return desired


class RecentRecommendations:
    """Recommendations of the last ``steps`` steps before the current one (a gap makes none), oldest
    first: ``Observed.recent_recommendations`` for the scale-down stabilization window."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self._kept: list[tuple[int, int]] = []

    def at(self, t: int) -> tuple[int, ...]:
        self._kept = [(s, r) for s, r in self._kept if s >= t - self.steps]
        return tuple(r for _, r in self._kept)

    def add(self, t: int, recommendation: int) -> None:
        self._kept.append((t, recommendation))
