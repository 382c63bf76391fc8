"""Rolling-origin model selection: fit every candidate on the older history, walk it over the recent
history with incremental updates (parameters fixed), and keep the one with the lowest error at the
horizon that matters; the walk's errors calibrate the quantiles."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from augur.constants import FloatArray
from augur.forecast.arima import fit_arima_d1
from augur.forecast.autoreg import fit_autoreg
from augur.forecast.combination import COMBINATION, MIN_MEMBERS, Combination, combined_errors, pooled
from augur.forecast.level import fit_median_level, fit_smooth_level
from augur.forecast.models import FittedModel, fit_decomposed, fit_holt_winters, fit_seasonal_naive
from augur.forecast.quantiles import Calibration, calibrate
from augur.forecast.regression import fit_harmonic_arima
from augur.forecast.sf_models import fit_sf_autoarima, fit_sf_autoets, fit_sf_mstl

CANDIDATES = ("seasonal_naive", "holt_winters", "mstl", "sarimax", COMBINATION, "median_level")
"""Augur's default candidates; ``combination`` is the mean of the others except seasonal naive, and
``median_level`` the robust level of :mod:`augur.forecast.level` (both chosen on the development
series, ``bench/results/sf_search.json`` and ``sf_search_levels.json``). ``autoreg``, ``ses``,
``smooth_level``, ``median_follow``, ``arima_d1`` and the ``sf_*`` models are fitters that a
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
        "arima_d1": lambda y, x: fit_arima_d1(y),
        "median_level": lambda y, x: fit_median_level(y, horizon),
        "median_follow": lambda y, x: fit_median_level(y, horizon, follow=True),
        "smooth_level": lambda y, x: fit_smooth_level(y, horizon),
        "sf_autoets": lambda y, x: fit_sf_autoets(y, primary),
        "sf_autoarima": lambda y, x: fit_sf_autoarima(y, primary),
        "sf_mstl": lambda y, x: fit_sf_mstl(y, periods),
    }


CANDIDATE_NAMES = frozenset({*fitters((), 0), COMBINATION})
"""Every name a ``ForecastSettings.candidates`` may hold."""


@dataclass(frozen=True)
class Evaluation:
    """One candidate after its rolling-origin walk."""

    name: str
    model: FittedModel
    """State at the end of the history, ready for incremental updates."""
    errors: FloatArray
    score: float
    scored_errors: FloatArray | None = None
    """Errors at the scored horizons from every origin (``evaluate(..., every_origin=True)``), else None."""


def rolling_errors(
    model: FittedModel,
    y: FloatArray,
    exog: FloatArray | None,
    horizons: tuple[int, ...],
    every: tuple[int, ...] = (),
) -> tuple[FittedModel, FloatArray, FloatArray]:
    """Walk ``model`` over ``y`` (updates only); errors ``actual - forecast`` at each sampled origin x
    horizon (at most ``MAX_ORIGINS`` origins, for the calibration), and at every origin x the horizons
    whose indices are ``every`` (for the score; an empty array when ``every`` is empty)."""
    stride = max(1, y.size // MAX_ORIGINS)
    longest = horizons[-1]
    offsets = np.asarray(horizons) - 1
    near = offsets[list(every)] if every else offsets[:0]
    reach = int(near.max()) + 1 if every else 0
    first = int(near.min()) if every else 0
    origins: list[int] = []
    paths: list[FloatArray] = []
    dense = np.full((y.size if every else 0, len(every)), np.nan)
    for i in range(y.size):
        sampled = i % stride == 0 and i + offsets[0] < y.size
        if sampled or (every and i + first < y.size):
            steps = longest if sampled else reach
            future = None if exog is None else exog[i : i + steps]
            if future is not None and future.shape[0] < steps:
                future = None
            path = model.forecast(steps, future)
            if sampled:
                origins.append(i)
                paths.append(path[offsets])
            if every:
                dense[i] = path[near]
        model = model.update(float(y[i]), None if exog is None else exog[i])
    errors = _errors(y, np.asarray(origins, dtype=np.int64), np.vstack(paths) if paths else dense[:0], offsets)
    return model, errors, _errors(y, np.arange(dense.shape[0]), dense, near)


def _errors(y: FloatArray, origins: np.ndarray, forecasts: FloatArray, offsets: np.ndarray) -> FloatArray:
    """``actual - forecast`` for each origin (rows) x offset (columns); NaN past the end of ``y``."""
    out = np.full((origins.size, offsets.size), np.nan)
    target = origins[:, None] + offsets[None, :]
    ok = target < y.size
    out[ok] = y[target[ok]] - forecasts.reshape(out.shape)[ok]
    return out


def evaluate(
    names: tuple[str, ...],
    builders: dict[str, Fitter],
    y: FloatArray,
    exog: FloatArray | None,
    horizons: tuple[int, ...],
    scored: int | tuple[int, ...],
    validation: int,
    members: tuple[str, ...] = (),
    every_origin: bool = False,
    pool: int = 0,
) -> list[Evaluation]:
    """Fit each candidate on ``y[:-validation]`` and score it on the rest: the MAE at horizon index
    ``scored``, or the mean of the MAEs at several (a tuple of indices into ``horizons``), over the
    sampled origins or, with ``every_origin``, over every origin of the validation window.

    ``combination`` among ``names`` is the mean of ``members`` (:mod:`augur.forecast.combination`),
    which are fitted and walked for it when they are not in ``names`` themselves; with ``pool`` > 0, of
    the ``pool`` members with the lowest scores only (:func:`augur.forecast.combination.pooled`)."""
    split = y.size - validation
    train_x = None if exog is None else exog[:split]
    valid_x = None if exog is None else exog[split:]
    results: list[Evaluation] = []
    indices = (scored,) if isinstance(scored, int) else scored
    wanted = (*names, *members) if COMBINATION in names else names
    for name in dict.fromkeys(wanted):
        if name == COMBINATION:
            continue
        try:
            model = builders[name](y[:split], train_x)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        model, errors, dense = rolling_errors(model, y[split:], valid_x, horizons, indices if every_origin else ())
        results.append(_evaluation(name, model, errors, dense if every_origin else None, indices))
    if COMBINATION in names:
        parts = pooled([e for e in results if e.name in members and math.isfinite(e.score)], pool)
        if len(parts) >= MIN_MEMBERS:
            errors = combined_errors([e.errors for e in parts])
            model = Combination(tuple(e.model for e in parts), tuple(e.name for e in parts))
            scored_parts = [e.scored_errors for e in parts if e.scored_errors is not None]
            combined = combined_errors(scored_parts) if every_origin else None
            results.append(_evaluation(COMBINATION, model, errors, combined, indices))
    return results


def _evaluation(
    name: str, model: FittedModel, errors: FloatArray, dense: FloatArray | None, indices: tuple[int, ...]
) -> Evaluation:
    if dense is None:
        return Evaluation(name, model, errors, _score(errors, indices))
    return Evaluation(name, model, errors, _score(dense, tuple(range(len(indices)))), dense)


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
