"""Serialising fitted forecasters: exact round trips for every model kind, through JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from augur.forecast.forecaster import ForecastSettings, fit_forecaster
from augur.forecast.persist import forecaster_from_dict, forecaster_to_dict, model_from_dict, model_to_dict
from tests.unit.forecast.series import seasonal


def _series(n: int, seed: int = 0) -> np.ndarray:
    y = seasonal(n, 48, level=200, amplitude=60, noise=6, seed=seed)
    y[7] = np.nan  # a gap survives the round trip
    return y


@pytest.mark.parametrize(
    "candidate",
    [
        "seasonal_naive",
        "holt_winters",
        "mstl",
        "sarimax",
        "median_level",
        "median_follow",
        "smooth_level",
        "autoreg",
        "arima_d1",
    ],
)
def test_every_model_round_trips_exactly_through_json(candidate: str) -> None:
    settings = ForecastSettings(1800.0, target_horizon=2, candidates=(candidate,))
    fitted = fit_forecaster(_series(400), settings)
    data = json.loads(json.dumps(forecaster_to_dict(fitted)))
    restored = forecaster_from_dict(data)
    assert restored.model_name == fitted.model_name and restored.chosen == fitted.chosen
    assert restored.settings == fitted.settings and restored.periods == fitted.periods
    levels = (0.1, 0.5, 0.9)
    expected = fitted.forecast((1, 2, 5), levels).values
    np.testing.assert_array_equal(restored.forecast((1, 2, 5), levels).values, expected)
    # and it keeps learning identically
    a, b = fitted, restored
    for value in (210.0, float("nan"), 190.0):
        a, b = a.update(value), b.update(value)
    np.testing.assert_array_equal(a.point(4), b.point(4))
    assert model_to_dict(model_from_dict(model_to_dict(fitted.model))) == model_to_dict(fitted.model)


def test_unknown_versions_and_models_are_refused() -> None:
    fitted = fit_forecaster(_series(200), ForecastSettings(1800.0, candidates=("seasonal_naive",)))
    data = forecaster_to_dict(fitted)
    with pytest.raises(ValueError, match="version"):
        forecaster_from_dict({**data, "version": 99})
    with pytest.raises(ValueError, match="unknown model"):
        model_from_dict({"type": "Prophet"})
