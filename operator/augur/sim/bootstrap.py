"""Block-bootstrap intervals for the ratios between two policies' metrics over the same steps.

Under-provisioning comes in bursts and demand is autocorrelated, so steps are not resampled one by one:
the circular block bootstrap (Politis and Romano, 1992) draws ``ceil(n / b)`` blocks of ``b``
consecutive evaluated steps (wrapping around the end), ``RESAMPLES`` times. Both policies are
resampled at the same steps (paired), and each ratio is a ratio of sums over the resample. Block length
``b = max(L + 1, round(sqrt(n)))``: longer than the lead time (a late scale-up spans ``L`` steps) and
about five hours at five-minute steps for two weeks of data. Seeded, so a report is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RESAMPLES = 1000
SEED = 0
LEVEL = 0.9


@dataclass(frozen=True)
class Interval:
    """A ratio and its bootstrap interval; ``None`` where undefined (0 / 0) or unbounded (x / 0)."""

    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | list[float | None] | None]:
        return {"value": self.value, "interval90": [self.low, self.high]}


def block_length(steps: int, lead_steps: int) -> int:
    """``max(L + 1, round(sqrt(n)))``, at most ``n``."""
    return max(1, min(steps, max(lead_steps + 1, round(math.sqrt(steps)))))


def resample_starts(steps: int, block: int, resamples: int = RESAMPLES, seed: int = SEED) -> npt.NDArray[np.int64]:
    """``resamples x ceil(steps / block)`` start positions of circular blocks."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, steps, size=(resamples, math.ceil(steps / block)), dtype=np.int64)


def block_sums(values: npt.NDArray[np.float64], block: int) -> npt.NDArray[np.float64]:
    """``sums[s]``: the sum of the ``block`` values from position ``s`` on, wrapping around the end."""
    n = values.size
    extended = np.concatenate([values, values[: block - 1]])
    cumulative: npt.NDArray[np.float64] = np.concatenate([[0.0], np.cumsum(extended)])
    sums: npt.NDArray[np.float64] = cumulative[block : block + n] - cumulative[:n]
    return sums


def _ratio(numerator: float, denominator: float) -> float:
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else math.nan


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def ratio_interval(
    numerator: npt.NDArray[np.float64],
    denominator: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    block: int,
) -> Interval:
    """``Σ numerator / Σ denominator`` with its central ``LEVEL`` interval over the resamples.

    Resamples where both sums are zero are left out; one where only the denominator is zero is an
    infinite ratio (an unbounded upper end, ``None``). ``value`` is ``None`` when the full-sample ratio is
    undefined or infinite.
    """
    value = _ratio(float(numerator.sum()), float(denominator.sum()))
    tops = block_sums(numerator, block)[starts].sum(axis=1)
    bottoms = block_sums(denominator, block)[starts].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(bottoms > 0, tops / np.where(bottoms > 0, bottoms, 1.0), np.where(tops > 0, np.inf, np.nan))
    ratios = np.sort(ratios[~np.isnan(ratios)])
    if not ratios.size:
        return Interval(_finite(value), None, None)
    tail = (1.0 - LEVEL) / 2.0
    low = float(ratios[math.floor(tail * (ratios.size - 1))])
    high = float(ratios[math.ceil((1.0 - tail) * (ratios.size - 1))])
    return Interval(_finite(value), _finite(low), _finite(high))
