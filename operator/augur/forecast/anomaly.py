"""Streaming anomaly score in [0, 1] per point, from past data only.

Each tick, :meth:`AnomalyDetector.update` does a bounded amount of work in two stages:
:meth:`AnomalyDetector.observe` turns the point into :class:`Signals` (steps 1-4) and
:class:`Alerting` turns the signals into the score (steps 4-5).

1. **Forecast residual.** A one-step forecast (EWMA level) is compared with the new value and scaled
   by Huber-clipped EWMA estimates of the residual centre and mean absolute deviation over a short and
   a long horizon (outliers cannot inflate the scale they are measured against).
2. **Behaviour novelty.** At each scale of ``shape_scales``, the shape of the last ``shape_bins``
   bin means is compared with a memory of shapes seen before (:mod:`augur.forecast.anomaly_signals`);
   the distance to the nearest one, relative to the range of the series, says whether the series
   behaves in a way it never did (a lost daily peak, a flat stretch, a new rhythm) even when no single
   value is extreme.
3. **Anomaly likelihood** (as in Numenta's detector) of the residual and of each scale's novelty:
   the tail probability of the recent average under a Gaussian fitted to its longer history, on a log
   scale. A series that is always noisy raises its own baseline; a change in behaviour does not.
4. **Range check.** A value beyond the range seen so far (a spike or a level shift into new territory)
   by ``range_margin`` of that range scores at least ``range_score``; optionally (``local_window``,
   off by default) a break of the recent range scores at least ``local_score``.
5. **Suppression.** After the score reaches ``fire_level``, later scores are damped for a while:
   NAB and operators reward the earliest alert of an incident, not a stream of repeats.

The detector's whole memory is :class:`AnomalyState` (numbers and tuples), so the live operator can
persist it between ticks and rebuild the detector with :meth:`AnomalyDetector.from_state`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from augur.forecast.anomaly_signals import Shapes, ShapeState, Tail, TailState, Window

_MAD_TO_SIGMA = 1.2533


@dataclass(frozen=True)
class AnomalyParams:
    """One parameter set for every series, chosen on the development half of NAB only
    (``bench/nab_search.py``, ``docs/anomaly.md``)."""

    warmup: int = 150  # points scored 0 while the statistics settle
    level_alpha: float = 0.3  # EWMA one-step forecast
    short_alpha: float = 0.05  # residual centre/scale, short horizon
    long_alpha: float = 0.005  # residual centre/scale, long horizon
    huber_k: float = 4.0  # residuals clipped at k sigma before they update centre and scale
    z_cap: float = 12.0  # raw residual score = min(z, cap) / cap
    avg_window: int = 7  # likelihood: points averaged into the recent raw score
    history_window: int = 500  # likelihood: points of history behind the Gaussian
    log_tail_cap: float = 1.0  # score = s / (s + cap), s = -log10(2 * tail)
    shape_bins: int = 6  # bin means per shape
    shape_scales: tuple[int, ...] = (1, 5, 20)  # points per bin, one shape memory per scale
    shape_memory: int = 1000  # shapes remembered per scale
    shape_stride: float = 1.0  # store a shape every round(bin * stride) points
    shape_periods: tuple[int, ...] = (1, 1, 1)  # per scale: search the shape memory every N points
    novelty_weight: float = 1.02  # novelty likelihood against residual likelihood
    novelty_agreement: int = 1  # novelty score: k-th strongest of the scales' likelihoods (1: the strongest)
    range_margin: float = 0.03  # range break: beyond the seen range by this share of it
    local_window: int = 0  # > 0: also check the range of the last N points (a local range break)
    local_margin: float = 0.5  # local break: beyond the recent range by this share of it
    local_score: float = 0.95  # least score of a local range break
    range_score: float = 0.99  # least score of a range break
    fire_level: float = 0.92  # a score this high starts a suppression period
    suppress_steps: int = 75  # length of the suppression period
    suppress_factor: float = 0.9  # scores are multiplied by this while suppressed


ALERT_FIELDS = (
    "warmup", "novelty_weight", "range_margin", "range_score", "fire_level",
    "suppress_steps", "suppress_factor", "novelty_agreement", "local_margin", "local_score",
)  # fmt: skip
"""The parameters only :class:`Alerting` reads (the signals do not depend on them)."""


@dataclass(frozen=True)
class AnomalyState:
    """Serializable memory of a detector (:func:`state_dict` gives a JSON-ready dict)."""

    n: int = 0
    level: float = 0.0
    short: tuple[float, float] = (0.0, 0.0)
    long: tuple[float, float] = (0.0, 0.0)
    abs_scale: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    window_max: tuple[tuple[int, float], ...] = ()
    window_min: tuple[tuple[int, float], ...] = ()
    since_fire: int = 1 << 30
    residual_tail: TailState = field(default_factory=TailState)
    recent_values: tuple[float, ...] = ()
    scales: tuple[ShapeState, ...] = ()


@dataclass(frozen=True, slots=True)
class Signals:
    """What the detector makes of one point before alerting: the likelihood of its forecast residual,
    the likelihood of its shape novelty at each scale, and how far it breaks the range seen so far."""

    residual: float
    novelty: tuple[float, ...]
    excess: float
    """How far the value lies beyond the range seen so far, as a share of that range (0 inside)."""
    local_excess: float = 0.0
    """The same against the range of the last ``local_window`` points (0 when that check is off)."""


class Alerting:
    """Turns :class:`Signals` into the point's score: :func:`combine`, then warm-up and suppression."""

    def __init__(self, params: AnomalyParams, since_fire: int = 1 << 30) -> None:
        self.params, self.since_fire = params, since_fire

    def step(self, signals: Signals, n: int) -> float:
        """Score of the ``n``-th point (counted from 1) with these signals."""
        p = self.params
        if n <= p.warmup:
            return 0.0
        score = combine(signals, p)
        self.since_fire += 1
        if self.since_fire <= p.suppress_steps:
            return score * p.suppress_factor
        if score >= p.fire_level:
            self.since_fire = 0
        return score


class AnomalyDetector:
    """Streaming detector; ``update(value, timestamp) -> score`` once per point."""

    def __init__(self, params: AnomalyParams | None = None, state: AnomalyState | None = None) -> None:
        self.params = p = params or AnomalyParams()
        s = state or AnomalyState()
        self._n, self._level = s.n, s.level
        self._short, self._long = list(s.short), list(s.long)
        self._abs_scale, self._low, self._high = s.abs_scale, s.low, s.high
        self._alerting = Alerting(p, s.since_fire)
        self._resid_tail = self._tail(s.residual_tail)
        self._wmax: deque[tuple[int, float]] = deque(s.window_max)
        self._wmin: deque[tuple[int, float]] = deque(s.window_min)
        scale_states = s.scales or tuple(ShapeState() for _ in p.shape_scales)
        periods = p.shape_periods if len(p.shape_periods) == len(p.shape_scales) else (1,) * len(p.shape_scales)
        self._scales = [
            Shapes(p.shape_bins, b, p.shape_memory, round(b * p.shape_stride), self._tail(st.tail), st, period)
            for b, st, period in zip(p.shape_scales, scale_states, periods, strict=True)
        ]
        longest = max((sc.width for sc in self._scales), default=1)
        self._values = Window(2 * longest, s.recent_values)

    @classmethod
    def from_state(cls, state: AnomalyState | dict[str, Any], params: AnomalyParams | None = None) -> AnomalyDetector:
        """Rebuild a detector from :meth:`state` (or its :func:`state_dict` form)."""
        if isinstance(state, dict):
            state = _state_from_dict(state)
        return cls(params, state)

    def state(self) -> AnomalyState:
        """The detector's memory as an immutable value."""
        return AnomalyState(
            self._n, self._level, (self._short[0], self._short[1]), (self._long[0], self._long[1]),
            self._abs_scale, self._low, self._high,
            tuple(self._wmax), tuple(self._wmin), self._alerting.since_fire, self._resid_tail.state(),
            self._values.values(), tuple(sc.state() for sc in self._scales),
        )  # fmt: skip

    def update(self, value: float, timestamp: float | None = None) -> float:
        """Score of ``value`` given everything seen before it; then learn from it.

        ``timestamp`` (seconds) is accepted for the operator's bookkeeping; the score uses row order.
        """
        del timestamp
        signals = self.observe(value)
        return self._alerting.step(signals, self._n)

    @property
    def settle_points(self) -> int:
        """How many points at the end of a history must go through :meth:`update` for :meth:`learn` to
        be used on the ones before: the likelihoods keep averages of the last ``avg_window`` raw scores
        for ``history_window`` points, a coarse scale may reuse its last search for ``period`` points,
        and a suppression lasts ``suppress_steps``."""
        p = self.params
        return p.avg_window + p.history_window + max(p.shape_periods, default=1) + p.suppress_steps

    def learn(self, value: float) -> None:
        """Learn from ``value`` without scoring it: no shape search, no likelihood, no alerting.

        For the start of a long history whose scores nobody reads (the operator's first read): learning
        all but the last :attr:`settle_points` points this way and updating the rest ends with the same
        stored shapes, levels, range and likelihood histories as updating every point, at about half the
        CPU. What may differ: the likelihoods' running sums in their last bits, and the suppression
        counter when the history ends in a run of alerts.
        """
        resid, values = self._take(value)
        self._learn(value, resid, values)

    def _tail(self, state: TailState) -> Tail:
        p = self.params
        return Tail(p.avg_window, p.history_window, p.log_tail_cap, state)

    def observe(self, value: float) -> Signals:
        """The :class:`Signals` of ``value`` given everything seen before it; then learn from it.

        :meth:`update` is ``observe`` followed by :class:`Alerting`; the NAB search script caches the
        signals to tune the alerting stage cheaply.
        """
        p = self.params
        resid, values = self._take(value)
        floor = 1e-3 * self._abs_scale + 1e-9
        z = max(_z(resid, self._short, floor), _z(resid, self._long, floor))
        raw = min(z, p.z_cap) / p.z_cap
        resid_score = self._resid_tail.step(raw)
        span = max(self._high - self._low, floor)
        novelty = tuple(sc.tail.step(sc.novelty(values, span, self._n + 1)) for sc in self._scales)
        excess = _excess(value, self._low, self._high)
        local = _excess(value, self._wmin[0][1], self._wmax[0][1]) if self._wmax else 0.0
        self._learn(value, resid, values)
        return Signals(resid_score, novelty, excess, local)

    def _take(self, value: float) -> tuple[float, npt.NDArray[np.float64]]:
        """The residual of ``value`` against the level (the first value sets it), and the recent values
        with ``value`` appended: what both :meth:`observe` and :meth:`learn` start from."""
        if self._n == 0:
            self._level = value
        self._values.append(value)
        return value - self._level, self._values.view()

    def _learn(self, value: float, resid: float, values: npt.NDArray[np.float64]) -> None:
        """Everything the detector remembers of ``value``: the shapes due, levels, spread and range."""
        p = self.params
        for sc in self._scales:
            sc.remember(values, self._n + 1)
        self._n += 1
        self._level += p.level_alpha * resid
        _ew_update(self._short, resid, p.short_alpha, p.huber_k)
        _ew_update(self._long, resid, p.long_alpha, p.huber_k)
        self._abs_scale += (abs(value) - self._abs_scale) / min(self._n, 1000)
        self._low, self._high = min(self._low, value), max(self._high, value)
        if p.local_window > 0:
            _push_extreme(self._wmax, self._n, value, p.local_window, larger=True)
            _push_extreme(self._wmin, self._n, value, p.local_window, larger=False)


def combine(signals: Signals, p: AnomalyParams) -> float:
    """The point's score before suppression: the stronger likelihood, raised on a range break."""
    if p.novelty_agreement <= 1 or len(signals.novelty) <= 1:
        novelty = max(signals.novelty, default=0.0)
    else:
        ranked = sorted(signals.novelty, reverse=True)
        novelty = ranked[min(p.novelty_agreement, len(ranked)) - 1]
    score = min(1.0, max(signals.residual, p.novelty_weight * novelty))
    if signals.excess > p.range_margin:
        return max(score, p.range_score)
    if signals.local_excess > p.local_margin:
        return max(score, p.local_score)
    return score


def _excess(value: float, low: float, high: float) -> float:
    """How far ``value`` lies beyond ``[low, high]`` as a share of its width: 0 inside it, infinite
    for any change of a series that was constant."""
    span = high - low
    beyond = max(value - high, low - value)
    if not math.isfinite(span) or beyond <= 0:
        return 0.0
    return beyond / span if span > 0 else math.inf


def _push_extreme(queue: deque[tuple[int, float]], n: int, value: float, window: int, larger: bool) -> None:
    """Monotonic queue update: ``queue[0]`` is the extreme of the last ``window`` points."""
    while queue and (queue[-1][1] <= value if larger else queue[-1][1] >= value):
        queue.pop()
    queue.append((n, value))
    while queue[0][0] <= n - window:
        queue.popleft()


def _z(resid: float, stats: list[float], floor: float) -> float:
    """Robust z-score of ``resid`` against an EWMA ``[centre, mean absolute deviation]``."""
    return abs(resid - stats[0]) / (_MAD_TO_SIGMA * stats[1] + floor)


def _ew_update(stats: list[float], resid: float, alpha: float, k: float) -> None:
    """Huber-clipped EWMA update of ``[centre, mean absolute deviation]``."""
    centre, dev = stats
    bound = k * _MAD_TO_SIGMA * dev if dev > 0 else math.inf
    clipped = min(max(resid, centre - bound), centre + bound)
    stats[0] = centre + alpha * (clipped - centre)
    stats[1] = dev + alpha * (abs(clipped - centre) - dev)


def _tuples(value: Any) -> Any:
    """Lists (from JSON) back into tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _state_from_dict(data: dict[str, Any]) -> AnomalyState:
    """:class:`AnomalyState` from its :func:`state_dict` form (nested dicts and lists)."""
    names = {f.name for f in fields(AnomalyState)}
    kw = {k: _tuples(v) for k, v in data.items() if k in names and k not in ("residual_tail", "scales")}
    tail = TailState(**{k: _tuples(v) for k, v in data.get("residual_tail", {}).items()})
    scales = tuple(
        ShapeState(
            _tuples(sc.get("shapes", [])),
            sc["written"],
            TailState(**{k: _tuples(v) for k, v in sc["tail"].items()}),
            sc.get("last_novelty", 0.0),
            sc.get("origin", 0.0),
            _tuples(sc.get("means", [])),
        )
        for sc in data.get("scales", [])
    )
    return AnomalyState(**kw, residual_tail=tail, scales=scales)


def score_series(values: Iterable[float], params: AnomalyParams | None = None) -> npt.NDArray[np.float64]:
    """Scores of a whole series, point by point, exactly as the streaming detector would give them."""
    detector = AnomalyDetector(params)
    return np.array([detector.update(float(v)) for v in values], dtype=np.float64)


def state_dict(state: AnomalyState) -> dict[str, Any]:
    """JSON-ready form of ``state`` (tuples become lists)."""
    return asdict(state)
