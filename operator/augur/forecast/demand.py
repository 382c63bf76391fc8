"""Validating demand read from Prometheus before anything learns from it or acts on it (pure).

A range query answers with zero or more series of ``(timestamp, value)`` points. :func:`validate_range`
turns one answer into a :class:`DemandWindow`: the values on a regular grid of ``step`` seconds from
``start`` (``NaN`` where a point is missing or was dropped), or raises :class:`DemandError` with a
CamelCase reason the operator puts in the ``MetricsAvailable`` condition.

Rules (``docs/scaling.md`` repeats them for users):

* **NoData**: the query returned no series (or only points that were all dropped) and nothing was
  ever seen before.
* **MultipleSeries**: more than one series; demand must be one number per step (wrap the query in
  ``sum(...)``). Nothing is guessed.
* **StaleData** (:func:`check_fresh`): the newest good point is older than ``stale_after`` seconds.
* **NaN and ±Inf** points are dropped (they become gaps; the models step over gaps).
* **Negative values** are dropped: demand is never negative, a negative value is what ``delta`` or
  ``deriv`` make of a counter reset. (``rate``/``increase`` already handle counter resets.)
* **Huge jumps**: a point more than :data:`JUMP_FACTOR` times the median of the up to
  :data:`JUMP_CONTEXT` good points before it (when that median is positive and at least
  :data:`JUMP_MIN_CONTEXT` points exist) is an artifact (a counter reset read through ``irate``, a
  duplicated scrape) when the next point falls back under that bound: it is dropped. When the next
  point is high too the jump is real demand and both are kept. A suspect last point is *held*: the
  window ends before it (``held`` is true) and it is judged again with its successor, one step later.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from augur.constants import FloatArray

JUMP_FACTOR = 20.0
JUMP_CONTEXT = 60
JUMP_MIN_CONTEXT = 10
MAX_LABEL_SETS_SHOWN = 3


class DemandError(Exception):
    """Demand cannot be used; ``reason`` is the CamelCase condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class RawSeries:
    """One series of a range-query answer, as Prometheus sent it (values may be NaN or infinite)."""

    labels: dict[str, str]
    timestamps: tuple[float, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Dropped:
    """How many points of a window were dropped, by rule."""

    non_finite: int = 0
    negative: int = 0
    jumps: int = 0

    @property
    def total(self) -> int:
        return self.non_finite + self.negative + self.jumps

    def describe(self) -> str:
        parts = [(self.non_finite, "NaN/Inf"), (self.negative, "negative"), (self.jumps, "isolated jumps")]
        return ", ".join(f"{n} {what}" for n, what in parts if n)


@dataclass(frozen=True)
class DemandWindow:
    """Demand on the grid ``start + k * step`` for ``k < len(values)``."""

    start: float
    step: float
    values: FloatArray
    dropped: Dropped
    held: bool = False
    """The point after the window is a suspect jump, held back until its successor arrives."""

    @property
    def end(self) -> float:
        """Timestamp of the last grid point (``start - step`` for an empty window)."""
        return self.start + (self.values.size - 1) * self.step

    @property
    def newest(self) -> float | None:
        """Timestamp of the newest good point, None when there is none."""
        good = np.flatnonzero(np.isfinite(self.values))
        return None if good.size == 0 else self.start + float(good[-1]) * self.step


def grid_points(start: float, end: float, step: float) -> int:
    """Number of grid points ``start, start + step, ... <= end``."""
    return max(0, math.floor((end - start) / step + 1e-9) + 1)


def validate_range(
    answer: Sequence[RawSeries], start: float, end: float, step: float, context: FloatArray | None = None
) -> DemandWindow:
    """The checked window ``[start, end]``; ``context`` is the good history just before ``start``
    (for the jump rule). Raises :class:`DemandError` for ``MultipleSeries``."""
    if len(answer) > 1:
        shown = "; ".join(_labels(s.labels) for s in answer[:MAX_LABEL_SETS_SHOWN])
        more = f" and {len(answer) - MAX_LABEL_SETS_SHOWN} more" if len(answer) > MAX_LABEL_SETS_SHOWN else ""
        raise DemandError(
            "MultipleSeries",
            f"the demand query returned {len(answer)} series ({shown}{more}); it must return one, "
            "for example by wrapping it in sum(...)",
        )
    n = grid_points(start, end, step)
    values = np.full(n, np.nan)
    non_finite = negative = 0
    for series in answer:
        for ts, value in zip(series.timestamps, series.values, strict=True):
            index = round((ts - start) / step)
            if not 0 <= index < n:
                continue
            if not math.isfinite(value):
                non_finite += 1
            elif value < 0:
                negative += 1
            else:
                values[index] = value
    values, jumps, held = _drop_jumps(values, context)
    return DemandWindow(start, step, values, Dropped(non_finite, negative, jumps), held)


def _drop_jumps(values: FloatArray, context: FloatArray | None) -> tuple[FloatArray, int, bool]:
    before = np.asarray(context if context is not None else np.zeros(0), dtype=np.float64)
    before = before[np.isfinite(before)][-JUMP_CONTEXT - 1 :]
    history = list(before[:-1])
    previous_high = False
    if before.size:
        bound = _bound(history)
        previous_high = bound is not None and float(before[-1]) > bound
        history.append(float(before[-1]))
        history = history[-JUMP_CONTEXT:]
    out = values.copy()
    jumps = 0
    held = False
    for i in range(out.size):
        value = float(out[i])
        if math.isnan(value):
            continue
        bound = _bound(history)
        high = bound is not None and value > bound
        if high and not previous_high:  # a jump away from normal: judged by the point after it
            assert bound is not None
            following = out[i + 1 :]
            nxt = following[np.isfinite(following)][:1]
            if nxt.size == 0:  # nothing after it yet
                out = out[:i]
                held = True
                break
            if nxt[0] <= bound:
                out[i] = np.nan
                jumps += 1
                continue
        previous_high = high
        history.append(value)
        if len(history) > JUMP_CONTEXT:
            del history[0]
    return out, jumps, held


def _bound(history: list[float]) -> float | None:
    if len(history) < JUMP_MIN_CONTEXT:
        return None
    median = statistics.median(history)  # np.median's per-call overhead dominated the first history read
    return JUMP_FACTOR * median if median > 0 else None


def check_fresh(newest: float | None, now: float, stale_after: float) -> None:
    """Raise ``NoData`` when nothing good was ever seen, ``StaleData`` when it is too old."""
    if newest is None:
        raise DemandError("NoData", "the demand query returned no usable points")
    age = now - newest
    if age > stale_after:
        raise DemandError(
            "StaleData", f"the newest demand point is {age:.0f}s old (limit {stale_after:.0f}s); the metric stopped"
        )


def stale_after_seconds(step: float) -> float:
    """Age after which demand counts as stale: three steps, at least Prometheus' 5-minute lookback."""
    return max(3.0 * step, 300.0)


def _labels(labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"
