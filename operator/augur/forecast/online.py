"""Online (conformal) calibration of the near horizons: error quantiles of the forecasts actually made.

The rolling-origin calibration (:mod:`augur.forecast.quantiles`) is measured once per fit, on the
validation window of the history; between refits (a day) it cannot follow a change in volatility. At
short steps (one minute, a two-minute lead) what matters is the next few steps' increments, and those
come in bursts. :class:`OnlineCalibration` keeps, for each horizon ``h = 1 … K`` (``K`` the target
horizon: the lead time plus one step), the errors of the live forecasts made ``h`` steps before each
observation, in a ring of the last ``window`` observations (split conformal on a sliding window: the
quantiles keep their coverage as the data shift, because old errors leave the window).

Errors are **normalized by the local scale** of the series, an exponential average of its absolute
one-step increments (``scale_alpha``; 0 turns normalization off), measured at the forecast's origin:
a quantile of normalized errors times the current scale widens the interval as soon as a burst starts
and narrows it when the series calms down, where a plain window of errors needs ``window`` steps. That
is the lead-time increment distribution learned online: ``y(t + h) − ŷ(t + h)`` in units of the typical
increment.

Causality: an error enters only when its observation arrives, and the forecast it scores was stored
before that observation was seen (``observe`` records the errors first, then stores the next path).
Until a horizon has ``min_samples`` errors the static calibration is used for it.

The state is small (``K × K`` pending forecasts and ``K × window`` errors) and immutable: every
``observe`` returns a new value, as :class:`~augur.forecast.forecaster.Forecaster` requires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from augur.constants import FloatArray
from augur.forecast.checks import outside, too_small

SCALE_POINTS = 64
"""History points used to start the local scale at a fit."""


@dataclass(frozen=True)
class OnlineSettings:
    """How the near horizons are calibrated online (``window`` 0 turns it off)."""

    window: int = 500
    """Errors kept per horizon (the sliding window of the conformal quantiles)."""
    min_samples: int = 50
    """Errors a horizon needs before its online quantiles replace the static ones."""
    scale_alpha: float = 0.2
    """Weight of the newest absolute increment in the local scale (0: errors are not normalized)."""
    max_horizon: int = 16
    """Horizons calibrated online at most (farther ones keep the static calibration)."""
    min_horizons: int = 3
    """Only when the target horizon (lead-time steps + 1) is at least this: the short-horizon regime
    (a lead of two steps or more, e.g. one-minute steps and a two-minute lead). On the development
    series at five-minute and hourly steps (lead of one step) it did not reduce under-provisioning
    (``bench/results/online_search.json``, ``docs/forecasting.md``)."""

    def __post_init__(self) -> None:
        problems = too_small(
            (
                ("window", self.window, 0),
                ("min_samples", self.min_samples, 1),
                ("max_horizon", self.max_horizon, 1),
                ("min_horizons", self.min_horizons, 1),
            )
        )
        problems += outside("scale_alpha", self.scale_alpha, 0.0, 1.0)
        if problems:
            raise ValueError("invalid OnlineSettings: " + "; ".join(problems))


@dataclass(frozen=True)
class OnlineCalibration:
    """Pending forecasts and recent normalized errors of horizons ``1 … horizons``."""

    settings: OnlineSettings
    pending: FloatArray
    """``pending[j % K]``: the forecast path (``K`` steps) made at origin ``j``."""
    pending_scale: FloatArray
    """``pending_scale[j % K]``: the local scale at origin ``j``."""
    errors: FloatArray
    """``errors[h - 1, i % window]``: the ``i``-th normalized error at horizon ``h``."""
    counts: tuple[int, ...]
    """Errors recorded per horizon (the ring holds the last ``window``)."""
    origins: int
    """Forecast paths stored so far (the latest is ``pending[(origins - 1) % K]``)."""
    scale: float
    last: float

    @property
    def horizons(self) -> int:
        return int(self.pending.shape[0])

    def observe(self, value: float, path: FloatArray) -> OnlineCalibration:
        """Record the errors of ``value`` against the pending forecasts, then store ``path`` (the
        forecast made after ``value`` was seen, for the next ``K`` steps). ``NaN`` is a gap: no error,
        no scale update, the path is still stored (the model advanced on its own forecast)."""
        k, n = self.horizons, self.origins
        errors, counts, scale, last = self.errors, self.counts, self.scale, self.last
        if math.isfinite(value):
            errors = errors.copy()
            new_counts = list(counts)
            for h in range(1, min(k, n) + 1):
                slot = (n - h) % k
                predicted = self.pending[slot, h - 1]
                if math.isfinite(predicted):
                    errors[h - 1, new_counts[h - 1] % errors.shape[1]] = (value - predicted) / self._unit(
                        float(self.pending_scale[slot])
                    )
                    new_counts[h - 1] += 1
            counts = tuple(new_counts)
            if math.isfinite(last) and self.settings.scale_alpha > 0:
                a = self.settings.scale_alpha
                scale = (1 - a) * scale + a * abs(value - last)
            last = value
        pending, pending_scale = self.pending.copy(), self.pending_scale.copy()
        pending[n % k] = path[:k]
        pending_scale[n % k] = scale
        return OnlineCalibration(self.settings, pending, pending_scale, errors, counts, n + 1, scale, last)

    def restart(self, path: FloatArray) -> OnlineCalibration:
        """A refit replaced the model at the same point of the series: its path replaces the latest one."""
        k = self.horizons
        pending = self.pending.copy()
        pending[(self.origins - 1) % k] = path[:k]
        return replace(self, pending=pending)

    def _unit(self, scale: float) -> float:
        """The normalizing unit (1 when normalization is off), never 0."""
        if self.settings.scale_alpha <= 0:
            return 1.0
        return max(scale, 1e-6 * (abs(self.last) + 1.0) if math.isfinite(self.last) else 1e-6)

    def grid(self, horizons: FloatArray, levels: tuple[float, ...]) -> tuple[FloatArray, FloatArray]:
        """Error quantiles at ``horizons`` x ``levels`` in the data's units, and a mask of the rows that
        have enough errors to be used (the others are zero)."""
        h = np.asarray(horizons, dtype=np.int64)
        out = np.zeros((h.size, len(levels)))
        ready = np.zeros(h.size, dtype=bool)
        unit = self._unit(self.scale)
        window = self.errors.shape[1]
        rows = [
            (i, horizon - 1)
            for i, horizon in enumerate(h.tolist())
            if 1 <= horizon <= self.horizons and self.counts[horizon - 1] >= self.settings.min_samples
        ]
        sizes = {min(self.counts[j], window) for _, j in rows}
        if len(sizes) == 1:  # the usual case (every ring full): one vectorized call
            size = sizes.pop()
            table = np.quantile(self.errors[[j for _, j in rows], :size], levels, axis=1).T
            for (i, _), row in zip(rows, table, strict=True):
                out[i] = row * unit
                ready[i] = True
            return out, ready
        for i, j in rows:
            out[i] = np.quantile(self.errors[j, : min(self.counts[j], window)], levels) * unit
            ready[i] = True
        return out, ready

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` restores it exactly)."""
        return {
            "settings": {
                "window": self.settings.window,
                "minSamples": self.settings.min_samples,
                "scaleAlpha": self.settings.scale_alpha,
                "maxHorizon": self.settings.max_horizon,
                "minHorizons": self.settings.min_horizons,
            },
            "pending": [[_num(x) for x in row] for row in self.pending.tolist()],
            "pendingScale": [_num(x) for x in self.pending_scale.tolist()],
            "errors": [
                [_num(x) for x in row[: min(c, self.errors.shape[1])]]
                for row, c in zip(self.errors.tolist(), self.counts, strict=True)
            ],
            "counts": list(self.counts),
            "origins": self.origins,
            "scale": _num(self.scale),
            "last": _num(self.last),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnlineCalibration:
        raw = data["settings"]
        settings = OnlineSettings(
            int(raw["window"]),
            int(raw["minSamples"]),
            float(raw["scaleAlpha"]),
            int(raw["maxHorizon"]),
            int(raw.get("minHorizons", 1)),
        )
        pending = np.array([[_unnum(x) for x in row] for row in data["pending"]], dtype=np.float64)
        errors = np.zeros((pending.shape[0], settings.window))
        for i, row in enumerate(data["errors"]):
            errors[i, : len(row)] = [_unnum(x) for x in row]
        return cls(
            settings,
            pending,
            np.array([_unnum(x) for x in data["pendingScale"]], dtype=np.float64),
            errors,
            tuple(int(c) for c in data["counts"]),
            int(data["origins"]),
            _unnum(data["scale"]),
            _unnum(data["last"]),
        )


def start_online(
    settings: OnlineSettings, horizons: int, history: FloatArray, path: FloatArray
) -> OnlineCalibration | None:
    """A fresh online calibration for a model just fitted on ``history``, whose forecast is ``path``
    (``None`` when turned off)."""
    if settings.window <= 0 or horizons < max(1, settings.min_horizons):
        return None
    k = min(horizons, settings.max_horizon)
    finite = history[np.isfinite(history)]
    steps = np.abs(np.diff(finite[-SCALE_POINTS:])) if finite.size > 1 else np.zeros(0)
    scale = float(np.mean(steps)) if steps.size else 0.0
    last = float(finite[-1]) if finite.size else math.nan
    pending = np.full((k, k), np.nan)
    pending[0] = path[:k]
    pending_scale = np.full(k, scale)
    return OnlineCalibration(settings, pending, pending_scale, np.zeros((k, settings.window)), (0,) * k, 1, scale, last)


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _unnum(x: float | None) -> float:
    return math.nan if x is None else float(x)
