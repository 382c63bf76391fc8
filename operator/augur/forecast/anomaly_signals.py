"""Raw signals of the streaming anomaly detector and their anomaly likelihood.

* :class:`Tail`: Numenta's anomaly likelihood of a raw-score stream (the Gaussian tail probability of
  the recent average of the raw score under the mean and spread of that average over a longer
  history, on a log scale).
* :class:`Shapes`: novelty of the recent shape of a series (bin means) against a memory of the shapes
  seen before, at one scale.

Both keep their whole memory in a frozen state value (:class:`TailState`, :class:`ShapeState`) so the
detector of :mod:`augur.forecast.anomaly` can be persisted between ticks.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from augur.forecast.shape_memory import ShapeRows, ShapeSeries


@dataclass(frozen=True)
class TailState:
    """Memory of one anomaly-likelihood estimator."""

    recent: tuple[float, ...] = ()
    history: tuple[float, ...] = ()
    total: float = 0.0
    squares: float = 0.0


@dataclass(frozen=True)
class ShapeState:
    """Memory of the shapes seen at one scale, and the likelihood of their novelty."""

    shapes: tuple[tuple[float, ...], ...] = ()
    """One row per shape, in ring order: a stride that is not a whole number of bins (and states saved
    before ``means`` existed, whatever the stride)."""
    written: int = 0
    tail: TailState = TailState()
    last_novelty: float = 0.0
    """The raw novelty of the last search (reused between searches when the period is above 1)."""
    origin: float = 0.0
    """Stored shapes are kept relative to this value (the first stored shape's mean), so the squared
    distances computed from norms and dot products lose no precision on a series far from zero."""
    means: tuple[float, ...] = ()
    """A stride of whole bins: the series of bin means (oldest first) whose windows are the shapes
    (:class:`~augur.forecast.shape_memory.ShapeSeries`)."""


class Ring:
    """A first-in first-out buffer of at most ``size`` floats in one float32 array (the live operator keeps
    four per workload): an eighth of the memory of a ``deque(maxlen=size)`` of Python floats (4 bytes a
    value against about 32; tracemalloc, 500 values). Values are stored rounded to float32;
    :meth:`append` returns the value as stored, so that running sums kept beside the ring add and later
    subtract the same number."""

    def __init__(self, size: int, values: tuple[float, ...] = ()) -> None:
        kept = values[len(values) - size :] if size else ()
        self.buf = np.zeros(size, dtype=np.float32)
        self.buf[: len(kept)] = kept
        self.n, self.head = len(kept), 0
        """Number of values held; index of the oldest."""

    def __len__(self) -> int:
        return self.n

    @property
    def full(self) -> bool:
        return self.n == len(self.buf)

    def oldest(self) -> float:
        return float(self.buf[self.head])

    def append(self, value: float) -> float:
        """Add ``value`` (dropping the oldest when full); returns it as stored (rounded to float32)."""
        size = len(self.buf)
        stored = float(np.float32(value))
        if self.n < size:
            self.buf[(self.head + self.n) % size] = stored
            self.n += 1
        elif size:
            self.buf[self.head] = stored
            self.head = (self.head + 1) % size
        return stored

    def values(self) -> tuple[float, ...]:
        """Oldest first."""
        ordered: list[float] = np.roll(self.buf, -self.head)[: self.n].tolist()
        return tuple(ordered)


class Tail:
    """Anomaly likelihood of a raw-score stream: log tail probability of its recent average.

    ``avg_window`` raw scores are averaged; the Gaussian is fitted to the last ``history_window``
    averages; the score is ``s / (s + cap)`` with ``s = -log10(2 * tail)``.
    """

    def __init__(self, avg_window: int, history_window: int, cap: float, state: TailState) -> None:
        self.total, self.squares, self.cap = state.total, state.squares, cap
        self.recent: deque[float] = deque(state.recent, maxlen=avg_window)
        self.history = Ring(history_window, state.history)

    def state(self) -> TailState:
        return TailState(tuple(self.recent), self.history.values(), self.total, self.squares)

    def score(self, raw: float) -> float:
        """Score in [0, 1) of ``raw`` joining the recent average (before learning it)."""
        count = len(self.history)
        if count < 2:
            return 0.0
        recent = (math.fsum(self.recent) + raw) / (len(self.recent) + 1)
        mean = self.total / count
        if recent <= mean:
            return 0.0  # at or below the mean: twice the upper tail is at least 1, no surprise
        std = max(math.sqrt(max(self.squares / count - mean * mean, 0.0)), 1e-3)
        tail = math.erfc((recent - mean) / (std * math.sqrt(2.0)))  # twice the upper tail: 1 at the mean
        surprise = max(0.0, -math.log10(max(tail, 1e-300)))
        return surprise / (surprise + self.cap)

    def learn(self, raw: float) -> None:
        self.recent.append(raw)
        avg = math.fsum(self.recent) / len(self.recent)
        if self.history.full:
            old = self.history.oldest()
            self.total -= old
            self.squares -= old * old
        avg = self.history.append(avg)  # the sums hold what the ring holds, so removals cancel exactly
        self.total += avg
        self.squares += avg * avg

    def step(self, raw: float) -> float:
        """:meth:`score` then :meth:`learn`."""
        score = self.score(raw)
        self.learn(raw)
        return score


class Window:
    """The last ``size`` values as one contiguous float64 array without copying: each value is written
    twice, ``size`` apart, in a buffer of twice the length, so the newest ``size`` values always form one
    slice (what a ``deque`` turned into an array each tick gave, at a fraction of the cost)."""

    def __init__(self, size: int, values: tuple[float, ...] = ()) -> None:
        self.size = max(1, size)
        self.buf = np.zeros(2 * self.size)
        self.pos, self.n = 0, 0
        for v in values[len(values) - self.size :]:
            self.append(v)

    def append(self, value: float) -> None:
        self.buf[self.pos] = value
        self.buf[self.pos + self.size] = value
        self.pos = (self.pos + 1) % self.size
        self.n = min(self.n + 1, self.size)

    def view(self) -> npt.NDArray[np.float64]:
        """The values held, oldest first (a read-only view: valid until the next ``append``)."""
        end = self.pos + self.size
        return self.buf[end - self.n : end]

    def values(self) -> tuple[float, ...]:
        held: list[float] = self.view().tolist()
        return tuple(held)


class Shapes:
    """Novelty of the recent shape (``bins`` means of ``bin_size`` values) against remembered shapes.

    A shape is stored every ``stride`` points, one shape width late (a shape never matches its own
    neighbours), up to ``memory`` shapes (:mod:`augur.forecast.shape_memory`: the series of bin means
    when the stride is whole bins, one row per shape otherwise); ``tail`` turns the raw novelty into a
    likelihood. The nearest-neighbour search runs every ``period`` points (the point count a multiple of
    it); in between the last raw novelty is reused, so a coarse scale whose shape moves little from one
    point to the next costs a fraction of a search per point.

    Stored shapes are float32 (the largest part of a live workload's state); each search widens them to
    float64 and computes their squared norms and dot products with the query in float64, so distances
    are those between the query and the shapes rounded to float32 (a relative error near 6e-8 of a
    shape's distance from ``origin``). Norms are not stored: recomputing them costs one more pass per
    search.
    """

    def __init__(
        self, bins: int, bin_size: int, memory: int, stride: int, tail: Tail, state: ShapeState, period: int = 1
    ) -> None:
        self.bins, self.bin_size = bins, bin_size
        self.width = bins * bin_size
        self.stride = max(1, stride)
        self.period = max(1, period)
        self.written = state.written
        self.last = state.last_novelty
        self.origin = state.origin
        self.store = _store(bins, memory, self.stride // bin_size if self.stride % bin_size == 0 else 0, state)
        self.tail = tail

    @property
    def count(self) -> int:
        return len(self.store)

    def state(self) -> ShapeState:
        if isinstance(self.store, ShapeSeries):
            return ShapeState((), self.written, self.tail.state(), self.last, self.origin, self.store.means())
        shapes = tuple(tuple(float(x) for x in row) for row in self.store.rows())
        return ShapeState(shapes, self.written, self.tail.state(), self.last, self.origin)

    def _shape(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if self.bin_size == 1:
            return values
        # sum / n is what mean(axis=1) computes, without its per-call overhead (same numbers)
        means: npt.NDArray[np.float64] = values.reshape(self.bins, self.bin_size).sum(axis=1) / self.bin_size
        return means

    def novelty(self, values: npt.NDArray[np.float64], span: float, n: int = 0) -> float:
        """Distance from the latest shape to the nearest remembered one, relative to ``span``, for the
        ``n``-th point (counted from 1; searched only when ``n`` is a multiple of the period)."""
        if n % self.period:
            return self.last
        if self.count == 0 or len(values) < self.width:
            self.last = 0.0
            return 0.0
        recent = values[len(values) - self.width :]
        query = (recent if self.bin_size == 1 else self._shape(recent)) - self.origin
        # |m - q|^2 = |m|^2 - 2 m.q + |q|^2
        nearest = max(0.0, self.store.nearest(query) + float(np.dot(query, query)))
        self.last = min(1.0, math.sqrt(nearest / self.bins) / span)
        return self.last

    def remember(self, values: npt.NDArray[np.float64], n: int) -> None:
        """Store the shape that ended one window ago, when ``n`` is a multiple of the stride."""
        if n % self.stride or len(values) < 2 * self.width:
            return
        old = values[len(values) - 2 * self.width : len(values) - self.width]
        shape = old if self.bin_size == 1 else self._shape(old)
        if self.written == 0:
            self.origin = float(shape.sum()) / self.bins
        self.store.add(shape - self.origin)
        self.written += 1


def _store(bins: int, memory: int, step: int, state: ShapeState) -> ShapeSeries | ShapeRows:
    """The store for a stride of ``step`` whole bins (0: not whole bins), holding what ``state`` saved.

    A state saved as rows (before ``means`` existed) goes into a series store oldest first, its rows one
    stride apart as the same parameters stored them. Means saved at one stride cannot become rows at
    a stride that is not whole bins (the stride changed between save and restore): ``ValueError``."""
    if step and state.shapes and not state.means:
        rows = ShapeRows(bins, memory, state.shapes, state.written)
        return ShapeSeries.from_rows(bins, memory, step, rows.oldest_first())
    if step:
        return ShapeSeries(bins, memory, step, state.means)
    if state.means:
        raise ValueError("shape memory was saved as a series of bin means, but this stride is not whole bins")
    return ShapeRows(bins, memory, state.shapes, state.written)
