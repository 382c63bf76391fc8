"""The forecast combination candidate, and no look-ahead for every forecasting policy of the backtest."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from augur.forecast.autoreg import fit_autoreg
from augur.forecast.combination import COMBINATION, Combination, members_of, pooled
from augur.forecast.forecaster import ForecastSettings, fit_forecaster, refit_forecaster
from augur.forecast.persist import forecaster_from_dict, forecaster_to_dict
from augur.forecast.selection import CANDIDATES, Evaluation, evaluate, fitters, rolling_errors
from augur.forecast.sf_models import statsforecast_available
from augur.sim.policies import FORECASTERS, SF_POLICIES, WalkSettings, run_forecast_policy
from augur.sim.progress import Progress
from augur.sim.protocol import backtest_setup, policy_spec
from tests.unit.forecast.series import seasonal

PERIOD = 12
COMBINED = ("holt_winters", "mstl", "sarimax", COMBINATION)


def _series(n: int, seed: int = 0) -> np.ndarray:
    return seasonal(n, PERIOD, slope=0.02, noise=1.5, seed=seed)


def test_the_combination_forecasts_and_updates_as_the_mean_of_its_members() -> None:
    y = _series(200)
    builders = fitters((PERIOD,), PERIOD)
    members = tuple(builders[name](y[:150], None) for name in ("holt_winters", "sarimax"))
    combined = Combination(members, ("holt_winters", "sarimax"))
    for value in y[150:]:
        combined = combined.update(float(value))
        members = tuple(m.update(float(value)) for m in members)
    expected = np.mean([m.forecast(5) for m in members], axis=0)
    np.testing.assert_allclose(combined.forecast(5), expected)


def test_its_rolling_origin_errors_are_those_of_the_mean_forecast() -> None:
    """The selection scores the combination from its members' errors without walking it: the same
    numbers as walking the combined model itself."""
    y = _series(300)
    horizons = (1, 2, 3)
    results = {e.name: e for e in evaluate(COMBINED, fitters((PERIOD,), PERIOD), y, None, horizons, 1, 100, COMBINED)}
    assert set(results) == set(COMBINED)
    names = [n for n in COMBINED if n != COMBINATION]
    walked = Combination(tuple(fitters((PERIOD,), PERIOD)[n](y[:200], None) for n in names), tuple(names))
    _, errors, _ = rolling_errors(walked, y[200:], None, horizons)
    np.testing.assert_allclose(results[COMBINATION].errors, errors, rtol=1e-9, atol=1e-9)
    column = errors[:, 1]
    assert results[COMBINATION].score == pytest.approx(float(np.mean(np.abs(column[np.isfinite(column)]))))


def test_a_pool_keeps_the_members_with_the_lowest_scores_in_the_candidates_order() -> None:
    def part(name: str, score: float) -> Evaluation:
        return Evaluation(name, fit_autoreg(_series(60)), np.zeros((1, 1)), score)

    parts = [part("holt_winters", 3.0), part("mstl", 1.0), part("sarimax", 2.0), part("median_level", 1.0)]
    assert [p.name for p in pooled(parts, 2)] == ["mstl", "median_level"]
    assert [p.name for p in pooled(parts, 3)] == ["mstl", "sarimax", "median_level"]
    assert pooled(parts, 0) == parts and pooled(parts, 4) == parts


def test_a_pooled_combination_averages_only_its_best_members() -> None:
    """Its errors are the mean of the two lowest-scoring members' errors, on the same origins."""
    y = _series(300)
    horizons = (1, 2, 3)
    builders = fitters((PERIOD,), PERIOD)
    results = {e.name: e for e in evaluate(COMBINED, builders, y, None, horizons, 1, 100, COMBINED, pool=2)}
    singles = sorted((e for n, e in results.items() if n != COMBINATION), key=lambda e: e.score)
    best_two = [e for e in results.values() if e in singles[:2]]
    combined = results[COMBINATION].model
    assert isinstance(combined, Combination) and combined.labels == tuple(e.name for e in best_two)
    np.testing.assert_allclose(results[COMBINATION].errors, np.mean([e.errors for e in best_two], axis=0))
    settings = ForecastSettings(300.0, target_horizon=2, max_horizon_seconds=3600, candidates=COMBINED)
    pooled_fit = fit_forecaster(y, replace(settings, combination_pool=2))
    restored = forecaster_from_dict(json.loads(json.dumps(forecaster_to_dict(pooled_fit))))
    assert restored.settings.combination_pool == 2


def test_members_are_the_candidates_but_the_baseline() -> None:
    assert members_of(CANDIDATES) == ("holt_winters", "mstl", "sarimax", "median_level")
    assert members_of(("holt_winters", "sarimax")) == ()


def test_a_chosen_combination_is_refitted_whole_and_survives_a_json_round_trip() -> None:
    y = _series(400)
    candidates = (COMBINATION, "holt_winters", "sarimax")
    settings = ForecastSettings(300.0, target_horizon=2, max_horizon_seconds=3600, candidates=candidates)
    first = fit_forecaster(y[:300], settings)
    assert first.chosen in candidates and dict(first.scores).keys() == set(candidates)
    # A scheduled refit of a chosen combination re-estimates every member on the new history.
    second = refit_forecaster(replace(first, chosen=COMBINATION, relative_error=math.nan), y[:350])
    assert second.chosen == COMBINATION and second.refits_since_selection == 1
    assert isinstance(second.model, Combination)
    assert second.model.labels == ("holt_winters", "sarimax")
    assert all(m.t == 350 for m in second.model.members)  # type: ignore[attr-defined]
    restored = forecaster_from_dict(json.loads(json.dumps(forecaster_to_dict(second))))
    for value in y[350:]:
        second, restored = second.update(float(value)), restored.update(float(value))
    np.testing.assert_array_equal(restored.point(PERIOD), second.point(PERIOD))


EVERY = tuple(fitters((), 1))
"""Every model Augur can fit (its candidates, the autoregression and the statsforecast ones)."""
EXTRA = {
    **{f"only_{name}": (name,) for name in EVERY if name not in FORECASTERS},
    "everything_combined": (*EVERY, COMBINATION),
}


def _policies() -> list[str]:
    names = [*FORECASTERS, *EXTRA]
    needs_sf = {*SF_POLICIES, *(f"only_{n}" for n in EVERY if n.startswith("sf_")), "everything_combined"}
    return [n for n in names if n not in needs_sf or statsforecast_available()]


@pytest.mark.parametrize("name", _policies())
def test_no_forecaster_sees_a_point_after_its_origin(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every forecasting policy's whole walk (fits, refits, updates, decisions) up to step ``k`` is
    unchanged when the demand from step ``k`` on is changed: nothing at or after an origin reaches the
    forecast made there."""
    if name in EXTRA:
        monkeypatch.setitem(FORECASTERS, name, EXTRA[name])
    y = _series(110)
    cut = 90
    perturbed = y.copy()
    perturbed[cut:] = perturbed[cut:] * 3 + 40
    # refits every 30 steps on at most 64 points (the policy's refitInterval and history)
    setup = backtest_setup(300.0, capacity=5.0, spec=policy_spec(refit_interval="150m", history="320m"))
    walk = WalkSettings()
    runs = [
        run_forecast_policy(name, demand, setup, walk, 48, Progress("t", demand.size, None), 0)
        for demand in (y, perturbed)
    ]
    horizon = runs[0].horizon
    # point[s] was made from demand up to s - horizon; desired[t] from demand up to t - 1.
    np.testing.assert_array_equal(runs[0].point[: cut + horizon], runs[1].point[: cut + horizon])
    assert runs[0].desired[: cut + 1] == runs[1].desired[: cut + 1]
    assert len(runs[0].models) == 3  # fits at 48, 78 and 108: the last one after the cut
    assert not np.array_equal(runs[0].point, runs[1].point)


def test_the_autoregression_recovers_an_ar2_and_updates_causally() -> None:
    rng = np.random.default_rng(3)
    e = rng.normal(0, 1, 2600)
    y = np.zeros(2600)
    for t in range(2, y.size):
        y[t] = 0.6 * y[t - 1] + 0.2 * y[t - 2] + e[t]
    y = y[100:] + 100
    model = fit_autoreg(y[:2000])
    np.testing.assert_allclose(model.phi, [0.6, 0.2], atol=0.06)
    for value in y[2000:2010]:
        model = model.update(float(value))
    expected = model.const + model.phi @ y[2009:2007:-1]
    assert model.forecast(1)[0] == pytest.approx(expected)
    assert model.update(math.nan).lags[0] == pytest.approx(expected)  # a gap advances on its own forecast
