"""What a :class:`~augur.scaling.loop.DemandLoop` learned, as a JSON-ready dict and back (pure).

Saved: the forecaster (model parameters and state, calibration, fingerprint), the timestamp of the last
value it consumed, when it was fitted and on how many points, the cost learner, the anomaly detector,
the learner's and the error tracker's pending forecasts, the learner's recent reactive asks, and recent
recommendations (scale-down stabilization). Not saved: demand history, which is re-read from Prometheus
after a restart; the restored model is then caught up with the values after ``modelEnd``. A model older
than the history that can be re-read is dropped (a fresh fit follows) and :func:`restore` says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from augur.forecast.anomaly import AnomalyDetector
from augur.forecast.persist import forecaster_from_dict, forecaster_to_dict
from augur.scaling.learner import LearnerState
from augur.scaling.loop import DemandLoop

VERSION = 1


def _key(ts: float) -> str:
    return f"{ts:.3f}"


def snapshot(loop: DemandLoop) -> dict[str, Any]:
    """Everything learned, JSON-ready (``NaN`` and infinities only inside the anomaly state)."""
    learner = asdict(loop.learner) if loop.learner is not None else None
    return {
        "version": VERSION,
        "stepSeconds": loop.config.step_seconds,
        "feeds": list(loop.config.feeds),
        "source": loop.config.source,
        "forecaster": forecaster_to_dict(loop.forecaster) if loop.forecaster is not None else None,
        "modelEnd": loop.model_end,
        "fitPoints": loop.fit_points,
        "lastFitAt": loop.last_fit_at,
        "learner": learner,
        "anomaly": plain(loop.anomaly.state()),
        "anomalyScore": loop.anomaly_score,
        "pending": {_key(ts): [list(f), floor, r] for ts, (f, floor, r) in loop.ledger.pending.items()},
        "reactiveAsks": {_key(ts): ask for ts, ask in loop.ledger.asks.items()},
        "predictions": {_key(ts): value for ts, value in loop.predictions.items()},
        "error": [loop.error_sum, loop.level_sum, loop.error_points],
        "recommendations": list(loop.recommendations),
        "seenUntil": loop.last_ts if loop.last_ts is not None else loop.seen_until,
    }


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` for frozen state values (dataclasses, tuples, numbers), without its deep
    copies: a tuple of scalars becomes a list in one call. The anomaly detector's shape memory (thousands
    of numbers) made ``asdict`` the most expensive part of a save."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        if value and (isinstance(value[0], tuple | list) or is_dataclass(value[0])):
            return [plain(v) for v in value]
        return list(value)
    return value


def restore(loop: DemandLoop, data: dict[str, Any], history_start: float | None) -> str:
    """Load ``data`` into a fresh ``loop`` (before any demand is ingested); returns what was restored,
    in words for the log and status. ``history_start`` is where the re-read history will begin."""
    try:
        refused = _refused(loop, data)
        seen = data.get("seenUntil")
        seen_until = None if seen is None else float(seen)
    except Unreadable as exc:
        return f"saved state unreadable ({exc!r}); starting fresh"
    if refused is not None:
        return refused
    loop.seen_until = seen_until
    parts: list[str] = []
    _guarded(parts, "learner", "it starts from the policy's quantile", lambda: _restore_learner(loop, data, parts))
    _guarded(parts, "anomaly detector", "it learns again from new points", lambda: _restore_anomaly(loop, data, parts))
    _guarded(parts, "pending forecasts", "scored again from the next forecast", lambda: _restore_pending(loop, data))
    _guarded(parts, "model", "refitting", lambda: _restore_model(loop, data, history_start, parts))
    return "restored " + ", ".join(parts) if parts else "nothing to restore"


def _refused(loop: DemandLoop, data: dict[str, Any]) -> str | None:
    """Why the saved state as a whole does not fit this loop, or None when it does."""
    if data.get("version") != VERSION:
        return f"saved state has version {data.get('version')!r}, expected {VERSION}; starting fresh"
    if not math.isclose(float(data.get("stepSeconds") or 0.0), loop.config.step_seconds):
        return "saved state was learned at another demand step; starting fresh"
    if data.get("source", "") != loop.config.source:
        return "saved state was learned from another demand query or feeds; starting fresh"
    return None


Unreadable = (ValueError, KeyError, TypeError, IndexError, AttributeError)
"""What a saved part that this release cannot read raises while it is loaded (``AttributeError``: a JSON
list or number where an object was saved)."""


def _guarded(parts: list[str], name: str, consequence: str, load: Callable[[], None]) -> None:
    """Run ``load``; when the saved part is unreadable, say so in ``parts`` and leave the fresh value.

    A saved part that cannot be read (an older or hand-edited state) must not fail the whole restore:
    the reconcile would raise again on every retry and the profile would never decide."""
    try:
        load()
    except Unreadable as exc:
        parts.append(f"no {name} ({exc!r}; {consequence})")


def _restore_learner(loop: DemandLoop, data: dict[str, Any], parts: list[str]) -> None:
    raw = data.get("learner")
    if raw is not None and loop.learner is not None:
        loop.learner = _learner(raw)
        parts.append(f"learner (quantile {loop.learner.chosen:g})")


def _restore_anomaly(loop: DemandLoop, data: dict[str, Any], parts: list[str]) -> None:
    # the history re-read is already behind ``seenUntil``: a fresh detector learns from new points only
    if data.get("anomaly") is not None:
        score = data.get("anomalyScore")
        detector = AnomalyDetector.from_state(data["anomaly"])
        loop.anomaly, loop.anomaly_score = detector, None if score is None else float(score)
        parts.append("anomaly detector")


def _restore_pending(loop: DemandLoop, data: dict[str, Any]) -> None:
    """Forecasts awaiting their actual values, recent reactive asks, the error sums and recent
    recommendations; all or none (a state saved before reactive asks were kept has none)."""
    pending = {
        float(k): (tuple(float(x) for x in v[0]), int(v[1]), None if v[2] is None else int(v[2]))
        for k, v in (data.get("pending") or {}).items()
    }
    asks = {float(k): int(v) for k, v in (data.get("reactiveAsks") or {}).items()}
    predictions = {float(k): float(v) for k, v in (data.get("predictions") or {}).items()}
    error = data.get("error") or [0.0, 0.0, 0]
    sums = float(error[0]), float(error[1]), int(error[2])
    recommendations = [int(r) for r in data.get("recommendations") or []]
    loop.ledger.pending, loop.ledger.asks = pending, asks
    loop.predictions, loop.recommendations = predictions, recommendations
    loop.error_sum, loop.level_sum, loop.error_points = sums


def _restore_model(loop: DemandLoop, data: dict[str, Any], history_start: float | None, parts: list[str]) -> None:
    """The saved forecaster, when it fits this loop; ``parts`` says what happened. Raises one of
    :data:`Unreadable` (before changing ``loop``) when the saved model cannot be read."""
    model_end = data.get("modelEnd")
    raw = data.get("forecaster")
    if raw is None or model_end is None:
        return
    if list(data.get("feeds") or []) != list(loop.config.feeds):
        parts.append("no model (spec.feeds changed; refitting)")
    elif history_start is not None and float(model_end) < history_start - loop.config.step_seconds:
        parts.append("no model (older than the history Prometheus keeps; refitting)")
    else:
        forecaster = forecaster_from_dict(raw)
        fit_points, fitted_at = int(data.get("fitPoints") or 0), data.get("lastFitAt")
        last_fit_at = None if fitted_at is None else float(fitted_at)
        if forecaster.settings != loop.config.forecast_settings():
            parts.append("no model (the policy's step or lead time changed; refitting)")
            return
        loop.forecaster, loop.model_end = forecaster, float(model_end)
        loop.fit_points, loop.last_fit_at = fit_points, last_fit_at
        parts.insert(0, f"model {forecaster.model_name}")


def _learner(raw: dict[str, Any]) -> LearnerState:
    return LearnerState(
        quantiles=tuple(float(q) for q in raw["quantiles"]),
        costs=tuple(float(c) for c in raw["costs"]),
        chosen=float(raw["chosen"]),
        decay=float(raw["decay"]),
        budget=None if raw.get("budget") is None else float(raw["budget"]),
        spend=tuple(float(c) for c in raw.get("spend") or ()),
        baseline=float(raw.get("baseline") or 0.0),
    )
