"""The backtest protocol of ``facts.md`` §2: timing, readiness, warm-up, yardsticks and metrics.

Everything here follows the written definitions literally, so that an independent implementation
gets the same numbers to the last digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from augur.scaling.reactive import hpa_recommendation, hpa_scale_up_limit, replicas_for

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HPA_DOWNSCALE_WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class Setup:
    """What every policy of one backtest shares."""

    interval_seconds: float
    capacity: float
    target_utilization: float = 0.8
    lead_time_seconds: float = 120.0
    min_replicas: int = 1
    max_replicas: int | None = None

    @property
    def lead_steps(self) -> int:
        """``L = ceil(lead_time / step)``."""
        return math.ceil(self.lead_time_seconds / self.interval_seconds)

    def clamp(self, replicas: int) -> int:
        low = max(self.min_replicas, replicas)
        return low if self.max_replicas is None else min(self.max_replicas, low)

    def need(self, demand: float) -> int:
        """``ceil(demand / (capacity x u))``: replicas that serve ``demand`` at the target utilization."""
        return replicas_for(demand, self.capacity, self.target_utilization)


@dataclass(frozen=True)
class PolicyMetrics:
    """Outcome of one policy over the evaluated steps."""

    under_provisioned_fraction: float
    unserved_fraction: float
    replica_hours: float
    mean_utilization: float
    scale_events: int

    def as_dict(self) -> dict[str, float | int]:
        return {
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
    ready = ready_series(desired, setup.lead_steps).astype(np.float64)
    d = demand[mask]
    served = ready[mask] * setup.capacity
    shortfall = np.maximum(0.0, d - served)
    total = float(d.sum())
    wanted = np.asarray(desired, dtype=np.int64)
    changed = np.zeros(len(desired), dtype=bool)
    changed[1:] = wanted[1:] != wanted[:-1]
    capacity_total = float(served.sum())
    return PolicyMetrics(
        under_provisioned_fraction=float(np.count_nonzero(d > served)) / d.size,
        unserved_fraction=float(shortfall.sum()) / total if total > 0 else 0.0,
        replica_hours=float(ready[mask].sum()) * setup.interval_seconds / 3600.0,
        mean_utilization=total / capacity_total if capacity_total > 0 else 0.0,
        scale_events=int(np.count_nonzero(changed & mask)),
    )


def initial_desired(demand: FloatArray, setup: Setup) -> int:
    """``desired_0 = max(min_replicas, need_0)``, clamped."""
    return setup.clamp(setup.need(float(demand[0])))


def run_oracle(demand: FloatArray, setup: Setup) -> list[int]:
    """``desired_t = max(min_replicas, max(need_j for j in t ... t + L))``; gaps have no need."""
    lead = setup.lead_steps
    needs = [None if math.isnan(x) else setup.need(x) for x in demand.tolist()]
    desired: list[int] = []
    for t in range(len(needs)):
        window = [n for n in needs[t : t + lead + 1] if n is not None]
        if window:
            desired.append(setup.clamp(max(window)))
        else:
            desired.append(desired[-1] if desired else setup.min_replicas)
    return desired


def run_hpa(demand: FloatArray, setup: Setup) -> list[int]:
    """The Kubernetes HPA at one evaluation per step, exactly as §2 defines the ``hpa`` baseline."""
    lead = setup.lead_steps
    window = max(1, round(HPA_DOWNSCALE_WINDOW_SECONDS / setup.interval_seconds))
    desired = [initial_desired(demand, setup)]
    recs: list[int | None] = [None]
    for t in range(1, demand.size):
        previous = desired[t - 1]
        observed = float(demand[t - 1])
        if math.isnan(observed):
            desired.append(previous)
            recs.append(None)
            continue
        ready = ready_at(desired, t - 1, lead)
        rec = hpa_recommendation(
            observed, ready, previous, setup.capacity, setup.target_utilization, setup.min_replicas
        )
        recs.append(rec)
        if rec >= previous:
            wanted = min(rec, hpa_scale_up_limit(previous, setup.interval_seconds))
        else:
            recent = [r for r in recs[max(0, t - window + 1) : t + 1] if r is not None]
            wanted = min(previous, max(recent))
        desired.append(setup.clamp(wanted))
    return desired
