"""Loading demand traces (CSV) onto a regular time grid, as ``facts.md`` §2 prescribes.

A trace is a CSV with a header; the first column is a timestamp (ISO 8601, ``YYYY-MM-DD HH:MM:SS`` or
unix seconds) and the second the demand in that interval. The step is the median spacing; every row
lands on grid point ``round((t - t0) / step)`` and grid points without a row are gaps (``NaN``).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from augur.constants import FloatArray

MIN_POINTS = 10


class TraceError(ValueError):
    """A trace that cannot be used; the message is one line meant for a person."""


@dataclass(frozen=True)
class Trace:
    """Demand on a regular grid; ``demand[i]`` is ``NaN`` where the trace has a gap."""

    name: str
    start: float
    """Unix seconds of grid point 0."""
    interval_seconds: float
    demand: FloatArray

    @property
    def steps(self) -> int:
        return int(self.demand.size)

    def tail(self, seconds: float) -> Trace:
        """The last ``seconds`` of the trace (whole steps), for benchmarks that use a documented subset."""
        keep = min(self.steps, max(1, math.floor(seconds / self.interval_seconds)))
        start = self.start + (self.steps - keep) * self.interval_seconds
        return Trace(self.name, start, self.interval_seconds, self.demand[self.steps - keep :].copy())

    def timestamps(self) -> FloatArray:
        """Unix seconds of every grid point."""
        return self.start + self.interval_seconds * np.arange(self.steps, dtype=np.float64)


def parse_timestamp(text: str) -> float:
    """Unix seconds from unix seconds, ISO 8601 or ``YYYY-MM-DD HH:MM:SS`` (naive times are UTC)."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds):
            return seconds
        raise ValueError(value)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _read_rows(path: Path) -> tuple[list[float], list[float]]:
    if not path.is_file():
        raise TraceError(f"trace file not found: {path}")
    times: list[float] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise TraceError(f"{path}: empty file (expected a header and rows of timestamp,value)")
        for line, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < 2:
                raise TraceError(f"{path}:{line}: expected two columns (timestamp,value), got {len(row)}")
            try:
                times.append(parse_timestamp(row[0]))
            except ValueError:
                raise TraceError(f"{path}:{line}: unparseable timestamp {row[0].strip()!r}") from None
            try:
                value = float(row[1])
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise TraceError(f"{path}:{line}: non-numeric demand value {row[1].strip()!r}")
            values.append(value)
    return times, values


def grid_trace(name: str, times: list[float], values: list[float]) -> Trace:
    """Place rows on the grid of their median spacing; rows sharing a grid point add up."""
    if len(times) < MIN_POINTS:
        raise TraceError(f"{name}: too few points: {len(times)} (need at least {MIN_POINTS})")
    order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
    t = np.asarray(times, dtype=np.float64)[order]
    v = np.asarray(values, dtype=np.float64)[order]
    step = float(np.median(np.diff(t)))
    if step <= 0:
        raise TraceError(f"{name}: timestamps repeat too often to find a step (median spacing is 0)")
    index = np.rint((t - t[0]) / step).astype(np.int64)
    demand = np.full(int(index[-1]) + 1, np.nan)
    filled = np.zeros(demand.size, dtype=bool)
    for i, value in zip(index.tolist(), v.tolist(), strict=True):
        demand[i] = value + (demand[i] if filled[i] else 0.0)
        filled[i] = True
    return Trace(name=name, start=float(t[0]), interval_seconds=step, demand=demand)


def load_trace(path: Path | str) -> Trace:
    """Read a CSV trace; raises :class:`TraceError` with a one-line message on bad input."""
    source = Path(path)
    times, values = _read_rows(source)
    return grid_trace(source.name, times, values)
