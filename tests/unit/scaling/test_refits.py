"""The refit schedule the operator's loop and the backtester's walk share (:mod:`augur.scaling.refits`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from augur.forecast.demand import DemandWindow, Dropped
from augur.forecast.forecaster import ForecastSettings
from augur.scaling.loop import DemandLoop, LoopConfig
from augur.scaling.refits import refit_due
from augur.sim import policies
from augur.sim.policies import WalkSettings, run_forecast_policy
from augur.sim.progress import Progress
from augur.sim.protocol import backtest_setup, policy_spec

HOUR = 3600.0


@pytest.mark.parametrize(
    ("points", "fit_points", "since", "due"),
    [
        (399, 200, 0.0, False),  # growing, not doubled yet
        (400, 200, 0.0, True),  # doubled
        (4032, 4032, 6 * HOUR - 1, False),  # full history, interval not over
        (4032, 4032, 6 * HOUR, True),  # interval over
        (240, 240, HOUR, False),  # the policy's history holds 240 points: it cannot double any more
    ],
)
def test_refit_due_by_hand(points: int, fit_points: int, since: float, due: bool) -> None:
    assert refit_due(points, fit_points, 4032, since, 6 * HOUR) is due


def test_the_walk_refits_when_the_operators_loop_would() -> None:
    """Same policy, same series: the backtest walk fits at the steps where the live loop's
    ``refit_due`` says a fit is due (after a first fit at the same step)."""
    step, first, n = 1800.0, 200, 900
    spec = policy_spec(refit_interval="1d", history="5d")  # 48 steps; 240 points held
    demand = 100.0 + np.arange(n, dtype=np.float64)  # demand[i] = 100 + i tells which step a window ends at

    walked: list[int] = []

    def recording(fit: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            window = next(a for a in args if isinstance(a, np.ndarray))
            walked.append(int(window[-1] - 100) + 1)
            return fit(*args, **kwargs)

        return wrapped

    setup = backtest_setup(step, capacity=10.0, spec=spec)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(policies, "fit_forecaster", recording(policies.fit_forecaster))
        mp.setattr(policies, "refit_forecaster", recording(policies.refit_forecaster))
        run_forecast_policy("seasonal_naive", demand, setup, WalkSettings(), first, Progress("t", n, None), 0)

    loop = DemandLoop(LoopConfig.from_policy(spec, capacity=10.0, step_seconds=step))
    loop.forecaster = SimpleNamespace(settings=ForecastSettings(step))  # type: ignore[assignment]
    due: list[int] = []
    for t in range(1, n):  # at step t the loop holds the points before t, as the walk does
        loop.ingest(DemandWindow(t * step, step, demand[t - 1 : t], Dropped()))
        now = t * step
        if t == first or (t > first and loop.refit_due(now)):
            due.append(t)
            loop.fit_points, loop.last_fit_at = loop.history.size, now
    assert walked == due
    assert walked[:3] == [200, 248, 296]  # the history cannot double (240 points held): every day
