"""The selection's scoring: every origin of the validation window, and the window's size."""

from __future__ import annotations

import numpy as np
import pytest

from augur.forecast.combination import COMBINATION
from augur.forecast.forecaster import ForecastSettings, _validation_size, fit_forecaster
from augur.forecast.models import fit_seasonal_naive
from augur.forecast.selection import MAX_ORIGINS, evaluate, fitters, rolling_errors
from tests.unit.forecast.series import seasonal

PERIOD = 12
NAMES = ("holt_winters", "sarimax", "median_level", COMBINATION)
MEMBERS = ("holt_winters", "sarimax", "median_level")


def test_every_origin_errors_are_the_forecast_errors_at_each_point() -> None:
    """Seasonal naive's one-step forecast is the value a period back, so its error at every origin is
    known by hand; the sampled rows (for the calibration) are unchanged by the dense ones."""
    y = seasonal(2 * MAX_ORIGINS + 2 * PERIOD + 40, PERIOD, noise=1.0, seed=3)
    history, valid = y[: 2 * PERIOD + 40], y[2 * PERIOD + 40 :]
    model = fit_seasonal_naive(history, PERIOD)
    horizons = (1, 2, 4)
    _, sampled, dense = rolling_errors(model, valid, None, horizons, every=(0, 2))
    _, alone, empty = rolling_errors(model, valid, None, horizons)
    np.testing.assert_array_equal(sampled, alone)
    assert empty.shape == (0, 0)
    both = np.concatenate([history, valid])
    start = history.size
    expected_h1 = np.array([both[start + i] - both[start + i - PERIOD] for i in range(valid.size)])
    n = valid.size
    lag = both[start + 3 :] - both[start + 3 - PERIOD : both.size - PERIOD]  # the error four steps ahead
    expected_h4 = np.concatenate([lag, np.full(3, np.nan)])[:n]
    np.testing.assert_allclose(dense[:, 0], expected_h1)
    np.testing.assert_allclose(dense[:, 1], expected_h4)
    stride = valid.size // MAX_ORIGINS
    np.testing.assert_allclose(sampled[:, 0], expected_h1[::stride][: sampled.shape[0]])


def test_scoring_every_origin_scores_the_dense_errors_and_combines_them() -> None:
    y = seasonal(600, PERIOD, slope=0.01, noise=2.0, seed=5)
    builders = fitters((PERIOD,), PERIOD)
    horizons = (1, 2, 3)
    dense = {e.name: e for e in evaluate(NAMES, builders, y, None, horizons, 1, 400, MEMBERS, every_origin=True)}
    sparse = {e.name: e for e in evaluate(NAMES, builders, y, None, horizons, 1, 400, MEMBERS)}
    assert set(dense) == set(NAMES)
    for name, evaluation in dense.items():
        assert evaluation.scored_errors is not None and sparse[name].scored_errors is None
        assert evaluation.scored_errors.shape == (400, 1)
        column = evaluation.scored_errors[:, 0]
        assert evaluation.score == pytest.approx(float(np.mean(np.abs(column[np.isfinite(column)]))))
        np.testing.assert_allclose(evaluation.errors, sparse[name].errors)
    members = np.mean([dense[name].scored_errors for name in MEMBERS], axis=0)
    np.testing.assert_allclose(dense[COMBINATION].scored_errors, members)
    # the stride keeps at most MAX_ORIGINS sampled origins out of 400, so the two scores differ
    assert dense["sarimax"].score != pytest.approx(sparse["sarimax"].score, rel=1e-12)


@pytest.mark.parametrize(
    ("samples", "share", "season", "expected"),
    [
        (4032, 0.0, 288, 776),  # a quarter (1,008), capped at two days' horizon + 200
        (4032, 0.5, 288, 2016),
        (4032, 1 / 3, 288, 1344),
        (4032, 0.9, 288, 2016),  # never more than half
        (1000, 0.5, 288, 422),  # two seasons (578 points) kept to fit on
        (100, 0.5, 0, 50),
        (60, 0.1, 0, 24),  # the floor: four target horizons + 20
        (30, 0.5, 0, 15),  # ... but never more than half
    ],
)
def test_the_validation_window(samples: int, share: float, season: int, expected: int) -> None:
    settings = ForecastSettings(300.0, validation_share=share)
    assert _validation_size(samples, settings, season) == expected


def test_a_selection_with_the_steadier_scoring_forecasts() -> None:
    y = seasonal(1500, PERIOD, noise=1.0, seed=7)
    settings = ForecastSettings(300.0, max_horizon_seconds=3600.0, score_every_origin=True, validation_share=0.5)
    forecaster = fit_forecaster(y, settings)
    assert forecaster.chosen in settings.candidates
    assert np.all(np.isfinite(forecaster.forecast((1, 2, 6)).mean))
