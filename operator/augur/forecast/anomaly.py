"""Streaming anomaly score in [0, 1] per point, from past data only.

Each tick, :meth:`AnomalyDetector.update` does a constant amount of work:

1. **Forecast residual.** A one-step forecast (EWMA level) is compared with the new value.
2. **Robust z-scores.** The residual is scaled by Huber-clipped EWMA estimates of the residual centre
   and mean absolute deviation over a short and a long horizon (outliers cannot inflate the scale they
   are measured against). The larger of the two z-scores, capped, is the *raw score* in [0, 1].
3. **Anomaly likelihood** (as in Numenta's detector): the tail probability of the recent average of raw
   scores under a Gaussian fitted to the longer history of that average. A series that is always noisy
   raises its own baseline; a change in behaviour does not.
4. **Range check.** A value beyond the range seen so far by a margin of that range (a spike or a level
   shift into new territory) scores at least ``range_score``.
5. **Suppression.** After the score reaches ``fire_level``, later scores are damped for a while: NAB and
   operators reward the earliest alert of an incident, not a stream of repeats.

The detector's whole memory is :class:`AnomalyState` (plain numbers and tuples), so the live operator
can persist it between ticks and rebuild the detector with :meth:`AnomalyDetector.from_state`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class AnomalyParams:
    """One parameter set for every series (tuned once on the NAB corpus, see ``docs/anomaly.md``)."""

    warmup: int = 150
    log_tail_cap: float = 10.0
    level_alpha: float = 0.3
    short_alpha: float = 0.05
    long_alpha: float = 0.005
    huber_k: float = 4.0
    z_cap: float = 12.0
    avg_window: int = 10
    history_window: int = 1000
    range_margin: float = 0.1
    range_score: float = 0.99
    fire_level: float = 0.999
    suppress_steps: int = 200
    suppress_factor: float = 0.9


@dataclass(frozen=True)
class AnomalyState:
    """Serializable memory of a detector (``asdict`` gives a JSON-ready dict)."""

    n: int = 0
    level: float = 0.0
    short_mean: float = 0.0
    short_dev: float = 0.0
    long_mean: float = 0.0
    long_dev: float = 0.0
    abs_scale: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    since_fire: int = 1 << 30
    recent_raw: tuple[float, ...] = ()
    history: tuple[float, ...] = ()
    history_sum: float = 0.0
    history_sq: float = 0.0


class AnomalyDetector:
    """Streaming detector; ``update(value, timestamp) -> score`` once per point."""

    def __init__(self, params: AnomalyParams | None = None, state: AnomalyState | None = None) -> None:
        self.params = params or AnomalyParams()
        s = state or AnomalyState()
        self._n, self._level = s.n, s.level
        self._short = [s.short_mean, s.short_dev]
        self._long = [s.long_mean, s.long_dev]
        self._abs_scale, self._low, self._high, self._since_fire = s.abs_scale, s.low, s.high, s.since_fire
        self._recent: deque[float] = deque(s.recent_raw, maxlen=self.params.avg_window)
        self._history: deque[float] = deque(s.history, maxlen=self.params.history_window)
        self._hist_sum, self._hist_sq = s.history_sum, s.history_sq

    @classmethod
    def from_state(cls, state: AnomalyState | dict[str, Any], params: AnomalyParams | None = None) -> AnomalyDetector:
        """Rebuild a detector from :meth:`state` (or its ``asdict`` form)."""
        if isinstance(state, dict):
            names = {f.name for f in fields(AnomalyState)}
            kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in state.items() if k in names}
            state = AnomalyState(**kw)
        return cls(params, state)

    def state(self) -> AnomalyState:
        """The detector's memory as an immutable value."""
        return AnomalyState(
            self._n, self._level, self._short[0], self._short[1], self._long[0], self._long[1],
            self._abs_scale, self._low, self._high, self._since_fire,
            tuple(self._recent), tuple(self._history), self._hist_sum, self._hist_sq,
        )  # fmt: skip

    def update(self, value: float, timestamp: float | None = None) -> float:
        """Score of ``value`` given everything seen before it; then learn from it.

        ``timestamp`` (seconds) is accepted for the operator's bookkeeping; the score uses row order.
        """
        del timestamp
        p = self.params
        if self._n == 0:
            self._level = value
        resid = value - self._level
        floor = 1e-3 * self._abs_scale + 1e-9
        z = max(_z(resid, self._short, floor), _z(resid, self._long, floor))
        raw = min(z, p.z_cap) / p.z_cap
        likelihood = self._likelihood(raw)
        outside = self._outside_range(value)
        self._learn(value, resid, raw)
        if self._n <= p.warmup:
            return 0.0
        score = max(likelihood, p.range_score if outside else 0.0)
        return self._suppress(score)

    def _likelihood(self, raw: float) -> float:
        """Gaussian tail probability of the recent raw-score average, as a score in [0, 1]."""
        recent = (math.fsum(self._recent) + raw) / (len(self._recent) + 1)
        count = len(self._history)
        if count < 2:
            return 0.0
        mean = self._hist_sum / count
        var = max(self._hist_sq / count - mean * mean, 0.0)
        std = max(math.sqrt(var), 1e-3)
        tail = 0.5 * math.erfc((recent - mean) / (std * math.sqrt(2.0)))
        return min(1.0, -math.log10(max(tail, 1e-300)) / self.params.log_tail_cap)

    def _outside_range(self, value: float) -> bool:
        span = self._high - self._low
        if not math.isfinite(span):
            return False
        margin = self.params.range_margin * span
        return value > self._high + margin or value < self._low - margin

    def _learn(self, value: float, resid: float, raw: float) -> None:
        p = self.params
        self._n += 1
        self._level += p.level_alpha * resid
        _ew_update(self._short, resid, p.short_alpha, p.huber_k)
        _ew_update(self._long, resid, p.long_alpha, p.huber_k)
        self._abs_scale += (abs(value) - self._abs_scale) / min(self._n, 1000)
        self._low, self._high = min(self._low, value), max(self._high, value)
        self._recent.append(raw)
        avg = math.fsum(self._recent) / len(self._recent)
        if len(self._history) == self._history.maxlen:
            old = self._history[0]
            self._hist_sum -= old
            self._hist_sq -= old * old
        self._history.append(avg)
        self._hist_sum += avg
        self._hist_sq += avg * avg

    def _suppress(self, score: float) -> float:
        p = self.params
        self._since_fire += 1
        if self._since_fire <= p.suppress_steps:
            return score * p.suppress_factor
        if score >= p.fire_level:
            self._since_fire = 0
        return score


def _z(resid: float, stats: list[float], floor: float) -> float:
    """Robust z-score of ``resid`` against an EWMA ``[centre, mean absolute deviation]``."""
    return abs(resid - stats[0]) / (1.2533 * stats[1] + floor)


def _ew_update(stats: list[float], resid: float, alpha: float, k: float) -> None:
    """Huber-clipped EWMA update of ``[centre, mean absolute deviation]``."""
    centre, dev = stats
    bound = k * 1.2533 * dev if dev > 0 else math.inf
    clipped = min(max(resid, centre - bound), centre + bound)
    stats[0] = centre + alpha * (clipped - centre)
    stats[1] = dev + alpha * (abs(clipped - centre) - dev)


def score_series(values: Iterable[float], params: AnomalyParams | None = None) -> npt.NDArray[np.float64]:
    """Scores of a whole series, point by point, exactly as the streaming detector would give them."""
    detector = AnomalyDetector(params)
    return np.array([detector.update(float(v)) for v in values], dtype=np.float64)


def state_dict(state: AnomalyState) -> dict[str, Any]:
    """JSON-ready form of ``state`` (tuples become lists, infinities stay floats)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(state).items()}
