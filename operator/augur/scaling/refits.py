"""When a workload's forecaster is refitted: the one schedule that the operator's loop
(:meth:`augur.scaling.loop.DemandLoop.refit_due`) and the backtester's walk (:mod:`augur.sim.policies`) share.

A refit is due every ``refitInterval`` of the ``ScalingPolicy`` (6 h by default), and earlier while the
history is still growing: as soon as the points held have doubled since the last fit, until the fit
holds the forecaster's ``history_points``. The points held are at most the policy's ``history`` in steps
(:attr:`augur.scaling.loop.LoopConfig.history_points`), which is also the window every fit sees.
"""

from __future__ import annotations


def refit_due(
    points: int,
    fit_points: int,
    history_points: int,
    seconds_since_fit: float,
    refit_seconds: float,
) -> bool:
    """Whether the forecaster fitted on ``fit_points`` points is refitted now that ``points`` are held,
    ``seconds_since_fit`` after that fit; ``history_points`` is the most a fit uses
    (:attr:`augur.forecast.forecaster.ForecastSettings.history_points`)."""
    growing = fit_points < history_points and points >= 2 * fit_points
    return growing or seconds_since_fit >= refit_seconds
