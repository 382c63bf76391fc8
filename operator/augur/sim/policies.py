"""Walk-forward forecasting policies: ``augur``, ``seasonal_naive``, ``holt_winters``, the statsforecast
models ``sf_autoets``, ``sf_autoarima``, ``sf_mstl`` (one model each, same walk and decision) and
``augur_sf`` (Augur's selection with ``sf_autoets`` and ``sf_autoarima`` as extra candidates).

At the start of step ``t`` the policy has seen demand up to ``t - 1``; it updates its forecaster
incrementally, refits on schedule, and asks :func:`augur.scaling.decision.decide` (the operator's own
decision) for the replicas. Before the first fit it follows :func:`~augur.scaling.decision.decide_reactive`
(the HPA rule with the same stabilization and step limits). Variants (other policy parameters, as in a
budget sweep) ride along on the same walk: forecasts do not depend on decisions, so only the decisions
are made again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from augur.constants import FloatArray
from augur.forecast.forecaster import Forecaster, fit_forecaster, refit_forecaster
from augur.forecast.quantiles import QuantileForecast
from augur.forecast.selection import CANDIDATES
from augur.forecast.sf_models import SF_CANDIDATES, SF_SELECTABLE
from augur.scaling.decision import Observed, ScalingParams, decide, decide_reactive, stabilization_steps
from augur.scaling.learner import HALF_LIFE_SECONDS, LearnerState, decay_for, initial_state, observe
from augur.scaling.ledger import Ledger
from augur.scaling.loop import MIN_FIT_POINTS, LoopConfig
from augur.scaling.refits import refit_due
from augur.sim.progress import Progress
from augur.sim.protocol import RecentRecommendations, Setup, initial_desired, ready_at

FORECASTERS: dict[str, tuple[str, ...]] = {
    "augur": CANDIDATES,
    "augur_sf": (*CANDIDATES, *SF_SELECTABLE),
    "seasonal_naive": ("seasonal_naive",),
    "holt_winters": ("holt_winters",),
    **{name: (name,) for name in SF_CANDIDATES},
}
SF_POLICIES = (*SF_CANDIDATES, "augur_sf")
"""Policies that need statsforecast (``augur[statsforecast]``)."""
LEARNING = {"augur", "augur_sf"}


@dataclass(frozen=True)
class WalkSettings:
    """How the backtester walks a forecaster, beyond what the ``ScalingPolicy`` says. The refit schedule and
    the history a fit sees are the policy's (``refitInterval``, ``history``), applied as the operator applies
    them (:class:`~augur.scaling.loop.LoopConfig`, :func:`~augur.scaling.refits.refit_due`)."""

    half_life_seconds: float | None = HALF_LIFE_SECONDS
    """Learner memory in time (``None``: the fixed per-step discount of :func:`initial_state`)."""
    interval_levels: tuple[float, float] = (0.1, 0.9)


@dataclass(frozen=True)
class ForecastRun:
    """One forecasting policy's decisions and its forecasts at the lead-time horizon."""

    name: str
    desired: list[int]
    horizon: int
    point: FloatArray
    """``point[s]``: forecast of step ``s`` made ``horizon`` steps earlier (``NaN`` where none)."""
    lower: FloatArray
    upper: FloatArray
    quantiles: FloatArray
    """Safety quantile used at each step."""
    models: tuple[str, ...]
    learner_levels: tuple[float, ...] = ()
    level_forecasts: FloatArray | None = None
    """``level_forecasts[s, i]``: forecast of step ``s`` at ``learner_levels[i]`` (made ``L + 1`` steps earlier)."""
    level_floors: FloatArray | None = None
    """``level_floors[s]``: the guard floor (replicas) of the decision that made ``level_forecasts[s]``."""
    level_reactive: FloatArray | None = None
    """``level_reactive[s]``: what the reactive formula asked at that decision (``NaN`` where none)."""
    params: ScalingParams | None = None
    """The decision parameters of this run (a variant's differ from the backtest's)."""


class _Track:
    """One decision rule fed by the walk's forecasts: its parameters, learner, decisions and bookkeeping."""

    def __init__(self, walker: _Walker, params: ScalingParams, learn: bool) -> None:
        self.walker, self.params = walker, params
        n, lead, interval = walker.demand.size, walker.lead, walker.setup.interval_seconds
        self.learner: LearnerState | None = None
        if learn and params.learn_headroom:
            half_life = walker.walk.half_life_seconds
            decay = 0.995 if half_life is None else decay_for(interval, half_life)
            self.learner = initial_state(params.safety_quantile, decay=decay, budget=params.headroom_budget)
        self.levels = tuple(self.learner.quantiles) if self.learner else (params.safety_quantile,)
        self.desired = [initial_desired(walker.demand, walker.setup)]
        self.recs = RecentRecommendations(stabilization_steps(params, interval))
        self.quantiles = np.full(n, np.nan)
        """Safety quantile used at each step."""
        self.ledger = Ledger(1.0, lead)
        """The learner's pending forecasts and recent reactive asks, by step (as the operator's loop keeps them)."""
        self.level_forecasts = np.full((n, len(self.learner.quantiles) if self.learner else 0), np.nan)
        self.level_floors, self.level_reactive = np.zeros(n), np.full(n, np.nan)
        self.lead = lead

    def learn(self, step: int, value: float) -> None:
        settled = self.ledger.settle(step, value)
        if self.learner is None or settled is None:
            return
        forecasts, floor, reactive = settled
        if reactive is not None:
            self.level_reactive[step] = reactive
        p = self.params
        self.learner = observe(
            self.learner,
            forecasts,
            value,
            p.capacity,
            p.target_utilization,
            self.walker.setup.interval_seconds,
            p.cost_weights,
            floor,
            reactive,
        )

    def step(self, t: int, value: float, forecast: QuantileForecast | None) -> None:
        self.desired.append(self._decide(t, value, forecast))

    def _decide(self, t: int, value: float, forecast: QuantileForecast | None) -> int:
        previous = self.desired[-1]
        ready = ready_at(self.desired, t - 1, self.lead)
        p, interval = self.params, self.walker.setup.interval_seconds
        if forecast is None:
            if math.isnan(value):
                return previous
            reactive = decide_reactive(Observed(previous, ready, value, interval, self.recs.at(t)), p)
            self.recs.add(t, reactive.recommendation)
            return reactive.replicas
        quantile = self.learner.chosen if self.learner else p.safety_quantile
        self._record(t, forecast, quantile)
        if math.isnan(value):
            return previous
        decision = decide(forecast, Observed(previous, ready, value, interval, self.recs.at(t)), p, quantile)
        self.recs.add(t, decision.recommendation)
        target = t + self.lead
        self.ledger.decided(t, target, decision.guard_replicas, decision.reactive_replicas)
        if target in self.ledger.pending:
            self.level_floors[target] = decision.guard_replicas
            if decision.reactive_replicas is not None:
                self.level_reactive[target] = decision.reactive_replicas
        return decision.replicas

    def _record(self, t: int, forecast: QuantileForecast, quantile: float) -> None:
        self.quantiles[t] = quantile
        if self.learner is not None and t + self.lead < self.walker.demand.size:
            last, levels = forecast.values[-1], forecast.levels
            forecasts = tuple(float(last[levels.index(q)]) for q in self.learner.quantiles)
            self.ledger.expect(t + self.lead, forecasts)
            self.level_forecasts[t + self.lead] = forecasts

    def result(self, walker: _Walker) -> ForecastRun:
        return ForecastRun(
            walker.name,
            self.desired,
            walker.horizon,
            walker.point,
            walker.lower,
            walker.upper,
            self.quantiles,
            tuple(walker.models),
            self.learner.quantiles if self.learner else (),
            self.level_forecasts,
            self.level_floors,
            self.level_reactive,
            self.params,
        )


class _Walker:
    def __init__(
        self,
        name: str,
        demand: FloatArray,
        setup: Setup,
        walk: WalkSettings,
        first_fit: int,
        variants: tuple[ScalingParams, ...] = (),
    ) -> None:
        self.name, self.demand, self.setup, self.walk = name, demand, setup, walk
        self.lead = setup.lead_steps
        self.horizons = tuple(range(1, self.lead + 2))
        self.horizon = max(1, self.lead)
        loop = LoopConfig.from_policy(setup.spec, setup.capacity, setup.interval_seconds)
        self.settings = replace(loop.forecast_settings(), candidates=FORECASTERS[name])
        self.history_points, self.refit_seconds = loop.history_points, loop.refit_seconds
        """Points held (and fitted on) and the refit interval: the operator's, from the policy."""
        self.first_fit = max(MIN_FIT_POINTS, first_fit)
        learn = name in LEARNING
        self.tracks = [_Track(self, params, learn) for params in (setup.params, *variants)]
        main = self.tracks[0]
        wanted = {*walk.interval_levels, 0.5, *(main.learner.quantiles if main.learner else ())}
        for track in self.tracks[1:]:
            wanted.update(track.levels)
        self.levels = tuple(sorted(wanted))
        n = demand.size
        self.point, self.lower, self.upper = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        self.models: list[str] = []

    def run(self, progress: Progress, offset: int) -> list[ForecastRun]:
        forecaster: Forecaster | None = None
        last_fit = fit_points = 0
        for t in range(1, self.demand.size):
            value = float(self.demand[t - 1])
            if forecaster is not None:
                forecaster = forecaster.update(value)
            if t >= self.first_fit and (forecaster is None or self._refit_due(t, last_fit, fit_points)):
                window = self.demand[max(0, t - self.history_points) : t]
                if forecaster is None:
                    forecaster = fit_forecaster(window, self.settings)
                else:
                    forecaster = refit_forecaster(forecaster, window)
                last_fit, fit_points = t, window.size
                self.models.append(forecaster.model_name)
            forecast = None
            if forecaster is not None:
                forecast = forecaster.forecast(self.horizons, self.levels)
                self._record(t, forecast)
            for track in self.tracks:
                track.learn(t - 1, value)
                track.step(t, value, forecast)
            progress.update(offset + t)
        return [track.result(self) for track in self.tracks]

    def _refit_due(self, t: int, last_fit: int, fit_points: int) -> bool:
        """The operator's schedule, :func:`~augur.scaling.refits.refit_due`, with ``t`` steps seen."""
        return refit_due(
            points=min(t, self.history_points),
            fit_points=fit_points,
            history_points=self.settings.history_points,
            seconds_since_fit=(t - last_fit) * self.setup.interval_seconds,
            refit_seconds=self.refit_seconds,
        )

    def _record(self, t: int, forecast: QuantileForecast) -> None:
        target = t - 1 + self.horizon
        if target < self.demand.size:
            row, levels = forecast.values[self.horizon - 1], forecast.levels
            self.point[target] = row[levels.index(0.5)]
            self.lower[target] = row[levels.index(self.walk.interval_levels[0])]
            self.upper[target] = row[levels.index(self.walk.interval_levels[1])]


def run_forecast_policy(
    name: str, demand: FloatArray, setup: Setup, walk: WalkSettings, first_fit: int, progress: Progress, offset: int
) -> ForecastRun:
    """Run the named forecasting policy over the whole trace under ``setup.params``."""
    return _Walker(name, demand, setup, walk, first_fit).run(progress, offset)[0]


def run_forecast_variants(
    name: str,
    demand: FloatArray,
    setup: Setup,
    walk: WalkSettings,
    first_fit: int,
    progress: Progress,
    offset: int,
    variants: tuple[ScalingParams, ...],
) -> list[ForecastRun]:
    """:func:`run_forecast_policy`'s run first, then one per variant (same forecasts, decisions made
    again with those parameters)."""
    return _Walker(name, demand, setup, walk, first_fit, variants).run(progress, offset)
