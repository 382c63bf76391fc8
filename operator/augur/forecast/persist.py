"""JSON-ready forms of what a forecaster learned, so a restarted operator continues without a cold start.

:func:`forecaster_to_dict` / :func:`forecaster_from_dict` cover the chosen model's parameters *and*
state (levels, seasonal terms, residuals), the quantile calibration, the fingerprint and the settings.
Round trips are exact: floats are written with ``repr`` precision, ``NaN`` as ``null``. Every dict
carries ``version``; an unknown version raises :class:`ValueError` (the caller then refits).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from augur.constants import FloatArray
from augur.forecast.arima import DifferencedArima
from augur.forecast.autoreg import AutoRegression
from augur.forecast.combination import Combination
from augur.forecast.fingerprint import Fingerprint, HistoryStatus
from augur.forecast.forecaster import Forecaster, ForecastSettings
from augur.forecast.level import MedianLevel, SmoothLevel
from augur.forecast.models import Decomposed, FittedModel, HoltWinters, SeasonalNaive
from augur.forecast.online import OnlineCalibration, OnlineSettings
from augur.forecast.quantiles import Calibration
from augur.forecast.regression import HarmonicArima
from augur.forecast.sf_models import SfArima, SfDecomposed, SfEts, sf_model_from_dict, sf_model_to_dict

VERSION = 1


def _floats(values: Any) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in np.asarray(values, dtype=np.float64).ravel().tolist()]


def _array(values: list[float | None]) -> FloatArray:
    return np.asarray([math.nan if v is None else v for v in values], dtype=np.float64)


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _unnum(value: float | None) -> float:
    return math.nan if value is None else float(value)


def model_to_dict(model: FittedModel) -> dict[str, Any]:
    """The model's parameters and state; ``type`` names the class."""
    if isinstance(model, SeasonalNaive):
        return {
            "type": "SeasonalNaive",
            "period": model.period,
            "buffer": _floats(model.buffer),
            "t": model.t,
            "last": _num(model.last),
        }
    if isinstance(model, HoltWinters):
        scalars = {k: _num(getattr(model, k)) for k in ("alpha", "beta", "gamma", "phi", "level", "trend")}
        return {
            "type": "HoltWinters",
            **scalars,
            "period": model.period,
            "season": _floats(model.season),
            "t": model.t,
            "trended": model.trended,
        }
    if isinstance(model, Decomposed):
        return {
            "type": "Decomposed",
            "periods": list(model.periods),
            "profiles": [_floats(p) for p in model.profiles],
            "inner": model_to_dict(model.inner),
        }
    if isinstance(model, HarmonicArima):
        return {
            "type": "HarmonicArima",
            "periods": list(model.periods),
            "harmonics": model.harmonics,
            "beta": _floats(model.beta),
            "ar": list(model.ar),
            "residuals": [_num(r) for r in model.residuals],
            "feeds": model.feeds,
            "lastFeed": _floats(model.last_feed),
            "t": model.t,
        }
    if isinstance(model, SfEts | SfArima | SfDecomposed):
        return sf_model_to_dict(model)
    if isinstance(model, AutoRegression):
        return {
            "type": "AutoRegression",
            "const": model.const,
            "phi": _floats(model.phi),
            "lags": _floats(model.lags),
            "t": model.t,
        }
    if isinstance(model, DifferencedArima):
        return {
            "type": "DifferencedArima",
            "phi": model.phi,
            "theta": model.theta,
            "last": _num(model.last),
            "change": _num(model.change),
            "innovation": _num(model.innovation),
        }
    if isinstance(model, MedianLevel):
        return {
            "type": "MedianLevel",
            "recent": _floats(model.recent),
            "t": model.t,
            "follow": model.follow,
        }
    if isinstance(model, SmoothLevel):
        return {"type": "SmoothLevel", "alpha": model.alpha, "level": _num(model.level), "t": model.t}
    if isinstance(model, Combination):
        return {
            "type": "Combination",
            "labels": list(model.labels),
            "members": [model_to_dict(m) for m in model.members],
        }
    raise ValueError(f"cannot serialise model {type(model).__name__}")


def _holt(data: dict[str, Any]) -> HoltWinters:
    return HoltWinters(
        alpha=_unnum(data["alpha"]),
        beta=_unnum(data["beta"]),
        gamma=_unnum(data["gamma"]),
        phi=_unnum(data["phi"]),
        level=_unnum(data["level"]),
        trend=_unnum(data["trend"]),
        period=int(data["period"]),
        season=_array(data["season"]),
        t=int(data["t"]),
        trended=bool(data.get("trended", True)),
    )


def model_from_dict(data: dict[str, Any]) -> FittedModel:
    kind = data.get("type")
    if kind == "SeasonalNaive":
        return SeasonalNaive(int(data["period"]), _array(data["buffer"]), int(data["t"]), _unnum(data["last"]))
    if kind == "HoltWinters":
        return _holt(data)
    if kind == "Decomposed":
        profiles = tuple(_array(p) for p in data["profiles"])
        return Decomposed(tuple(int(p) for p in data["periods"]), profiles, _holt(data["inner"]))
    if kind == "HarmonicArima":
        return HarmonicArima(
            periods=tuple(int(p) for p in data["periods"]),
            harmonics=int(data["harmonics"]),
            beta=_array(data["beta"]),
            ar=tuple(float(a) for a in data["ar"]),
            residuals=tuple(_unnum(r) for r in data["residuals"]),
            feeds=int(data["feeds"]),
            last_feed=_array(data["lastFeed"]),
            t=int(data["t"]),
        )
    if kind in ("SfEts", "SfArima", "SfDecomposed"):
        return sf_model_from_dict(data)
    if kind == "AutoRegression":
        return AutoRegression(float(data["const"]), _array(data["phi"]), _array(data["lags"]), int(data["t"]))
    if kind == "DifferencedArima":
        return DifferencedArima(
            float(data["phi"]),
            float(data["theta"]),
            _unnum(data["last"]),
            _unnum(data["change"]),
            _unnum(data["innovation"]),
        )
    if kind == "MedianLevel":
        return MedianLevel(_array(data["recent"]), int(data["t"]), bool(data.get("follow")))
    if kind == "SmoothLevel":
        return SmoothLevel(float(data["alpha"]), _unnum(data["level"]), int(data["t"]))
    if kind == "Combination":
        members = tuple(model_from_dict(m) for m in data["members"])
        return Combination(members, tuple(str(label) for label in data["labels"]))
    raise ValueError(f"unknown model type {kind!r}")


def calibration_to_dict(calibration: Calibration) -> dict[str, Any]:
    return {
        "horizons": list(calibration.horizons),
        "levels": list(calibration.levels),
        "table": [_floats(row) for row in calibration.table],
    }


def calibration_from_dict(data: dict[str, Any]) -> Calibration:
    table = np.vstack([_array(row) for row in data["table"]]) if data["table"] else np.zeros((0, len(data["levels"])))
    return Calibration(tuple(int(h) for h in data["horizons"]), tuple(float(x) for x in data["levels"]), table)


def forecaster_to_dict(forecaster: Forecaster) -> dict[str, Any]:
    """Everything :func:`forecaster_from_dict` needs to rebuild ``forecaster`` exactly."""
    settings = asdict(forecaster.settings)
    settings["candidates"] = list(forecaster.settings.candidates)
    return {
        "version": VERSION,
        "settings": settings,
        "fingerprint": forecaster.fingerprint.to_dict(),
        "history": asdict(forecaster.history),
        "model": model_to_dict(forecaster.model),
        "calibration": calibration_to_dict(forecaster.calibration),
        "scores": [[name, _num(score)] for name, score in forecaster.scores],
        "floor": forecaster.floor,
        "chosen": forecaster.chosen,
        "relativeError": _num(forecaster.relative_error),
        "periods": list(forecaster.periods),
        "refitsSinceSelection": forecaster.refits_since_selection,
        "selectedPoints": forecaster.selected_points,
        "online": None if forecaster.online is None else forecaster.online.as_dict(),
    }


def forecaster_from_dict(data: dict[str, Any]) -> Forecaster:
    if data.get("version") != VERSION:
        raise ValueError(f"unsupported forecaster state version {data.get('version')!r} (expected {VERSION})")
    raw = dict(data["settings"])
    raw["candidates"] = tuple(raw["candidates"])
    if isinstance(raw.get("online"), dict):
        raw["online"] = OnlineSettings(**raw["online"])
    fp = dict(data["fingerprint"])
    return Forecaster(
        settings=ForecastSettings(**raw),
        fingerprint=Fingerprint.from_dict(fp),
        history=HistoryStatus(**data["history"]),
        model=model_from_dict(data["model"]),
        calibration=calibration_from_dict(data["calibration"]),
        scores=tuple((str(name), _unnum(score)) for name, score in data["scores"]),
        floor=None if data["floor"] is None else float(data["floor"]),
        chosen=str(data["chosen"]),
        relative_error=_unnum(data["relativeError"]),
        periods=tuple(int(p) for p in data["periods"]),
        refits_since_selection=int(data["refitsSinceSelection"]),
        selected_points=int(data["selectedPoints"]),
        online=OnlineCalibration.from_dict(data["online"]) if data.get("online") else None,
    )
