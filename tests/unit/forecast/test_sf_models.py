"""statsforecast models as Augur forecasters: exact incremental updates and no look-ahead."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("statsforecast")

from statsforecast.ets import pegelsresid_C
from statsforecast.models import MSTL, AutoARIMA, AutoETS

from augur.cli.main import main
from augur.forecast.forecaster import ForecastSettings, fit_forecaster
from augur.forecast.persist import forecaster_from_dict, forecaster_to_dict
from augur.forecast.sf_models import ARIMA_SEARCH, SF_CANDIDATES, fit_sf_autoarima, fit_sf_autoets, fit_sf_mstl
from augur.sim.ceiling import refit_at_origins, sample_origins, spread_order
from augur.sim.policies import FORECASTERS
from tests.unit.forecast.series import seasonal

PERIOD = 12


def _series(n: int, seed: int = 0) -> np.ndarray:
    return seasonal(n, PERIOD, slope=0.05, seed=seed)


def test_ets_updates_follow_statsforecasts_own_recursion() -> None:
    y = _series(160)
    model = fit_sf_autoets(y[:120], PERIOD)
    fit = AutoETS(season_length=PERIOD).fit(y[:120]).model_
    np.testing.assert_allclose(model.forecast(5), AutoETS(season_length=PERIOD).fit(y[:120]).predict(5)["mean"])
    for value in y[120:]:
        model = model.update(float(value))
    c = fit["components"]
    par = np.nan_to_num(fit["par"][:4])
    _, _, states, _ = pegelsresid_C(y[120:], PERIOD, fit["states"][-1], c[0], c[1], c[2], c[3] == "Y", *par, 3)
    assert model.level == pytest.approx(states[-1][0], rel=1e-12)


def test_arima_updates_equal_statsforecasts_forward_with_fixed_parameters() -> None:
    y = _series(90)
    model = fit_sf_autoarima(y[:60], PERIOD)
    fitted = AutoARIMA(season_length=PERIOD, **ARIMA_SEARCH).fit(y[:60])
    assert fitted.model_["arma"][4] == PERIOD  # a seasonal model: its Kalman state is the larger one
    np.testing.assert_allclose(model.forecast(5), fitted.predict(5)["mean"], rtol=1e-9)
    for value in y[60:]:
        model = model.update(float(value))
    np.testing.assert_allclose(model.forecast(5), fitted.forward(y, 5)["mean"], rtol=1e-9)


def test_mstl_forecasts_as_statsforecast_after_a_fit() -> None:
    y = _series(120)
    model = fit_sf_mstl(y, (PERIOD,))
    np.testing.assert_allclose(model.forecast(PERIOD + 3), MSTL(PERIOD).fit(y).predict(PERIOD + 3)["mean"], rtol=1e-9)


@pytest.mark.parametrize("name", SF_CANDIDATES)
def test_a_gap_advances_on_the_models_own_forecast(name: str) -> None:
    y = _series(96)
    settings = ForecastSettings(300.0, target_horizon=2, candidates=(name,), max_horizon_seconds=3600)
    forecaster = fit_forecaster(y, settings)
    assert forecaster.chosen == name
    after = forecaster.update(math.nan).update(float(y[-1]))
    assert np.isfinite(after.point(PERIOD)).all()


def _ar3(n: int, seed: int) -> np.ndarray:
    """``y(t) = 0.85 y(t-3) + e(t)``: a lag-3 autoregression that no Augur model has the structure for."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 1, n + 50)
    y = np.zeros(n + 50)
    for t in range(3, n + 50):
        y[t] = 0.85 * y[t - 3] + e[t]
    return 100 + y[50:]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_selection_picks_autoarima_where_it_is_clearly_better(seed: int) -> None:
    settings = ForecastSettings(300.0, target_horizon=2, max_horizon_seconds=3600, candidates=FORECASTERS["augur_sf"])
    forecaster = fit_forecaster(_ar3(700, seed), settings)
    scores = dict(forecaster.scores)
    assert forecaster.chosen == "sf_autoarima"
    assert scores["sf_autoarima"] < 0.8 * min(v for k, v in scores.items() if not k.startswith("sf_"))


@pytest.mark.parametrize("name", ["sf_autoets", "augur_sf"])
def test_the_refit_ceiling_uses_only_points_before_each_origin(name: str) -> None:
    y = _series(150)
    perturbed = y.copy()
    perturbed[120:] += 100.0
    origins = [100, 120, 140]
    first = refit_at_origins(name, y, 300.0, origins, horizon=2, history_points=200)
    second = refit_at_origins(name, perturbed, 300.0, origins, horizon=2, history_points=200)
    # The forecast of step 100 + 2 - 1 uses points up to 100 - 1 and 121's up to 119: both unaffected.
    assert first.point[101] == second.point[101]
    assert first.point[121] == second.point[121]
    assert first.point[141] != second.point[141]
    assert len(first.fit_seconds) == len(origins)


def test_backtest_cli_runs_a_statsforecast_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = _series(160).round(3)
    path = tmp_path / "trace.csv"
    path.write_text("timestamp,value\n" + "\n".join(f"{1_700_000_000 + 300 * i},{v}" for i, v in enumerate(values)))
    code = main(["backtest", str(path), "--capacity", "10", "--policies", "hpa,sf_autoets", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out["forecast"]) == {"sf_autoets"}
    assert math.isfinite(out["forecast"]["sf_autoets"]["rmae"])


def test_origins_are_spread_and_a_time_budget_keeps_a_spread_prefix() -> None:
    assert sample_origins(10, 100, 4) == [10, 40, 70, 100]
    assert spread_order(list(range(10))) == [0, 8, 4, 2, 6, 1, 3, 5, 7, 9]
    run = refit_at_origins("seasonal_naive", _series(150), 300.0, [100, 120, 140], horizon=1, max_seconds=0.0)
    assert run.origins == (100,)  # the first fit always runs; no new one starts after the budget
    assert np.isfinite(run.point).sum() == 1


@pytest.mark.parametrize("name", SF_CANDIDATES)
def test_a_statsforecast_forecaster_survives_a_json_round_trip(name: str) -> None:
    y = _series(130)
    settings = ForecastSettings(300.0, target_horizon=2, candidates=(name,), max_horizon_seconds=3600)
    forecaster = fit_forecaster(y[:120], settings)
    restored = forecaster_from_dict(json.loads(json.dumps(forecaster_to_dict(forecaster))))
    assert type(restored.model) is type(forecaster.model)
    for value in y[120:]:
        forecaster, restored = forecaster.update(float(value)), restored.update(float(value))
    np.testing.assert_array_equal(restored.point(PERIOD), forecaster.point(PERIOD))
