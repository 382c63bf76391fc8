"""The forecaster a workload keeps: fingerprint, chosen model, calibration; refit rarely, update often.

``fit_forecaster`` is the expensive call (fingerprint, rolling-origin selection, statsmodels fits);
``Forecaster.update`` applies one observation with fixed parameters; ``Forecaster.forecast`` returns
quantiles for horizons from one step to a day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from augur.forecast.fingerprint import DAY, Fingerprint, HistoryStatus, fingerprint, history_status
from augur.forecast.models import FittedModel
from augur.forecast.quantiles import LEVELS, Calibration, QuantileForecast, horizon_grid
from augur.forecast.selection import CANDIDATES, best, evaluate, fitters
from augur.forecast.series import FloatArray


@dataclass(frozen=True)
class ForecastSettings:
    """How a forecaster is fitted."""

    interval_seconds: float
    target_horizon: int = 1
    """Steps ahead that matter most (the lead time); models are selected on their error there."""
    max_horizon_seconds: float = DAY
    candidates: tuple[str, ...] = CANDIDATES
    history_points: int = 4032
    """Most recent points used for fitting (two weeks at five-minute steps)."""
    fingerprint_points: int = 4 * 4032

    @property
    def max_horizon(self) -> int:
        return max(1, self.target_horizon, round(self.max_horizon_seconds / self.interval_seconds))


@dataclass(frozen=True)
class Forecaster:
    """A fitted forecaster; immutable, every update returns a new one."""

    settings: ForecastSettings
    fingerprint: Fingerprint
    history: HistoryStatus
    model: FittedModel
    calibration: Calibration
    scores: tuple[tuple[str, float], ...]
    """Rolling-origin MAE at the target horizon per candidate."""
    floor: float | None
    """Lowest value forecasts may take (0 for series never negative)."""

    @property
    def model_name(self) -> str:
        return self.model.name

    def update(self, value: float, exog: FloatArray | None = None) -> Forecaster:
        """Apply one new observation (``NaN`` for a gap) with the fitted parameters fixed."""
        return replace(self, model=self.model.update(value, exog))

    def point(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        """Point forecasts for the next ``steps`` steps."""
        values = self.model.forecast(steps, exog)
        return values if self.floor is None else np.maximum(values, self.floor)

    def forecast(
        self, horizons: tuple[int, ...], levels: tuple[float, ...] = LEVELS, exog: FloatArray | None = None
    ) -> QuantileForecast:
        """Quantile forecasts at ``horizons`` (steps ahead, 1-based)."""
        mean = self.model.forecast(max(horizons), exog)[np.asarray(horizons) - 1]
        h = np.asarray(horizons, dtype=np.float64)
        values = mean[:, None] + self.calibration.grid(h, tuple(levels))
        values = np.maximum.accumulate(values, axis=1)
        if self.floor is not None:
            values = np.maximum(values, self.floor)
            mean = np.maximum(mean, self.floor)
        return QuantileForecast(tuple(horizons), self.settings.interval_seconds, mean, tuple(levels), values)


def _validation_size(samples: int, settings: ForecastSettings, season: int) -> int:
    wanted = max(4 * settings.target_horizon + 20, samples // 4, min(season, samples // 3))
    keep = 2 * season + 2 if season else 0
    room = samples - keep if samples - keep >= 2 * settings.target_horizon + 10 else samples // 2
    return max(1, min(wanted, samples // 2, room, 2 * settings.max_horizon + 200))


def fit_forecaster(values: FloatArray, settings: ForecastSettings, exog: FloatArray | None = None) -> Forecaster:
    """Fingerprint the history, select a model by rolling origin, calibrate its quantiles."""
    raw = np.asarray(values, dtype=np.float64)
    recent = raw[-settings.fingerprint_points :]
    print_ = fingerprint(recent, settings.interval_seconds)
    y = raw[-settings.history_points :]
    x = None if exog is None else np.asarray(exog, dtype=np.float64).reshape(raw.size, -1)[-y.size :]
    usable = print_.usable_periods(y.size)
    primary = max(usable, key=lambda p: (round(p.strength, 1), p.seconds)) if usable else None
    status = history_status(y.size, settings.interval_seconds, primary.seconds if primary else DAY)
    periods = tuple(p.steps for p in usable)
    horizons = horizon_grid(settings.max_horizon, settings.target_horizon)
    validation = _validation_size(y.size, settings, primary.steps if primary else 0)
    evaluations = evaluate(
        settings.candidates,
        fitters(periods, primary.steps if primary else 1),
        y,
        x,
        horizons,
        horizons.index(min(settings.target_horizon, settings.max_horizon)),
        validation,
    )
    winner, calibration = best(evaluations, horizons)
    finite = raw[np.isfinite(raw)]
    floor = 0.0 if finite.size and float(finite.min()) >= 0 else None
    scores = tuple((e.name, e.score) for e in evaluations)
    return Forecaster(settings, print_, status, winner.model, calibration, scores, floor)
