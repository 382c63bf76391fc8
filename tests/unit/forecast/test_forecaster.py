"""The forecaster: model selection, calibrated quantiles, cheap incremental updates."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from augur.forecast.forecaster import ForecastSettings, fit_forecaster, refit_forecaster
from augur.forecast.online import OnlineSettings
from tests.unit.forecast.series import seasonal


def _series(n: int, seed: int = 0) -> np.ndarray:
    return seasonal(n, 96, level=200, amplitude=60, noise=6, seed=seed)


def test_selection_beats_naive_and_quantiles_cover() -> None:
    y = _series(1500)
    settings = ForecastSettings(900.0, target_horizon=2, max_horizon_seconds=86400)
    f = fit_forecaster(y[:1000], settings)
    scores = dict(f.scores)
    assert f.model_name in scores
    assert scores[f.model_name] == min(scores.values())
    assert scores[f.model_name] < scores["seasonal_naive"]
    inside = total = 0
    for value in y[1000:1400]:
        total += 1
        low, high = f.forecast((1,), (0.1, 0.9)).values[0]
        inside += int(low <= value <= high)
        f = f.update(float(value))
    assert 0.65 <= inside / total <= 0.95


def test_quantiles_are_monotone_and_widen_with_horizon() -> None:
    f = fit_forecaster(_series(800), ForecastSettings(900.0, target_horizon=1))
    q = f.forecast((1, 4, 48, 96), (0.05, 0.5, 0.95))
    assert np.all(np.diff(q.values, axis=1) >= 0)
    width = q.values[:, 2] - q.values[:, 0]
    assert width[-1] >= width[0]
    assert q.at(0.5).shape == (4,)


def test_short_history_falls_back_without_season() -> None:
    f = fit_forecaster(_series(60), ForecastSettings(900.0))
    assert not f.history.sufficient
    assert "need two full days" in f.history.message
    assert f.model_name in {"naive", "holt", "sarimax", "mstl", "combination"}
    assert np.all(np.isfinite(f.point(10)))


def test_nonnegative_series_never_forecast_below_zero() -> None:
    y = np.abs(np.random.default_rng(2).normal(0, 1, 600))
    f = fit_forecaster(y, ForecastSettings(60.0))
    assert float(f.forecast((1, 2, 3), (0.02,)).values.min()) >= 0.0


def test_scheduled_refit_refits_only_the_chosen_model_and_reselects_when_due() -> None:
    y = _series(800)
    settings = ForecastSettings(900.0, target_horizon=2, reselect_every=3, candidates=("holt_winters", "sarimax"))
    first = fit_forecaster(y[:500], settings)
    assert first.chosen in settings.candidates
    assert first.refits_since_selection == 0
    assert np.isfinite(first.relative_error)
    second = refit_forecaster(first, y[:600])
    assert second.chosen == first.chosen
    assert second.refits_since_selection == 1
    assert second.model.t == 600  # type: ignore[attr-defined]
    third = refit_forecaster(second, y[:700])
    assert third.refits_since_selection == 2
    fourth = refit_forecaster(third, y[:800])
    assert fourth.refits_since_selection == 0, "every third refit runs the full selection"
    assert dict(fourth.scores).keys() == set(settings.candidates)


def test_refit_reselects_when_the_chosen_model_degrades_or_seasons_change() -> None:
    y = _series(600)
    settings = ForecastSettings(900.0, target_horizon=2, candidates=("seasonal_naive", "holt_winters"))
    first = fit_forecaster(y[:500], settings)
    degraded = replace(first, relative_error=first.relative_error / 10)
    assert refit_forecaster(degraded, y).refits_since_selection == 0
    other_seasons = replace(first, periods=(7,))
    assert refit_forecaster(other_seasons, y).refits_since_selection == 0
    baseline = replace(first, chosen="seasonal_naive")
    assert refit_forecaster(baseline, y).refits_since_selection == 0, "a baseline choice is re-examined"
    assert refit_forecaster(first, y).refits_since_selection == 1


def test_a_reselection_keeps_the_incumbent_within_the_margin() -> None:
    y = _series(800)
    candidates = ("holt_winters", "sarimax")
    plain = fit_forecaster(y, ForecastSettings(900.0, target_horizon=2, candidates=candidates))
    scores = dict(plain.scores)
    loser = max(candidates, key=lambda name: scores[name])
    gap = scores[loser] / scores[plain.chosen] - 1
    assert gap > 0
    wide = ForecastSettings(900.0, target_horizon=2, candidates=candidates, reselect_margin=gap * 1.01)
    narrow = replace(wide, reselect_margin=gap * 0.99)
    assert fit_forecaster(y, wide, incumbent=loser).chosen == loser
    assert fit_forecaster(y, narrow, incumbent=loser).chosen == plain.chosen
    assert fit_forecaster(y, wide).chosen == plain.chosen, "without an incumbent the lowest error wins"
    # a scheduled refit's reselection passes the model chosen before as the incumbent
    due = replace(fit_forecaster(y[:700], wide), chosen=loser, refits_since_selection=wide.reselect_every - 1)
    assert refit_forecaster(due, y).chosen == loser


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"interval_seconds": 0.0}, "interval_seconds must be a finite number above 0 (got 0.0)"),
        ({"max_horizon_seconds": float("nan")}, "max_horizon_seconds must be a finite number above 0"),
        ({"target_horizon": 0}, "target_horizon must be at least 1 (got 0)"),
        ({"history_points": 1}, "history_points must be at least 2 (got 1)"),
        ({"reselect_every": 0}, "reselect_every must be at least 1 (got 0)"),
        ({"candidates": ()}, "candidates must name at least one model"),
        ({"candidates": ("mstl", "prophet")}, "unknown candidates ['prophet'] (known: arima_d1, autoreg,"),
        ({"validation_share": 1.5}, "validation_share must lie in [0, 1] (got 1.5)"),
        ({"reselect_margin": 1.0}, "reselect_margin must lie in [0, 1) (got 1.0)"),
        ({"reselect_degradation": 0.0}, "reselect_degradation must be above 0 (got 0.0)"),
        ({"combination_pool": -1}, "combination_pool must be at least 0 (got -1)"),
    ],
)
def test_settings_no_fit_could_use_are_refused_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="invalid ForecastSettings: ") as caught:
        replace(ForecastSettings(300.0), **changes)
    assert message in str(caught.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ValueError) as caught:
        ForecastSettings(300.0, target_horizon=0, validation_share=-0.1, candidates=("sf_mstl", "nope"))
    assert str(caught.value).count(";") == 2
    assert ForecastSettings(300.0, candidates=("sf_mstl", "median_follow", "combination")).candidates[0] == "sf_mstl"


def test_online_settings_are_checked_too() -> None:
    with pytest.raises(ValueError, match=r"min_samples must be at least 1 \(got 0\); scale_alpha must lie in \[0, 1\]"):
        OnlineSettings(min_samples=0, scale_alpha=1.5)
    assert OnlineSettings(window=0).window == 0  # 0 turns online calibration off
