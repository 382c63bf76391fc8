"""What the status says about the forecast: the peak over the next hour and the next planned scale-up (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from augur.forecast.forecaster import Forecaster
from augur.scaling.decision import ScalingParams
from augur.scaling.reactive import replicas_for

STATUS_HORIZON_SECONDS = 3600.0
"""How far ahead the status' forecast peak and next planned scale-up look."""


@dataclass(frozen=True)
class Outlook:
    """What the status shows about the forecast."""

    model: str
    quantile: float
    horizon_seconds: float
    peak_p50: float
    peak_upper: float
    peak_at: float
    next_scale_up_at: float | None
    next_scale_up_replicas: int | None


def outlook(
    forecaster: Forecaster, last_ts: float, step: float, params: ScalingParams, replicas: int, quantile: float
) -> Outlook:
    """Peak over the next hour (at least the lead time) and the first step whose upper-quantile demand
    needs more than ``replicas``: Augur expects to ask for them one lead time before."""
    lead_steps = math.ceil(params.lead_time_seconds / step)
    steps = max(lead_steps + 1, math.ceil(STATUS_HORIZON_SECONDS / step))
    forecast = forecaster.forecast(tuple(range(1, steps + 1)), tuple(sorted({0.5, quantile})))
    median, upper = forecast.at(0.5), forecast.at(quantile)
    top = int(np.argmax(upper))
    next_at: float | None = None
    next_replicas: int | None = None
    for i, value in enumerate(upper.tolist()):
        need = params.clamp(replicas_for(max(value, 0.0), params.capacity, params.target_utilization))
        if need > replicas:
            ready_by = last_ts + (i + 1) * step
            next_at, next_replicas = max(last_ts, ready_by - params.lead_time_seconds), need
            break
    return Outlook(
        forecaster.model_name, quantile, steps * step, float(np.max(median)), float(upper[top]),
        last_ts + (top + 1) * step, next_at, next_replicas,
    )  # fmt: skip
