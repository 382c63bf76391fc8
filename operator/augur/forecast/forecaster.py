"""The forecaster a workload keeps: fingerprint, chosen model, calibration; refit rarely, update often.

``fit_forecaster`` is the expensive call (fingerprint, rolling-origin selection over every candidate,
statsmodels fits); ``refit_forecaster`` is the scheduled refit: it re-estimates only the chosen model and
re-runs the full selection only when it is due (every ``reselect_every`` refits, when the detected
seasons change, or when the chosen model's recent error has degraded against seasonal naive).
``Forecaster.update`` applies one observation with fixed parameters; ``Forecaster.forecast`` returns
quantiles for horizons from one step to a day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from augur.constants import FloatArray
from augur.forecast.checks import outside, too_small
from augur.forecast.combination import members_of
from augur.forecast.fingerprint import DAY, Fingerprint, HistoryStatus, fingerprint, history_status
from augur.forecast.models import FittedModel
from augur.forecast.online import OnlineCalibration, OnlineSettings, start_online
from augur.forecast.quantiles import LEVELS, Calibration, QuantileForecast, horizon_grid
from augur.forecast.selection import CANDIDATE_NAMES, CANDIDATES, Evaluation, best, evaluate, fitters


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
    reselect_every: int = 4
    """A scheduled refit re-runs the full selection at least every this many refits."""
    reselect_degradation: float = 1.25
    """... and whenever the chosen model's error relative to seasonal naive grew by this factor."""
    near_horizons_score: bool = False
    """Select on the mean of the MAEs at horizons 1 … ``target_horizon`` (every horizon the decision
    reads: the near ones hold replicas, the target one buys them) instead of the target horizon's alone."""
    validation_share: float = 0.0
    """Fraction of the history (at most half; two seasons are always left to fit on) the selection's
    candidates are walked and scored on, fitted on the rest; 0: a quarter, capped at two
    ``max_horizon`` plus 200 points (776 of two weeks at five minutes)."""
    score_every_origin: bool = False
    """Score the selection's candidates on their errors from every origin of the validation window
    instead of the (at most ``selection.MAX_ORIGINS``) sampled origins the quantiles are calibrated on.
    Tried with ``validation_share`` 0.5 as a steadier selection (``docs/forecasting.md``, issue 12's
    third round): 0.970 of the rMAE on the development series over four warm-ups, 1.003 on validation,
    at 1.7 times the selection's CPU; not a default."""
    combination_pool: int = 0
    """The ``combination`` candidate averages only this many of its members, those with the lowest
    validation errors at each fit (0: all of them; :func:`augur.forecast.combination.pooled`). Tried with 2
    and 3 in issue 12's fifth round (``docs/forecasting.md``): 0.995 of the rMAE on the development series
    over four warm-ups, 1.003 and 1.000 at the backtest's; not a default."""
    reselect_margin: float = 0.0
    """A full reselection at a scheduled refit keeps the model chosen before unless another candidate's
    validation error is lower by more than this fraction (0: the lowest error always wins)."""
    online: OnlineSettings = field(default_factory=OnlineSettings)
    """Online calibration of horizons 1 … ``target_horizon`` (:mod:`augur.forecast.online`)."""

    def __post_init__(self) -> None:
        """Settings no fit could use are refused here, every problem named (they come from code, saved
        state or a benchmark; the operator's come from a validated ``ScalingPolicy``)."""
        problems = settings_problems(self)
        if problems:
            raise ValueError("invalid ForecastSettings: " + "; ".join(problems))

    @property
    def max_horizon(self) -> int:
        return max(1, self.target_horizon, round(self.max_horizon_seconds / self.interval_seconds))


def settings_problems(s: ForecastSettings) -> list[str]:
    """What is wrong with ``s``, one phrase per field (empty when nothing is)."""
    problems = [
        f"{name} must be a finite number above 0 (got {value})"
        for name, value in (("interval_seconds", s.interval_seconds), ("max_horizon_seconds", s.max_horizon_seconds))
        if not (math.isfinite(value) and value > 0)
    ]
    problems += too_small(
        (
            ("target_horizon", s.target_horizon, 1),
            ("history_points", s.history_points, 2),
            ("fingerprint_points", s.fingerprint_points, 2),
            ("reselect_every", s.reselect_every, 1),
            ("combination_pool", s.combination_pool, 0),
        )
    )
    unknown = [name for name in s.candidates if name not in CANDIDATE_NAMES]
    if not s.candidates:
        problems.append("candidates must name at least one model")
    elif unknown:
        problems.append(f"unknown candidates {unknown} (known: {', '.join(sorted(CANDIDATE_NAMES))})")
    if not s.reselect_degradation > 0:
        problems.append(f"reselect_degradation must be above 0 (got {s.reselect_degradation})")
    problems += outside("validation_share", s.validation_share, 0.0, 1.0)  # above one half: used as one half
    problems += outside("reselect_margin", s.reselect_margin, 0.0, 1.0, open_high=True)
    return problems


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
    chosen: str = ""
    """Candidate name of the chosen model (``model.name`` may be a variant, e.g. ``holt``)."""
    relative_error: float = math.nan
    """Chosen model's validation MAE / seasonal naive's at the last full selection."""
    periods: tuple[int, ...] = ()
    """Seasonal periods (steps) the models were built with."""
    refits_since_selection: int = 0
    selected_points: int = 0
    """History length (points) the last full selection saw."""
    online: OnlineCalibration | None = None
    """Errors of the live forecasts at the near horizons; their quantiles replace the static ones there."""

    @property
    def model_name(self) -> str:
        return self.model.name

    def update(self, value: float, exog: FloatArray | None = None) -> Forecaster:
        """Apply one new observation (``NaN`` for a gap) with the fitted parameters fixed; the online
        calibration scores the pending forecasts against it, then stores the new forecast path."""
        model = self.model.update(value, exog)
        if self.online is None:
            return replace(self, model=model)
        online = self.online.observe(value, self._path(model))
        return replace(self, model=model, online=online)

    def _path(self, model: FittedModel) -> FloatArray:
        """The forecast path the online calibration scores (floored like every forecast)."""
        k = self.online.horizons if self.online is not None else self.settings.target_horizon
        values = model.forecast(k)
        return values if self.floor is None else np.maximum(values, self.floor)

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
        if self.online is not None:
            offsets, ready = self.online.grid(h, tuple(levels))
            if ready.any():
                values[ready] = mean[ready, None] + offsets[ready]
        values = np.maximum.accumulate(values, axis=1)
        if self.floor is not None:
            values = np.maximum(values, self.floor)
            mean = np.maximum(mean, self.floor)
        return QuantileForecast(tuple(horizons), self.settings.interval_seconds, mean, tuple(levels), values)


def _validation_size(samples: int, settings: ForecastSettings, season: int) -> int:
    """Points of the selection's validation window: ``validation_share`` of the history, or (share 0)
    a quarter of it up to two forecast horizons and 200 points; leaving two seasons to fit on."""
    floor = 4 * settings.target_horizon + 20
    keep = 2 * season + 2 if season else 0
    room = samples - keep if samples - keep >= 2 * settings.target_horizon + 10 else samples // 2
    if settings.validation_share > 0:
        return max(1, min(max(floor, int(settings.validation_share * samples)), samples // 2, room))
    wanted = max(floor, samples // 4, min(season, samples // 3))
    return max(1, min(wanted, samples // 2, room, 2 * settings.max_horizon + 200))


@dataclass(frozen=True)
class _Prepared:
    print_: Fingerprint
    status: HistoryStatus
    y: FloatArray
    x: FloatArray | None
    periods: tuple[int, ...]
    primary: int
    horizons: tuple[int, ...]
    target_index: int
    validation: int
    floor: float | None


def _prepare(values: FloatArray, settings: ForecastSettings, exog: FloatArray | None) -> _Prepared:
    raw = np.asarray(values, dtype=np.float64)
    print_ = fingerprint(raw[-settings.fingerprint_points :], settings.interval_seconds)
    y = raw[-settings.history_points :]
    x = None if exog is None else np.asarray(exog, dtype=np.float64).reshape(raw.size, -1)[-y.size :]
    usable = print_.usable_periods(y.size)
    primary = max(usable, key=lambda p: (round(p.strength, 1), p.seconds)) if usable else None
    status = history_status(y.size, settings.interval_seconds, primary.seconds if primary else DAY)
    horizons = horizon_grid(settings.max_horizon, settings.target_horizon)
    finite = raw[np.isfinite(raw)]
    return _Prepared(
        print_,
        status,
        y,
        x,
        tuple(p.steps for p in usable),
        primary.steps if primary else 1,
        horizons,
        horizons.index(min(settings.target_horizon, settings.max_horizon)),
        _validation_size(y.size, settings, primary.steps if primary else 0),
        0.0 if finite.size and float(finite.min()) >= 0 else None,
    )


def detected_seasons(values: FloatArray, settings: ForecastSettings) -> tuple[tuple[int, ...], int]:
    """The seasonal periods (steps) the models would be built with, and the primary one (1: none)."""
    prep = _prepare(values, settings, None)
    return prep.periods, prep.primary


def _evaluate(prep: _Prepared, names: tuple[str, ...], settings: ForecastSettings) -> list[Evaluation]:
    builders = fitters(prep.periods, prep.primary, settings.target_horizon)
    members = members_of(settings.candidates)
    scored = tuple(range(prep.target_index + 1)) if settings.near_horizons_score else (prep.target_index,)
    return evaluate(
        names,
        builders,
        prep.y,
        prep.x,
        prep.horizons,
        scored,
        prep.validation,
        members,
        settings.score_every_origin,
        settings.combination_pool,
    )


def _relative(score: float, reference: float) -> float:
    return score / reference if reference > 0 and math.isfinite(reference) else math.nan


def fit_forecaster(
    values: FloatArray, settings: ForecastSettings, exog: FloatArray | None = None, incumbent: str = ""
) -> Forecaster:
    """Fingerprint the history, select a model by rolling origin over every candidate, calibrate it;
    ``incumbent`` is the model chosen before (see ``ForecastSettings.reselect_margin``)."""
    prep = _prepare(values, settings, exog)
    names = tuple(dict.fromkeys((*settings.candidates, "seasonal_naive")))
    evaluations = _evaluate(prep, names, settings)
    reference = next((e.score for e in evaluations if e.name == "seasonal_naive"), math.nan)
    competing = [e for e in evaluations if e.name in settings.candidates] or evaluations
    winner, calibration = best(competing, prep.horizons, incumbent, settings.reselect_margin)
    scores = tuple((e.name, e.score) for e in competing)
    fitted = Forecaster(
        settings,
        prep.print_,
        prep.status,
        winner.model,
        calibration,
        scores,
        prep.floor,
        winner.name,
        _relative(winner.score, reference),
        prep.periods,
        0,
        int(prep.y.size),
    )
    return _with_online(fitted, prep.y, None)


def _with_online(forecaster: Forecaster, history: FloatArray, previous: OnlineCalibration | None) -> Forecaster:
    """Attach the online calibration: the previous one carried over a refit (its errors stay valid: they
    are those of the forecasts that were used), with the new model's path as the latest; else a new one."""
    settings = forecaster.settings
    k = min(settings.target_horizon, settings.online.max_horizon)
    if settings.online.window <= 0 or k < max(1, settings.online.min_horizons):
        return replace(forecaster, online=None)
    path = forecaster._path(forecaster.model)[:k] if k else np.zeros(0)
    if previous is not None and previous.horizons == k and previous.settings == settings.online:
        return replace(forecaster, online=previous.restart(path))
    return replace(forecaster, online=start_online(settings.online, k, history, path))


def refit_forecaster(previous: Forecaster, values: FloatArray, exog: FloatArray | None = None) -> Forecaster:
    """The scheduled refit (:func:`_refit`); the online calibration carries over."""
    refitted = _refit(previous, values, exog)
    y = np.asarray(values, dtype=np.float64)[-previous.settings.history_points :]
    return _with_online(refitted, y, previous.online)


def _refit(previous: Forecaster, values: FloatArray, exog: FloatArray | None = None) -> Forecaster:
    """The scheduled refit: re-estimate only the chosen model on ``values`` and recalibrate its quantiles.

    Falls back to the full selection (:func:`fit_forecaster`) when it is due: every
    ``reselect_every``-th refit, while the history is still growing (half again as many points as the
    last selection saw), while seasonal naive (the baseline) is the chosen model, when the usable
    seasonal periods changed, when the chosen model can no
    longer be fitted, or when its validation error relative to seasonal naive (same steps) grew by more
    than ``reselect_degradation`` since the last selection or exceeds seasonal naive's.
    """
    settings = previous.settings
    incumbent = "" if previous.chosen == "seasonal_naive" else previous.chosen

    def reselect() -> Forecaster:
        return fit_forecaster(values, settings, exog, incumbent)

    if not previous.chosen or previous.refits_since_selection + 1 >= settings.reselect_every:
        return reselect()
    if previous.chosen == "seasonal_naive" and len(settings.candidates) > 1:
        # The baseline cannot be judged against itself, and it usually wins on a short or changing
        # history: keep looking for a better model at every refit.
        return reselect()
    prep = _prepare(values, settings, exog)
    if prep.periods != previous.periods or prep.y.size >= 1.5 * previous.selected_points:
        return reselect()
    names = tuple(dict.fromkeys((previous.chosen, "seasonal_naive")))
    evaluations = {e.name: e for e in _evaluate(prep, names, settings)}
    own = evaluations.get(previous.chosen)
    reference = evaluations.get("seasonal_naive")
    if own is None or not math.isfinite(own.score):
        return reselect()
    relative = _relative(own.score, reference.score if reference else math.nan)
    alternatives = len(settings.candidates) > 1
    if alternatives and math.isfinite(relative) and math.isfinite(previous.relative_error):
        if relative > 1.0 and previous.chosen != "seasonal_naive":
            return reselect()
        if relative > settings.reselect_degradation * previous.relative_error:
            return reselect()
    winner, calibration = best([own], prep.horizons)
    scores = tuple((name, own.score if name == own.name else score) for name, score in previous.scores)
    return replace(
        previous,
        fingerprint=prep.print_,
        history=prep.status,
        model=winner.model,
        calibration=calibration,
        scores=scores,
        floor=prep.floor,
        refits_since_selection=previous.refits_since_selection + 1,
    )
