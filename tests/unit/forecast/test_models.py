"""Models: incremental updates reproduce statsmodels' filtered states; forecasts use the right phase."""

from __future__ import annotations

import warnings

import numpy as np

from augur.forecast.models import fit_decomposed, fit_holt_winters, fit_seasonal_naive
from augur.forecast.regression import fit_harmonic_arima
from tests.unit.forecast.series import seasonal


def _series(n: int, period: int = 48, seed: int = 0, slope: float = 0.01) -> np.ndarray:
    return seasonal(n, period, slope=slope, seed=seed)


def test_holt_winters_update_matches_statsmodels_filter() -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _series(600)
    model = fit_holt_winters(y[:500], 48)
    for value in y[500:]:
        model = model.update(float(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ExponentialSmoothing(
            y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=48, initialization_method="heuristic"
        ).fit(
            smoothing_level=model.alpha,
            smoothing_trend=model.beta,
            smoothing_seasonal=model.gamma,
            damping_trend=model.phi,
            optimized=False,
        )
    # Different initial states fade out; after 600 steps the filters agree closely.
    assert abs(model.level - float(ref.level[-1])) < 0.5
    np.testing.assert_allclose(model.forecast(48), ref.forecast(48), atol=1.0)


def test_holt_winters_forecast_equals_statsmodels_at_fit_end() -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _series(480)
    model = fit_holt_winters(y, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ExponentialSmoothing(
            y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=48, initialization_method="heuristic"
        ).fit(use_brute=False)
    # Horizons 1..m-1 agree exactly. At h = m statsmodels reuses the seasonal term of the cycle before the
    # last (s[n-1-m]); we use the textbook s[n-1], the most recent estimate of that phase.
    np.testing.assert_allclose(model.forecast(47), ref.forecast(47), rtol=1e-9, atol=1e-6)


def test_seasonal_naive_repeats_the_last_cycle_and_bridges_gaps() -> None:
    y = np.arange(20, dtype=float)
    model = fit_seasonal_naive(y, 5)
    assert model.forecast(7).tolist() == [15, 16, 17, 18, 19, 15, 16]
    model = model.update(np.nan)  # index 20 is a gap: its phase falls back to the last value
    assert model.forecast(5).tolist() == [16, 17, 18, 19, 19]


def test_decomposed_and_harmonic_models_track_the_season() -> None:
    y = _series(960, slope=0.0)
    truth = _series(1008, slope=0.0)[960:]
    for model in (fit_decomposed(y, (48,)), fit_harmonic_arima(y, (48,))):
        error = np.mean(np.abs(model.forecast(48) - truth))
        assert error < 3.0, model.name
        updated = model.update(float(truth[0]))
        assert np.mean(np.abs(updated.forecast(47) - truth[1:])) < 3.0


def test_harmonic_regression_uses_an_external_feed() -> None:
    rng = np.random.default_rng(5)
    n = 1200
    feed = (rng.random(n) < 0.1).astype(float)
    y = _series(n, slope=0.0) + 30 * feed
    with_feed = fit_harmonic_arima(y[:1000], (48,), feed[:1000, None])
    without = fit_harmonic_arima(y[:1000], (48,))
    future = feed[1000:1100, None]
    err_with = np.mean(np.abs(with_feed.forecast(100, future) - y[1000:1100]))
    err_without = np.mean(np.abs(without.forecast(100) - y[1000:1100]))
    assert err_with < 0.5 * err_without


def test_the_ar_error_path_equals_scipy_lfilter() -> None:
    """``ar_path`` replaced ``scipy.signal.lfilter`` (which the operator's process no longer imports)."""
    from scipy.signal import lfilter, lfiltic

    from augur.forecast.regression import ar_path

    rng = np.random.default_rng(3)
    for _ in range(20):
        ar = (float(rng.uniform(-0.9, 0.9)), float(rng.uniform(-0.4, 0.4)))
        residuals = (float(rng.normal()), float(rng.normal()))
        steps = int(rng.integers(1, 300))
        denominator = np.concatenate([[1.0], -np.asarray(ar)])
        state = lfiltic([1.0], denominator, np.asarray(residuals))
        expected = lfilter([1.0], denominator, np.zeros(steps), zi=state)[0]
        np.testing.assert_allclose(ar_path(ar, residuals, steps), expected, rtol=1e-12, atol=1e-12)
    # by hand: e1 = 0.5*2 + 0.25*1 = 1.25; e2 = 0.5*1.25 + 0.25*2 = 1.125
    np.testing.assert_allclose(ar_path((0.5, 0.25), (2.0, 1.0), 2), [1.25, 1.125])


def test_the_harmonic_design_is_a_constant_then_sine_cosine_pairs_per_period_then_feeds() -> None:
    """Column by column, as written out by hand: 1, then for each period m and harmonic k = 1 … min(K,
    m // 2) sin(2πkt/m), cos(2πkt/m), then the feeds."""
    from augur.forecast.regression import design

    t = np.array([0.0, 5.0, 13.0, 4031.0])
    feeds = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    matrix = design(t, (12, 5), 3, feeds)
    expected = [np.ones(4)]
    for m, harmonics in ((12, 3), (5, 2)):
        for k in range(1, harmonics + 1):
            expected += [np.sin(2.0 * np.pi * k * t / m), np.cos(2.0 * np.pi * k * t / m)]
    expected += [feeds[:, 0], feeds[:, 1]]
    assert matrix.shape == (4, 1 + 6 + 4 + 2)
    np.testing.assert_array_equal(matrix, np.column_stack(expected))
    assert design(t, (), 6, None).shape == (4, 1)
