"""ARIMA(1,1,1): the fitted state forecasts and updates as statsmodels' own filter does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from augur.forecast.arima import FIT_POINTS, DifferencedArima, fit_arima_d1


def _arima_series(n: int, phi: float = 0.5, theta: float = -0.8, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 1.0, n)
    d = np.zeros(n)
    for t in range(1, n):
        d[t] = phi * d[t - 1] + e[t] + theta * e[t - 1]
    return 100.0 + np.cumsum(d)


def _statsmodels(data: np.ndarray, phi: float, theta: float) -> object:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(data, order=(1, 1, 1), trend="n", concentrate_scale=True)
        return model.filter(np.array([phi, theta]))


def test_it_forecasts_and_updates_as_the_statsmodels_filter_with_the_same_parameters() -> None:
    y = _arima_series(1400)
    model = fit_arima_d1(y[:1200])
    assert model.phi == pytest.approx(0.5, abs=0.15) and model.theta == pytest.approx(-0.8, abs=0.1)
    window = y[:1200][-FIT_POINTS:]
    reference = _statsmodels(window, model.phi, model.theta)
    np.testing.assert_allclose(model.forecast(6), reference.forecast(6), rtol=0, atol=1e-6)  # type: ignore[attr-defined]
    for value in y[1200:1250]:
        model = model.update(float(value))
    extended = _statsmodels(np.concatenate([window, y[1200:1250]]), model.phi, model.theta)
    np.testing.assert_allclose(model.forecast(6), extended.forecast(6), rtol=0, atol=1e-6)  # type: ignore[attr-defined]


def test_the_recursion_by_hand() -> None:
    """Δy(t+1) = φ Δy(t) + θ e(t); later changes decay by φ; a value brings its innovation."""
    model = DifferencedArima(phi=0.5, theta=-0.4, last=10.0, change=2.0, innovation=1.0)
    np.testing.assert_allclose(model.forecast(3), [10.6, 10.9, 11.05])  # changes 0.6, 0.3, 0.15
    after = model.update(12.0)
    assert (after.last, after.change, after.innovation) == pytest.approx((12.0, 2.0, 1.4))
    gap = model.update(float("nan"))  # a gap: the model's own forecast, innovation 0
    assert (gap.last, gap.change, gap.innovation) == pytest.approx((10.6, 0.6, 0.0))


def test_too_short_a_history_is_refused() -> None:
    with pytest.raises(ValueError, match="too few points"):
        fit_arima_d1(np.arange(10.0))
