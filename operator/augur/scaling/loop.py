"""One workload's live predictive-scaling loop, without I/O (the operator drives it; tests drive it with
fakes).

Per cadence the operator hands over the new demand (:meth:`DemandLoop.ingest`, a checked
:class:`~augur.forecast.demand.DemandWindow`), asks for a decision (:meth:`DemandLoop.decide`) or, when
demand cannot be read, for the fallback (:meth:`DemandLoop.fallback`). Refits run elsewhere (a worker
pool): :meth:`DemandLoop.fit_job` gives the input, :func:`~augur.scaling.fitjob.run_fit` is the work,
:meth:`DemandLoop.install` swaps the result in and catches it up with the points that arrived meanwhile.

It calls exactly what the backtester's walk calls: ``Forecaster.update``, ``fit_forecaster`` /
``refit_forecaster``, the learner's ``observe`` and :func:`~augur.scaling.decision.decide` with
:meth:`ScalingParams.from_policy`; ``predictive: false`` uses :func:`~augur.scaling.decision.decide_reactive`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from augur.api.durations import parse_duration
from augur.api.v1alpha1.scalingpolicy import ScalingPolicySpec
from augur.constants import FloatArray
from augur.forecast.anomaly import AnomalyDetector
from augur.forecast.demand import DemandWindow, stale_after_seconds
from augur.forecast.forecaster import Forecaster, ForecastSettings
from augur.scaling.decision import Decision, Observed, ScalingParams, decide, decide_reactive, stabilization_steps
from augur.scaling.fitjob import FitJob
from augur.scaling.learner import LearnerState, decay_for, initial_state, observe
from augur.scaling.ledger import Ledger
from augur.scaling.outlook import Outlook, outlook
from augur.scaling.refits import refit_due

MIN_FIT_POINTS = 24
"""Points needed before the first fit (the backtester's walk uses the same); until then: reactive."""
MAX_HISTORY_POINTS = 4 * 4032
"""Most points kept per workload (what the fingerprint looks at); older ones are dropped."""
CONTEXT_POINTS = 64
"""Points of history passed as context to the next window's check (:meth:`DemandLoop.context`)."""
ERROR_POINTS = 60
"""Rolling forecast error: exponential average over about this many points."""
LEVELS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class LoopConfig:
    """Everything the loop needs from the profile and its policy, in plain numbers."""

    step_seconds: float
    interval_seconds: float
    params: ScalingParams
    predictive: bool = True
    fallback: str = "Hold"
    history_seconds: float = 14 * 86400.0
    refit_seconds: float = 6 * 3600.0
    feeds: tuple[str, ...] = ()
    """Names of the external feeds (exogenous regressors), in column order."""
    source: str = ""
    """Identifies where the data comes from (a digest of the queries); learned state of another
    source is never mixed in."""

    @classmethod
    def from_policy(
        cls,
        policy: ScalingPolicySpec,
        capacity: float,
        step_seconds: float,
        learned_lead_seconds: float | None = None,
        feeds: tuple[str, ...] = (),
        source: str = "",
    ) -> LoopConfig:
        return cls(
            step_seconds=step_seconds,
            interval_seconds=parse_duration(policy.decision_interval),
            params=ScalingParams.from_policy(policy, capacity, learned_lead_seconds),
            predictive=policy.predictive,
            fallback=policy.metrics_outage_fallback,
            history_seconds=parse_duration(policy.history),
            refit_seconds=parse_duration(policy.refit_interval),
            feeds=feeds,
            source=source,
        )

    @property
    def lead_steps(self) -> int:
        return math.ceil(self.params.lead_time_seconds / self.step_seconds)

    @property
    def history_points(self) -> int:
        return max(MIN_FIT_POINTS, min(MAX_HISTORY_POINTS, math.ceil(self.history_seconds / self.step_seconds)))

    @property
    def stale_after(self) -> float:
        return stale_after_seconds(self.step_seconds)

    def forecast_settings(self) -> ForecastSettings:
        return ForecastSettings(self.step_seconds, target_horizon=self.lead_steps + 1)


@dataclass(frozen=True)
class LoopDecision:
    """Replicas to ask for now and everything that explains them."""

    replicas: int
    kind: str
    """``Predictive``, ``Reactive`` (policy or warming up) or ``Fallback``."""
    reason: str
    decision: Decision | None = None
    demand: float | None = None
    decision_peak_at: float | None = None
    """When the demand the decision provisions for is expected (``Predictive`` only)."""
    outlook: Outlook | None = None


class DemandLoop:
    """The learning state of one workload; not thread-safe (the operator holds a lock per profile)."""

    def __init__(self, config: LoopConfig) -> None:
        self.config = config
        self.history: FloatArray = np.zeros(0)
        self.feeds: FloatArray = np.zeros((0, len(config.feeds)))
        """Feed values aligned with ``history`` (gaps carried forward; 0 before the first value)."""
        self.history_start: float | None = None
        self.forecaster: Forecaster | None = None
        self.model_end: float | None = None
        """Timestamp of the last value the forecaster consumed."""
        self.fit_points = 0
        self.last_fit_at: float | None = None
        self.anomaly = AnomalyDetector()
        self.anomaly_score: float | None = None
        self.learner: LearnerState | None = None
        self.ledger = Ledger(config.step_seconds, config.lead_steps)
        """The learner's pending forecasts and recent reactive asks, by timestamp (as the backtester keeps them)."""
        self.predictions: dict[float, float] = {}
        self.error_sum = 0.0
        self.level_sum = 0.0
        self.error_points = 0
        self.recommendations: list[int] = []
        self.newest_good: float | None = None
        self.seen_until: float | None = None
        """Points up to here were learned before a restart: re-read history only catches the model up."""
        self.jitter = 0.0
        self.reconfigure(config)

    def reconfigure(self, config: LoopConfig) -> None:
        """Apply a changed policy; a changed step or lead time means the model must be refitted."""
        old = self.config
        self.config = config
        if config.forecast_settings() != old.forecast_settings() or config.feeds != old.feeds:
            self.last_fit_at = None
        # entries already made keep their targets; only the window of reactive asks follows the new lead
        self.ledger.step, self.ledger.lead = config.step_seconds, config.lead_steps
        if config.params.learn_headroom and self.learner is None:
            decay = decay_for(config.step_seconds)
            budget = config.params.headroom_budget
            self.learner = initial_state(config.params.safety_quantile, decay=decay, budget=budget)
        elif not config.params.learn_headroom:
            self.learner = None
        elif self.learner is not None and self.learner.budget != config.params.headroom_budget:
            self.learner = replace(self.learner, budget=config.params.headroom_budget)

    # -- demand in ---------------------------------------------------------------------------------------------
    @property
    def last_ts(self) -> float | None:
        """Timestamp of the newest grid point held (good or a gap)."""
        if self.history_start is None or not self.history.size:
            return None
        return self.history_start + (self.history.size - 1) * self.config.step_seconds

    def context(self) -> FloatArray | None:
        """The last points held, as ``validate_range``'s context for the next window (it judges jumps
        against the last ``JUMP_CONTEXT`` finite ones); None before the first read."""
        return self.history[-CONTEXT_POINTS:] if self.history.size else None

    def next_read(self, now: float) -> float:
        """Start of the next range read: after the last point held, or ``history`` ago on first sight."""
        step = self.config.step_seconds
        last = self.last_ts
        if last is None:
            return math.floor(now / step) * step - (self.config.history_points - 1) * step
        return last + step

    def ingest(self, window: DemandWindow, feeds: FloatArray | None = None) -> int:
        """Append ``window`` (which must start right after :attr:`last_ts`) and the feed values read for
        the same steps (rows beyond the window, e.g. of a held point, are ignored); returns points added."""
        step = self.config.step_seconds
        if not window.values.size:
            return 0
        rows = self._feed_rows(window.values.size, feeds)
        last = self.last_ts
        if last is not None and not math.isclose(window.start, last + step):
            raise ValueError(f"window starts at {window.start}, expected {last + step}")
        if self.history_start is None:
            self.history_start = window.start
        self.history = np.concatenate([self.history, window.values])
        self.feeds = np.vstack([self.feeds, rows])
        excess = self.history.size - self.config.history_points
        if excess > 0:
            self.history, self.feeds = self.history[excess:], self.feeds[excess:]
            self.history_start += excess * step
        # A long window (the first read) is learned by the anomaly detector without scoring its older
        # points: only the latest score is kept, and the detector ends in the same state.
        finite_after = np.cumsum(np.isfinite(window.values[::-1]))[::-1]
        skim = int(np.count_nonzero(finite_after > self.anomaly.settle_points))
        for i, value in enumerate(window.values.tolist()):
            self._observe_point(window.start + i * step, value, rows[i] if rows.shape[1] else None, i >= skim)
        if window.newest is not None:
            self.newest_good = window.newest
        return int(window.values.size)

    def _feed_rows(self, n: int, feeds: FloatArray | None) -> FloatArray:
        k = len(self.config.feeds)
        rows = np.full((n, k), np.nan) if feeds is None or not k else np.asarray(feeds, dtype=np.float64)[:n].copy()
        if rows.shape != (n, k):
            raise ValueError(f"feed rows have shape {rows.shape}, expected {(n, k)}")
        last = self.feeds[-1] if self.feeds.shape[0] else np.zeros(k)
        for i in range(n):  # a missing feed value repeats the last one (models cannot take gaps in regressors)
            rows[i] = np.where(np.isfinite(rows[i]), rows[i], last)
            last = rows[i]
        return rows

    def _observe_point(self, ts: float, value: float, row: FloatArray | None = None, scored: bool = True) -> None:
        if self.forecaster is not None and self.model_end is not None and ts > self.model_end:
            self.forecaster = self.forecaster.update(value, row)
            self.model_end = ts
        if self.seen_until is not None and ts <= self.seen_until:
            return
        if math.isnan(value):
            self.ledger.settle(ts, value)
            self.predictions.pop(ts, None)
            return
        if scored:
            self.anomaly_score = self.anomaly.update(value, ts)
        else:
            self.anomaly.learn(value)
        predicted = self.predictions.pop(ts, None)
        if predicted is not None:
            self._track_error(abs(value - predicted), value)
        settled = self.ledger.settle(ts, value)
        if settled is not None and self.learner is not None:
            forecasts, floor, reactive = settled
            p = self.config.params
            self.learner = observe(
                self.learner, forecasts, value, p.capacity, p.target_utilization, self.config.step_seconds,
                p.cost_weights, floor, reactive,
            )  # fmt: skip

    def _track_error(self, error: float, value: float) -> None:
        keep = 1.0 - 2.0 / (ERROR_POINTS + 1)
        self.error_sum = keep * self.error_sum + error
        self.level_sum = keep * self.level_sum + abs(value)
        self.error_points += 1

    @property
    def rolling_error(self) -> float | None:
        """Relative MAE of the lead-time point forecast over about the last :data:`ERROR_POINTS` points."""
        if self.error_points < 5 or self.level_sum <= 0:
            return None
        return self.error_sum / self.level_sum

    # -- fitting -----------------------------------------------------------------------------------------------
    def refit_due(self, now: float) -> bool:
        """First fit once enough points exist; then :func:`~augur.scaling.refits.refit_due` with
        ``refitInterval`` plus this profile's jitter."""
        finite = int(np.count_nonzero(np.isfinite(self.history)))
        if finite < MIN_FIT_POINTS:
            return False
        if self.forecaster is None or self.last_fit_at is None:
            return True
        return refit_due(
            points=self.history.size,
            fit_points=self.fit_points,
            history_points=self.forecaster.settings.history_points,
            seconds_since_fit=now - self.last_fit_at,
            refit_seconds=self.config.refit_seconds + self.jitter,
        )

    def fit_job(self) -> FitJob:
        end = self.last_ts
        assert end is not None
        exog = self.feeds.copy() if self.config.feeds else None
        return FitJob(self.history.copy(), self.config.forecast_settings(), self.forecaster, end, exog)

    def install(self, forecaster: Forecaster, job: FitJob, now: float) -> None:
        """Use a finished fit: catch it up with the points that arrived after ``job.end``."""
        self.forecaster, self.model_end = forecaster, job.end
        self.fit_points, self.last_fit_at = int(job.values.size), now
        last = self.last_ts
        if last is None or self.history_start is None:
            return
        step = self.config.step_seconds
        first = round((job.end - self.history_start) / step) + 1
        for i in range(max(0, first), self.history.size):
            row = self.feeds[i] if self.config.feeds else None
            self.forecaster = self.forecaster.update(float(self.history[i]), row)
        self.model_end = last

    # -- decisions ---------------------------------------------------------------------------------------------
    def observed(self, now: float, current: int, ready: int) -> Observed:
        demand = None
        last = self.last_ts
        if last is not None and self.newest_good == last and now - last <= self.config.stale_after:
            demand = float(self.history[-1])
        window = stabilization_steps(self.config.params, self.config.interval_seconds)
        recent = tuple(self.recommendations[-window:]) if window else ()
        return Observed(current, ready, demand, self.config.interval_seconds, recent)

    def _remember(self, recommendation: int) -> None:
        self.recommendations.append(recommendation)
        del self.recommendations[:-64]

    def decide(self, now: float, current: int, ready: int) -> LoopDecision:
        """The decision with the current model (reactive while none is fitted yet or by policy)."""
        observed = self.observed(now, current, ready)
        if observed.demand is None and (not self.config.predictive or self.forecaster is None):
            held = self.config.params.clamp(current)
            return LoopDecision(held, "Reactive", f"no demand for the latest step; holding {held}")
        if not self.config.predictive or self.forecaster is None:
            decision = decide_reactive(observed, self.config.params)
            self._remember(decision.recommendation)
            why = "predictive: false" if not self.config.predictive else "no model fitted yet (warming up)"
            outlook = self._outlook(decision.replicas) if self.forecaster is not None else None
            return LoopDecision(
                decision.replicas, "Reactive", f"{why}; {decision.reason}", decision, observed.demand, None, outlook
            )
        params, horizons, levels, quantile = self._decision_inputs(now)
        forecast = self.forecaster.forecast(horizons, levels)
        decision = decide(forecast, observed, params, quantile)
        self._remember(decision.recommendation)
        last = self.last_ts
        assert last is not None
        step = self.config.step_seconds
        upper = forecast.at(quantile)
        peak_index = int(np.flatnonzero(np.isclose(upper, decision.peak_demand))[:1].sum())
        peak_at = last + forecast.horizons[peak_index] * step
        target = last + horizons[-1] * step
        self.predictions[target] = float(forecast.at(0.5)[-1])
        if self.learner is not None:
            row = forecast.values[-1]
            learner_values = tuple(float(row[levels.index(q)]) for q in self.learner.quantiles)
            self.ledger.expect(target, learner_values)
            self.ledger.decided(last + step, target, decision.guard_replicas, decision.reactive_replicas)
        self._trim(last)
        return LoopDecision(
            decision.replicas, "Predictive", decision.reason, decision, observed.demand, peak_at,
            self._outlook(decision.replicas, quantile),
        )  # fmt: skip

    def _decision_inputs(self, now: float) -> tuple[ScalingParams, tuple[int, ...], tuple[float, ...], float]:
        """Lead time counted from the newest point held (data lags ``now`` by up to a step or more)."""
        last = self.last_ts
        assert last is not None
        lag = max(0.0, now - last - self.config.step_seconds)
        params = replace(self.config.params, lead_time_seconds=self.config.params.lead_time_seconds + lag)
        lead = math.ceil(params.lead_time_seconds / self.config.step_seconds)
        quantile = self.learner.chosen if self.learner is not None else params.safety_quantile
        extra = self.learner.quantiles if self.learner is not None else ()
        levels = tuple(sorted({*LEVELS, quantile, params.safety_quantile, *extra}))
        return params, tuple(range(1, lead + 2)), levels, quantile

    def _trim(self, last: float) -> None:
        horizon = (self.config.lead_steps + 64) * self.config.step_seconds
        self.ledger.trim(last - horizon, last + 4 * horizon)
        for ts in [t for t in self.predictions if t < last - horizon or t > last + 4 * horizon]:
            del self.predictions[ts]

    def _outlook(self, replicas: int, quantile: float | None = None) -> Outlook | None:
        if self.forecaster is None or self.last_ts is None:
            return None
        q = self.config.params.safety_quantile if quantile is None else quantile
        return outlook(self.forecaster, self.last_ts, self.config.step_seconds, self.config.params, replicas, q)

    def fallback(self, now: float, current: int, ready: int, why: str) -> LoopDecision:
        """Demand cannot be used: the policy's ``metricsOutageFallback``, never below ``max(1, minReplicas)``."""
        p = self.config.params
        floor = max(1, p.min_replicas)
        mode = self.config.fallback
        if mode == "Reactive":
            observed = self.observed(now, current, ready)
            last_good = self.newest_good
            if observed.demand is None and last_good is not None and now - last_good <= self.config.stale_after:
                index = round((last_good - (self.history_start or 0.0)) / self.config.step_seconds)
                observed = replace(observed, demand=float(self.history[index]))
            if observed.demand is not None:
                decision = decide_reactive(observed, p)
                replicas = max(floor, decision.replicas)
                return LoopDecision(replicas, "Fallback", f"{why}; fallback Reactive: {decision.reason}", decision)
            mode = "Hold"
        if mode == "MinReplicas":
            low, _ = p.limits.bounds(current, self.config.interval_seconds)
            replicas = max(floor, low, p.min_replicas)
            replicas = min(replicas, current) if current >= floor else floor
            return LoopDecision(replicas, "Fallback", f"{why}; fallback MinReplicas: stepping to {replicas}")
        held = max(floor, current)
        held = held if p.max_replicas is None else min(held, p.max_replicas)
        return LoopDecision(held, "Fallback", f"{why}; fallback Hold: keeping {held} replicas")
