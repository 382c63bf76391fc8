"""The remembered shapes of one scale of the anomaly detector (:class:`~augur.forecast.anomaly_signals.Shapes`).

A shape is ``bins`` bin means, stored relative to an origin in float32, one every ``stride`` points, at
most ``capacity`` of them (the oldest dropped first). Two stores hold them:

* :class:`ShapeSeries`, when the stride is a whole number ``step`` of bins (the default stride is one
  bin): consecutive shapes then share all but ``step`` bin means, so the store keeps the series of bin
  means once, and the shapes are its windows of ``bins`` means, ``step`` apart. A full memory of 1,000
  shapes of 6 bins takes about 5 KiB instead of 24 KiB.
* :class:`ShapeRows`, for any other stride: one row per shape in a ring.

Both give the shapes as a ``(count, bins)`` float32 array (:meth:`rows`) and the nearest of them to a
query (:meth:`nearest`, in float64: the same shapes give the same distances but for the last bits).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from augur.constants import Float32Array


class ShapeSeries:
    """Shapes one ``step`` of bins apart, as windows of the series of their bin means (oldest first).

    The series lives in one float32 buffer with a quarter of spare room: appends fill the room, and when
    it is used up the held means move back to the front (one copy per ``capacity / 4`` shapes).
    """

    def __init__(self, bins: int, capacity: int, step: int, means: tuple[float, ...] = ()) -> None:
        self.bins, self.capacity, self.step = bins, capacity, step
        self.limit = (capacity - 1) * step + bins
        """Means held by a full memory: ``capacity`` windows of ``bins``, ``step`` apart."""
        self.room = self.limit + max(step, self.limit // 4)
        self.buf: Float32Array = np.zeros(min(self.room, max(len(means), 16 * step + bins)), dtype=np.float32)
        kept = means[max(0, len(means) - self.limit) :]
        self.buf[: len(kept)] = kept
        self.start, self.end = 0, len(kept)

    @classmethod
    def from_rows(cls, bins: int, capacity: int, step: int, rows: Float32Array) -> ShapeSeries:
        """The series of ``rows``, shapes stored ``step`` bins apart and oldest first (the first row
        gives all its means, every later one its last ``step``)."""
        means = np.concatenate([rows[0], rows[1:, bins - step :].ravel()]) if len(rows) else rows.ravel()
        return cls(bins, capacity, step, tuple(means.tolist()))

    def __len__(self) -> int:
        held = self.end - self.start
        return 0 if held < self.bins else (held - self.bins) // self.step + 1

    def add(self, shape: npt.NDArray[np.float64]) -> None:
        """Store ``shape`` (relative to the origin); it must follow the last one by ``step`` bins."""
        new = shape if self.end == self.start else shape[self.bins - self.step :]
        if self.end + len(new) > len(self.buf):
            self._make_room(len(new))
        self.buf[self.end : self.end + len(new)] = new
        self.end += len(new)
        self.start = max(self.start, self.end - self.limit)  # whole steps: windows stay aligned

    def _make_room(self, extra: int) -> None:
        held = self.end - self.start
        size = max(held + extra, min(2 * len(self.buf), self.room))
        buf = self.buf if size == len(self.buf) else np.zeros(size, dtype=np.float32)
        buf[:held] = self.buf[self.start : self.end]
        self.buf, self.start, self.end = buf, 0, held

    def nearest(self, query: npt.NDArray[np.float64]) -> float:
        """The least ``|m|^2 - 2 m.q`` over the shapes ``m`` (add ``|q|^2`` for the squared distance),
        in float64: one correlation of the series with the query and one of its squares with ones give
        every window's dot product and squared norm at once (a third faster than widening the shapes
        into rows; the sums run in another order, so they differ from the rows store's in the last bits)."""
        wide = self.buf[self.start : self.end].astype(np.float64)
        cross = np.correlate(wide, query * -2.0, "valid")
        cross += np.correlate(wide * wide, np.ones(self.bins), "valid")
        return float(cross[:: self.step].min())

    def rows(self) -> Float32Array:
        """The shapes, oldest first (a read-only view: valid until the next :meth:`add`)."""
        # what sliding_window_view(held, bins)[::step] gives, without its per-call cost (about 15 us)
        size = self.buf.itemsize
        windows: Float32Array = np.ndarray(
            (len(self), self.bins), np.float32, self.buf, self.start * size, (self.step * size, size)
        )
        windows.flags.writeable = False
        return windows

    def means(self) -> tuple[float, ...]:
        held: list[float] = self.buf[self.start : self.end].tolist()
        return tuple(held)


class ShapeRows:
    """Shapes one row each, in a ring of ``capacity`` rows that grows (doubling) as shapes arrive: a
    young series, or a coarse scale that stores a shape every few points, does not hold a full ring of
    zeros. Rows are kept in ring order (the oldest at ``written % capacity`` once full)."""

    def __init__(self, bins: int, capacity: int, rows: tuple[tuple[float, ...], ...], written: int) -> None:
        self.capacity, self.written, self.count = capacity, written, len(rows)
        self.memory: Float32Array = np.zeros((min(capacity, max(self.count, 16)), bins), dtype=np.float32)
        if rows:
            self.memory[: self.count] = np.array(rows)

    def __len__(self) -> int:
        return self.count

    def add(self, shape: npt.NDArray[np.float64]) -> None:
        slot = self.written % self.capacity
        if slot >= len(self.memory):
            grown = np.zeros((min(self.capacity, 2 * len(self.memory)), self.memory.shape[1]), dtype=np.float32)
            grown[: len(self.memory)] = self.memory
            self.memory = grown
        self.memory[slot] = shape
        self.written += 1
        self.count = min(self.written, len(self.memory))

    def nearest(self, query: npt.NDArray[np.float64]) -> float:
        """The least ``|m|^2 - 2 m.q`` over the shapes ``m``, in float64 (two passes over the widened
        shapes instead of a difference matrix)."""
        wide = self.rows().astype(np.float64)
        cross = np.dot(wide, query * -2.0)
        cross += np.einsum("ij,ij->i", wide, wide)
        return float(cross.min())

    def rows(self) -> Float32Array:
        """The shapes in ring order."""
        return self.memory[: self.count]

    def oldest_first(self) -> Float32Array:
        """The shapes, oldest first."""
        rows = self.rows()
        return np.roll(rows, -(self.written % self.capacity), axis=0) if self.written > self.capacity else rows
