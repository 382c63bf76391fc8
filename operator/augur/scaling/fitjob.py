"""One (re)fit of a workload's forecaster: its input and the work, importing nothing but the forecasting
code, so the operator's fit workers hold statsmodels and this, not the API models (pydantic) nor the
decision code (:mod:`augur.operator.fitpool`)."""

from __future__ import annotations

from dataclasses import dataclass

from augur.constants import FloatArray
from augur.forecast.forecaster import Forecaster, ForecastSettings, fit_forecaster, refit_forecaster


@dataclass(frozen=True)
class FitJob:
    """Input of one (re)fit; ``end`` is the timestamp of the last value."""

    values: FloatArray
    settings: ForecastSettings
    previous: Forecaster | None
    end: float
    exog: FloatArray | None = None
    """Feed values, one row per value (None without feeds)."""


def run_fit(job: FitJob) -> Forecaster:
    """The fit itself (CPU-bound; the operator runs it in its worker pool)."""
    if job.previous is None or job.previous.settings != job.settings:
        return fit_forecaster(job.values, job.settings, job.exog)
    return refit_forecaster(job.previous, job.values, job.exog)
