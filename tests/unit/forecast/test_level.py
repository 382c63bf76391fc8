"""The robust level models: their one parameter is chosen for the absolute error at the lead time."""

from __future__ import annotations

import numpy as np
import pytest

from augur.forecast.level import WINDOWS, MedianLevel, fit_median_level, fit_smooth_level


def _spiky(n: int, seed: int = 0) -> np.ndarray:
    """Noise around 10 with one-step spikes of +40 at random steps (5 %)."""
    rng = np.random.default_rng(seed)
    y = 10 + rng.normal(0, 1, n)
    y[rng.random(n) < 0.05] += 40
    return y


def _walk(n: int, seed: int = 0) -> np.ndarray:
    return 100 + np.cumsum(np.random.default_rng(seed).normal(0, 1, n))


def test_the_median_ignores_spikes_where_the_last_value_chases_them() -> None:
    y = _spiky(2500)
    model = fit_median_level(y[:2000])
    assert model.recent.size >= 24  # a long window: the spikes never reach the median
    errors_median, errors_naive = [], []
    for t in range(2000, 2500):
        errors_median.append(abs(y[t] - model.forecast(1)[0]))
        errors_naive.append(abs(y[t] - y[t - 1]))
        model = model.update(float(y[t]))
    assert np.mean(errors_median) < 0.7 * np.mean(errors_naive)  # the spikes themselves cost both 2
    assert model.t == 2500


def test_on_a_random_walk_both_models_follow_the_last_value() -> None:
    y = _walk(2000)
    assert fit_median_level(y).recent.size == 1
    assert fit_median_level(y).forecast(3).tolist() == [y[-1]] * 3
    assert fit_smooth_level(y).alpha == 1.0


def test_smoothing_is_slow_on_noise_and_its_level_tracks_the_mean() -> None:
    y = 50 + np.random.default_rng(4).normal(0, 5, 2000)
    model = fit_smooth_level(y)
    assert model.alpha <= 0.05
    assert abs(model.forecast(1)[0] - 50) < 2
    updated = model.update(60.0)
    assert updated.level == pytest.approx(model.level + model.alpha * (60.0 - model.level))


def test_the_window_is_chosen_for_the_lead_time() -> None:
    """A series that alternates between two values: the last value is always wrong one step ahead and
    always right two steps ahead."""
    y = np.tile([0.0, 10.0], 600) + np.random.default_rng(1).normal(0, 0.1, 1200)
    assert fit_median_level(y, horizon=1).recent.size > 1
    assert fit_median_level(y, horizon=2).recent.size == 1


def test_gaps_leave_the_state_unchanged_and_short_histories_are_refused() -> None:
    y = _spiky(600)
    y[-5:] = np.nan
    median, smooth = fit_median_level(y), fit_smooth_level(y)
    assert np.isfinite(median.forecast(1)).all() and np.isfinite(smooth.forecast(1)).all()
    assert median.update(float("nan")).forecast(2).tolist() == median.forecast(2).tolist()
    assert smooth.update(float("nan")).level == smooth.level
    with pytest.raises(ValueError, match="too few points"):
        fit_median_level(np.full(50, np.nan))
    with pytest.raises(ValueError, match="too few points"):
        fit_smooth_level(np.arange(10.0))
    assert max(WINDOWS) <= 288


def test_following_switches_to_the_latest_value_once_a_burst_has_lasted() -> None:
    rng = np.random.default_rng(2)
    quiet = 10 + rng.normal(0, 1, 48)
    model = MedianLevel(quiet.copy(), 48, follow=True)
    plain = MedianLevel(quiet.copy(), 48)
    spike = model.update(60.0)
    assert abs(spike.forecast(1)[0] - 10) < 1, "one high value is a spike: the median stays"
    burst = spike.update(58.0)
    assert burst.forecast(2).tolist() == [58.0, 58.0], "two in a row beyond the spread: a level shift"
    assert abs(plain.update(60.0).update(58.0).forecast(1)[0] - 10) < 1
    assert burst.name == "median_follow" and plain.name == "median_level"


def test_following_is_fitted_with_the_rule_it_forecasts_with() -> None:
    """Long bursts on a quiet level: the last value beats any plain median, and the following median
    beats the last value (it ignores the one-step spikes between the bursts)."""
    rng = np.random.default_rng(5)
    y = 10 + rng.normal(0, 0.5, 2500)
    for start in range(60, 2500, 180):
        y[start : start + 50] += 80
    y[rng.integers(0, 2500, 60)] += 40
    plain, following = fit_median_level(y[:2000]), fit_median_level(y[:2000], follow=True)
    errors: dict[str, list[float]] = {"plain": [], "follow": [], "last": []}
    for t in range(2000, 2500):
        errors["plain"].append(abs(y[t] - plain.forecast(1)[0]))
        errors["follow"].append(abs(y[t] - following.forecast(1)[0]))
        errors["last"].append(abs(y[t] - y[t - 1]))
        plain, following = plain.update(float(y[t])), following.update(float(y[t]))
    mean = {k: float(np.mean(v)) for k, v in errors.items()}
    assert mean["follow"] < mean["last"] <= mean["plain"] + 1e-9, mean
