"""Online (conformal) calibration of the near horizons, on small series computed by hand."""

from __future__ import annotations

import json
import math

import numpy as np

from augur.forecast.forecaster import ForecastSettings, fit_forecaster, refit_forecaster
from augur.forecast.online import OnlineCalibration, OnlineSettings, start_online
from augur.forecast.persist import forecaster_from_dict, forecaster_to_dict
from augur.sim.policies import WalkSettings, run_forecast_policy
from augur.sim.progress import Progress
from augur.sim.protocol import backtest_setup, policy_spec
from tests.unit.forecast.series import seasonal


def _start(settings: OnlineSettings, path: list[float], history: list[float]) -> OnlineCalibration:
    online = start_online(settings, len(path), np.asarray(history, dtype=np.float64), np.asarray(path))
    assert online is not None
    return online


def test_errors_score_the_forecast_made_h_steps_before_and_nothing_later() -> None:
    # Raw errors (no normalization), two horizons. History ends at 10; the model said 10, 10 for the
    # next two steps. Then 12 arrives and the model says 12, 12; then 11.
    settings = OnlineSettings(window=4, min_samples=1, scale_alpha=0.0, min_horizons=1)
    online = _start(settings, [10.0, 10.0], [9.0, 10.0])
    online = online.observe(12.0, np.array([12.0, 12.0]))
    # Horizon 1: 12 - 10 (the path made before 12 was seen); horizon 2 has no origin two steps back yet.
    assert online.counts == (1, 0)
    assert online.errors[0, 0] == 2.0
    online = online.observe(11.0, np.array([11.0, 11.0]))
    # Horizon 1: 11 - 12 (made after 12, before 11); horizon 2: 11 - 10 (the first path, second step).
    assert online.counts == (2, 1)
    assert online.errors[0, :2].tolist() == [2.0, -1.0]
    assert online.errors[1, 0] == 1.0
    offsets, ready = online.grid(np.array([1.0, 2.0, 3.0]), (0.0, 1.0))
    assert ready.tolist() == [True, True, False], "horizon 3 is beyond the online horizons"
    assert offsets[0].tolist() == [-1.0, 2.0] and offsets[1].tolist() == [1.0, 1.0]


def test_a_gap_scores_nothing_but_the_path_advances() -> None:
    settings = OnlineSettings(window=4, min_samples=1, scale_alpha=0.0, min_horizons=1)
    online = _start(settings, [10.0], [10.0])
    online = online.observe(math.nan, np.array([10.0]))
    assert online.counts == (0,) and online.origins == 2
    online = online.observe(13.0, np.array([13.0]))
    assert online.counts == (1,) and online.errors[0, 0] == 3.0


def test_normalized_errors_follow_the_local_scale() -> None:
    # Scale: mean absolute increment of the history (|2-0|, |0-2| -> 2), then EWMA with alpha 0.5.
    settings = OnlineSettings(window=8, min_samples=1, scale_alpha=0.5, min_horizons=1)
    online = _start(settings, [0.0], [0.0, 2.0, 0.0])
    assert online.scale == 2.0
    online = online.observe(4.0, np.array([4.0]))
    # Error 4 - 0 in units of the scale at the origin (2): 2.0; new scale 0.5 * 2 + 0.5 * |4 - 0| = 3.
    assert online.errors[0, 0] == 2.0 and online.scale == 3.0
    offsets, ready = online.grid(np.array([1.0]), (0.5,))
    assert ready.tolist() == [True] and offsets[0, 0] == 6.0, "quantile 2.0 times the current scale 3"


def test_the_ring_keeps_the_last_window_errors() -> None:
    settings = OnlineSettings(window=3, min_samples=1, scale_alpha=0.0, min_horizons=1)
    online = _start(settings, [0.0], [0.0])
    for value in (1.0, 2.0, 3.0, 4.0):
        online = online.observe(value, np.array([0.0]))
    assert online.counts == (4,)
    assert sorted(online.errors[0].tolist()) == [2.0, 3.0, 4.0], "the oldest error (1) left the window"


def _series(n: int) -> np.ndarray:
    return seasonal(n, 96, seed=1)


def test_forecaster_uses_online_quantiles_once_enough_errors_and_round_trips() -> None:
    y = _series(1200)
    settings = ForecastSettings(
        900.0, target_horizon=2, online=OnlineSettings(window=50, min_samples=20, min_horizons=1)
    )
    f = fit_forecaster(y[:800], settings)
    assert f.online is not None and f.online.horizons == 2
    for v in y[800:830]:
        f = f.update(float(v))
    assert f.online is not None and f.online.counts == (30, 29)
    offsets, ready = f.online.grid(np.array([1.0, 2.0]), (0.1, 0.9))
    q = f.forecast((1, 2), (0.1, 0.9))
    assert ready.all()
    assert np.allclose(q.values, q.mean[:, None] + offsets)
    assert not np.allclose(offsets, f.calibration.grid(np.array([1.0, 2.0]), (0.1, 0.9)))
    # A refit keeps the errors of the forecasts that were used.
    g = refit_forecaster(f, y[:830])
    assert g.online is not None and g.online.counts == f.online.counts
    restored = forecaster_from_dict(json.loads(json.dumps(forecaster_to_dict(g))))
    assert np.array_equal(restored.forecast((1, 2)).values, g.forecast((1, 2)).values)
    assert np.array_equal(restored.update(51.0).forecast((1, 2)).values, g.update(51.0).forecast((1, 2)).values)


def test_off_keeps_the_static_calibration() -> None:
    y = _series(900)
    f = fit_forecaster(y[:800], ForecastSettings(900.0, target_horizon=2, online=OnlineSettings(window=0)))
    assert f.online is None
    assert f.update(50.0).online is None
    # By default only the short-horizon regime (a lead of two steps or more) is calibrated online.
    assert fit_forecaster(y[:800], ForecastSettings(900.0, target_horizon=2)).online is None
    short = fit_forecaster(y[:800], ForecastSettings(900.0, target_horizon=3))
    assert short.online is not None and short.online.horizons == 3


def test_no_forecast_sees_a_point_after_its_origin() -> None:
    # The backtest walk twice, the second time with the demand from step k on changed: every forecast,
    # interval and decision made before step k is identical (online errors included).
    demand = _series(700) * 3
    changed = demand.copy()
    k = 520
    changed[k:] += 200.0
    # one-minute steps, two-minute lead: online calibration on; refits every 100 steps
    setup = backtest_setup(60.0, capacity=10.0, spec=policy_spec(refit_interval="100m"))
    walk = WalkSettings()
    a = run_forecast_policy("augur", demand, setup, walk, 300, Progress("t", demand.size, None), 0)
    b = run_forecast_policy("augur", changed, setup, walk, 300, Progress("t", changed.size, None), 0)
    # desired[t] is decided at the start of step t from demand up to t - 1; point[s] was made at s - h.
    assert a.desired[: k + 1] == b.desired[: k + 1]
    h = a.horizon
    same = slice(0, k + h)
    assert np.array_equal(a.point[same], b.point[same], equal_nan=True)
    assert np.array_equal(a.upper[same], b.upper[same], equal_nan=True)
    assert not np.array_equal(a.point[k + h + 1 :], b.point[k + h + 1 :], equal_nan=True)
