"""Lead time measured from the workload's own pods: how long a new replica takes from creation to Ready.

Each pod that became Ready counts once, as ``Ready.lastTransitionTime - creationTimestamp``; the estimate
is a percentile (default p90) of the last ``window`` startups. Pods are counted in the order they became
Ready, past a watermark, so re-reading the same pods never counts them twice and the state stays small and
serialisable (:meth:`LeadTimeState.to_dict`). Pods that restarted a container are skipped by the reader
(their Ready time is not their startup); durations outside ``[0, MAX_STARTUP_SECONDS]`` are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

WINDOW = 20
"""Startups kept (the rolling window)."""
PERCENTILE = 0.9
MIN_SAMPLES = 3
"""Startups needed before the measurement is used."""
MAX_STARTUP_SECONDS = 3600.0


@dataclass(frozen=True)
class PodStartup:
    """One pod's way to Ready: ``ready_at`` is epoch seconds, ``seconds`` the time from creation."""

    uid: str
    ready_at: float
    seconds: float


@dataclass(frozen=True)
class LeadTimeState:
    samples: tuple[float, ...] = ()
    """Startup durations in seconds, oldest first, at most ``WINDOW``."""
    watermark: float = 0.0
    """``ready_at`` of the newest counted startup."""
    at_watermark: tuple[str, ...] = ()
    """UIDs already counted whose ``ready_at`` equals the watermark (times have one-second resolution)."""

    def to_dict(self) -> dict[str, Any]:
        return {"samples": list(self.samples), "watermark": self.watermark, "atWatermark": list(self.at_watermark)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> LeadTimeState:
        """Restore; anything malformed starts afresh rather than failing."""
        if not raw:
            return cls()
        try:
            samples = tuple(float(x) for x in raw.get("samples", []))[-WINDOW:]
            return cls(samples, float(raw.get("watermark", 0.0)), tuple(str(u) for u in raw.get("atWatermark", [])))
        except (TypeError, ValueError, AttributeError):
            return cls()


def observe(state: LeadTimeState, startups: Iterable[PodStartup], window: int = WINDOW) -> LeadTimeState:
    """Add the startups not counted yet."""
    new = sorted(
        (
            s
            for s in startups
            if s.ready_at > state.watermark or (s.ready_at == state.watermark and s.uid not in state.at_watermark)
        ),
        key=lambda s: (s.ready_at, s.uid),
    )
    if not new:
        return state
    watermark = new[-1].ready_at
    at_watermark = tuple(s.uid for s in new if s.ready_at == watermark)
    if watermark == state.watermark:
        at_watermark = state.at_watermark + at_watermark
    samples = state.samples + tuple(s.seconds for s in new if 0.0 <= s.seconds <= MAX_STARTUP_SECONDS)
    return LeadTimeState(samples[-window:], watermark, at_watermark)


def estimate(state: LeadTimeState, percentile: float = PERCENTILE, min_samples: int = MIN_SAMPLES) -> float | None:
    """The ``percentile`` of the kept startups (linear interpolation); None until ``min_samples`` exist."""
    if len(state.samples) < min_samples:
        return None
    return float(np.quantile(np.asarray(state.samples), percentile))
