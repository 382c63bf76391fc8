"""Rolling-origin model selection: fit every candidate on the older history, walk it over the recent
history with incremental updates (parameters fixed), and keep the one with the lowest error at the
horizon that matters; the walk's errors calibrate the quantiles."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from augur.forecast.autoreg import fit_autoreg
from augur.forecast.combination import COMBINATION, MIN_MEMBERS, Combination, combined_errors
from augur.forecast.level import fit_median_level, fit_smooth_level
from augur.forecast.models import FittedModel, fit_decomposed, fit_holt_winters, fit_seasonal_naive
from augur.forecast.quantiles import Calibration, calibrate
from augur.forecast.regression import fit_harmonic_arima
from augur.forecast.series import FloatArray
from augur.forecast.sf_models import fit_sf_autoarima, fit_sf_autoets, fit_sf_mstl

CANDIDATES = ("seasonal_naive", "holt_winters", "mstl", "sarimax", COMBINATION, "median_level")
"""Augur's default candidates; ``combination`` is the mean of the others except seasonal naive, and
``median_level`` the robust level of :mod:`augur.forecast.level` (both chosen on the development
series, ``bench/results/sf_search.json`` and ``sf_search_levels.json``). ``autoreg``, ``ses``,
``smooth_level``, ``median_follow`` and the ``sf_*`` models are fitters that a
``ForecastSettings.candidates`` may name, not defaults."""
MAX_ORIGINS = 150

Fitter = Callable[[FloatArray, FloatArray | None], FittedModel]


def fitters(periods: tuple[int, ...], primary: int, horizon: int = 1) -> dict[str, Fitter]:
    """Model builders for the detected periods (``primary`` 0 or 1 means none) and the lead time
    (``horizon`` steps, which the level models are fitted for): Augur's candidates and the statsforecast
    models (``sf_*``, :mod:`augur.forecast.sf_models`; not candidates by default)."""
    return {
        "seasonal_naive": lambda y, x: fit_seasonal_naive(y, primary),
        "holt_winters": lambda y, x: fit_holt_winters(y, primary),
        "ses": lambda y, x: fit_holt_winters(y, primary, trend=False),
        "mstl": lambda y, x: fit_decomposed(y, periods),
        "sarimax": lambda y, x: fit_harmonic_arima(y, periods, x),
        "autoreg": lambda y, x: fit_autoreg(y),
        "median_level": lambda y, x: fit_median_level(y, horizon),
        "median_follow": lambda y, x: fit_median_level(y, horizon, follow=True),
        "smooth_level": lambda y, x: fit_smooth_level(y, horizon),
        "sf_autoets": lambda y, x: fit_sf_autoets(y, primary),
        "sf_autoarima": lambda y, x: fit_sf_autoarima(y, primary),
        "sf_mstl": lambda y, x: fit_sf_mstl(y, periods),
    }


@dataclass(frozen=True)
class Evaluation:
    """One candidate after its rolling-origin walk."""

    name: str
    model: FittedModel
    """State at the end of the history, ready for incremental updates."""
    errors: FloatArray
    score: float


def rolling_errors(
    model: FittedModel, y: FloatArray, exog: FloatArray | None, horizons: tuple[int, ...]
) -> tuple[FittedModel, FloatArray]:
    """Walk ``model`` over ``y`` (updates only); errors ``actual - forecast`` at each origin x horizon."""
    stride = max(1, y.size // MAX_ORIGINS)
    longest = horizons[-1]
    offsets = np.asarray(horizons) - 1
    rows: list[FloatArray] = []
    for i in range(y.size):
        if i % stride == 0 and i + offsets[0] < y.size:
            future = None if exog is None else exog[i : i + longest]
            if future is not None and future.shape[0] < longest:
                future = None
            path = model.forecast(longest, future)
            row = np.full(len(horizons), np.nan)
            ok = i + offsets < y.size
            row[ok] = y[i + offsets[ok]] - path[offsets[ok]]
            rows.append(row)
        model = model.update(float(y[i]), None if exog is None else exog[i])
    return model, (np.vstack(rows) if rows else np.full((0, len(horizons)), np.nan))


def evaluate(
    names: tuple[str, ...],
    builders: dict[str, Fitter],
    y: FloatArray,
    exog: FloatArray | None,
    horizons: tuple[int, ...],
    scored: int | tuple[int, ...],
    validation: int,
    members: tuple[str, ...] = (),
) -> list[Evaluation]:
    """Fit each candidate on ``y[:-validation]`` and score it on the rest: the MAE at horizon index
    ``scored``, or the mean of the MAEs at several (a tuple of indices into ``horizons``).

    ``combination`` among ``names`` is the mean of ``members`` (:mod:`augur.forecast.combination`),
    which are fitted and walked for it when they are not in ``names`` themselves."""
    split = y.size - validation
    train_x = None if exog is None else exog[:split]
    valid_x = None if exog is None else exog[split:]
    results: list[Evaluation] = []
    wanted = (*names, *members) if COMBINATION in names else names
    for name in dict.fromkeys(wanted):
        if name == COMBINATION:
            continue
        try:
            model = builders[name](y[:split], train_x)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        model, errors = rolling_errors(model, y[split:], valid_x, horizons)
        results.append(Evaluation(name, model, errors, _score(errors, scored)))
    if COMBINATION in names:
        parts = [e for e in results if e.name in members and math.isfinite(e.score)]
        if len(parts) >= MIN_MEMBERS:
            errors = combined_errors([e.errors for e in parts])
            model = Combination(tuple(e.model for e in parts), tuple(e.name for e in parts))
            results.append(Evaluation(COMBINATION, model, errors, _score(errors, scored)))
    return results


def _score(errors: FloatArray, scored: int | tuple[int, ...]) -> float:
    maes = []
    for index in (scored,) if isinstance(scored, int) else scored:
        column = errors[:, index] if errors.size else np.array([np.nan])
        finite = column[np.isfinite(column)]
        if not finite.size:
            return float("inf")
        maes.append(float(np.mean(np.abs(finite))))
    return float(np.mean(maes)) if maes else float("inf")


def best(
    evaluations: list[Evaluation], horizons: tuple[int, ...], incumbent: str = "", margin: float = 0.0
) -> tuple[Evaluation, Calibration]:
    """The lowest-scoring candidate and the quantile calibration from its errors; ``incumbent`` (the
    model chosen before) stays when its score is within ``margin`` (a fraction) of the lowest."""
    if not evaluations:
        raise ValueError("no forecasting model could be fitted")
    winner = min(evaluations, key=lambda e: e.score)
    kept = next((e for e in evaluations if e.name == incumbent), None) if incumbent and margin > 0 else None
    if kept is not None and math.isfinite(kept.score) and kept.score <= (1 + margin) * winner.score:
        winner = kept
    return winner, calibrate(winner.errors, horizons)
