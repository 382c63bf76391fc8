"""Nixtla statsforecast models (AutoETS, AutoARIMA, MSTL) as Augur forecasting models.

Each is estimated by statsforecast (the expensive part) and then kept as a small frozen state with the
same contract as :mod:`augur.forecast.models`: :meth:`update` applies one observation with the fitted
parameters fixed, :meth:`forecast` returns point forecasts. The updates are causal and use statsforecast's
own recursions:

- ``sf_autoets``: the ETS state (level, slope, seasonal terms) advanced by statsforecast's compiled ETS
  ``update``; forecasts by its ``forecast``. statsforecast's ETS (like R's ``ets``) ignores seasons longer
  than 24 steps, so on 5-minute or 1-minute data it is non-seasonal.
- ``sf_autoarima``: the Kalman state of the fitted ARIMA advanced by statsforecast's ``arima_like``
  (one observation at a time, parameters fixed), plus its intercept or drift. Seasonal only for seasons of
  at most ``MAX_SEASON`` steps (a seasonal ARIMA's state grows with the period). The order search is
  bounded (:data:`ARIMA_SEARCH`, on the last :data:`ARIMA_POINTS` points) so that a fit costs about
  what Augur's whole selection costs, not 10-100x.
- ``sf_mstl``: statsforecast's MSTL with its default AutoETS(ZZN) trend forecaster. Between refits the
  seasonal components stay fixed (the last cycle of each, as statsforecast forecasts them) and only the
  ETS trend model is updated, on the seasonally adjusted value. ``MSTL.forward(fitted=True)`` is not
  used: it re-decomposes the whole series, later points included.

statsforecast is an optional dependency (``pip install 'augur[statsforecast]'``); it is imported only
when one of these models is fitted or updated.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np

from augur.constants import FloatArray
from augur.forecast.series import fill_gaps

SF_CANDIDATES = ("sf_autoets", "sf_autoarima", "sf_mstl")
SF_SELECTABLE = ("sf_autoets", "sf_autoarima")
"""The statsforecast models offered to Augur's rolling-origin selection in the ``augur_sf`` policy
(``sf_mstl`` is left out: on data with seasons longer than 24 steps it is Augur's ``mstl`` with a
non-seasonal AutoETS trend, at 2-10x the fit cost)."""
MAX_SEASON = 24
"""Longest season given to AutoETS (its own limit) and AutoARIMA."""
FIT_POINTS = 4032
ARIMA_POINTS = 2016
"""AutoARIMA's sliding window (one week at five minutes): its stepwise search costs about linearly in it."""
ARIMA_SEARCH: dict[str, Any] = {
    "approximation": True,
    "max_p": 3,
    "max_q": 3,
    "max_P": 1,
    "max_Q": 1,
    "max_order": 4,
    "nmodels": 30,
}
"""Bounds of AutoARIMA's stepwise search (statsforecast's defaults: no approximation, p and q up to 5, P
and Q up to 2, order sum 5, 94 models). ``approximation`` scores orders by conditional sum of squares and
refits only the chosen one by maximum likelihood. Measured on two 5-minute series at load average 30:
0.3-0.8 s of CPU per fit instead of 2.5-4.7 s with the defaults on 4,032 points."""


class StatsforecastMissingError(ImportError):
    """statsforecast is not installed."""


@cache
def _sf() -> Any:
    try:
        import statsforecast.arima as sf_arima
        import statsforecast.ets as sf_ets
        import statsforecast.models as sf_models
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise StatsforecastMissingError(
            "the sf_* forecasters need statsforecast: pip install 'augur[statsforecast]'"
        ) from exc

    class Modules:
        ets = sf_ets
        arima = sf_arima
        models = sf_models

    return Modules


def statsforecast_available() -> bool:
    """Whether statsforecast can be imported."""
    try:
        _sf()
    except StatsforecastMissingError:
        return False
    return True


def _season(primary: int, n: int) -> int:
    return primary if 2 <= primary <= MAX_SEASON and n >= 2 * primary + 2 else 1


@dataclass(frozen=True)
class SfEts:
    """A fitted statsforecast ETS model's final state; ``seasonal[0]`` is the most recent seasonal term."""

    label: str
    components: str
    """statsforecast's ``components``: error, trend, season (``N``/``A``/``M``), damped (``Y``/``N``)."""
    alpha: float
    beta: float
    gamma: float
    phi: float
    m: int
    level: float
    slope: float
    seasonal: FloatArray

    @property
    def name(self) -> str:
        return self.label

    def _kinds(self) -> tuple[Any, Any]:
        switch = _sf().ets.switch
        return switch(self.components[1]), switch(self.components[2])

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        trend, season = self._kinds()
        out = np.zeros(steps)
        seasonal = self.seasonal.copy()
        _sf().ets._ets.forecast(out, self.level, self.slope, seasonal, self.m, trend, season, self.phi, steps)
        return out

    def update(self, value: float, exog: FloatArray | None = None) -> SfEts:
        y = float(self.forecast(1)[0]) if math.isnan(value) else value
        trend, season = self._kinds()
        seasonal = np.zeros_like(self.seasonal)
        level, slope = _sf().ets._ets.update(
            seasonal, self.level, self.slope, self.level, self.slope, self.seasonal.copy(), self.m,
            trend, season, self.alpha, self.beta, self.gamma, self.phi, y,
        )  # fmt: skip
        if not (math.isfinite(level) and math.isfinite(slope) and np.isfinite(seasonal).all()):
            if math.isnan(value):
                return self
            return self.update(math.nan)
        if self.components[2] == "N":
            seasonal = self.seasonal
        return replace(self, level=float(level), slope=float(slope), seasonal=seasonal)


def ets_state(model: dict[str, Any], label: str) -> SfEts:
    """The final state of a fitted statsforecast ETS model (``AutoETS().fit(y).model_``)."""
    components = str(model["components"])
    par = np.nan_to_num(np.asarray(model["par"], dtype=np.float64)[:4])
    states = np.asarray(model["states"], dtype=np.float64)[-1]
    has_trend = components[1] != "N"
    m = int(model["m"]) if components[2] != "N" else 1
    seasonal = np.zeros(max(m, 1))
    if components[2] != "N":
        seasonal[:m] = states[1 + has_trend : 1 + has_trend + m]
    return SfEts(
        label=label,
        components=components,
        alpha=float(par[0]),
        beta=float(par[1]) if has_trend else 0.0,
        gamma=float(par[2]) if components[2] != "N" else 0.0,
        phi=float(par[3]) if components[3] == "Y" else 1.0,
        m=max(m, 1),
        level=float(states[0]),
        slope=float(states[1]) if has_trend else 0.0,
        seasonal=seasonal,
    )


def fit_sf_autoets(y: FloatArray, primary: int, max_points: int = FIT_POINTS) -> SfEts:
    """statsforecast ``AutoETS`` (model ``ZZZ``, AICc) on the recent history."""
    data = fill_gaps(y)[-max_points:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = _sf().models.AutoETS(season_length=_season(primary, data.size)).fit(data)
    return ets_state(fitted.model_, "sf_autoets")


@dataclass(frozen=True)
class SfArima:
    """A fitted statsforecast ARIMA model: its state-space form and Kalman state, plus the regression."""

    # statsforecast's state-space names: Z (observation), T (transition), V (noise), a and P (Kalman state)
    phi: FloatArray
    theta: FloatArray
    delta: FloatArray
    Z: FloatArray
    T: FloatArray
    V: FloatArray
    a: FloatArray
    P: FloatArray
    intercept: float
    drift: float
    n: int
    """Observations since the start of the fit window (the drift regressor of the next one is ``n + 1``)."""

    @property
    def name(self) -> str:
        return "sf_autoarima"

    def _mean(self, start: int, steps: int) -> FloatArray:
        return self.intercept + self.drift * np.arange(start + 1, start + steps + 1, dtype=np.float64)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        out = np.empty(steps)
        a = self.a
        for k in range(steps):
            a = self.T @ a
            out[k] = float(self.Z @ a)
        return np.asarray(out + self._mean(self.n, steps), dtype=np.float64)

    def update(self, value: float, exog: FloatArray | None = None) -> SfArima:
        a, p = self.a.copy(), self.P.copy()
        # The predicted covariance of this step, T P T' + V, given as ``Pn`` with ``up = 0`` (statsforecast's
        # filter takes ``Pn`` as given at its first step): one step of the same Kalman filter as the fit.
        pn = self.T @ p @ self.T.T + self.V
        x = np.asarray([value - float(self._mean(self.n, 1)[0])])
        _sf().arima.arima_like(x, self.phi, self.theta, self.delta, a, p, pn, 0, False)
        if not (np.isfinite(a).all() and np.isfinite(p).all()):
            return replace(self, n=self.n + 1) if math.isnan(value) else self.update(math.nan)
        return replace(self, a=a, P=p, n=self.n + 1)


def fit_sf_autoarima(y: FloatArray, primary: int, max_points: int = ARIMA_POINTS) -> SfArima:
    """statsforecast ``AutoARIMA`` (stepwise, AICc, search bounded by :data:`ARIMA_SEARCH`) on the recent
    history."""
    data = fill_gaps(y)[-max_points:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _sf().models.AutoARIMA(season_length=_season(primary, data.size), **ARIMA_SEARCH)
        fitted = model.fit(data)
    model = fitted.model_
    coef = dict(model["coef"])
    mod = model["model"]
    return SfArima(
        phi=np.asarray(mod["phi"], dtype=np.float64),
        theta=np.asarray(mod["theta"], dtype=np.float64),
        delta=np.asarray(mod["delta"], dtype=np.float64),
        Z=np.asarray(mod["Z"], dtype=np.float64),
        T=np.asarray(mod["T"], dtype=np.float64),
        V=np.asarray(mod["V"], dtype=np.float64),
        a=np.asarray(mod["a"], dtype=np.float64).copy(),
        P=np.asarray(mod["P"], dtype=np.float64).copy(),
        intercept=float(coef.get("intercept", 0.0)),
        drift=float(coef.get("drift", 0.0)),
        n=int(data.size),
    )


@dataclass(frozen=True)
class SfDecomposed:
    """statsforecast MSTL: fixed seasonal cycles (by absolute phase) plus its ETS trend model, updated."""

    periods: tuple[int, ...]
    profiles: tuple[FloatArray, ...]
    trend: SfEts
    t: int

    @property
    def name(self) -> str:
        return "sf_mstl"

    def _seasonal(self, start: int, steps: int) -> FloatArray:
        idx = start + np.arange(steps, dtype=np.int64)
        total = np.zeros(steps)
        for m, profile in zip(self.periods, self.profiles, strict=True):
            total += profile[idx % m]
        return total

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        return np.asarray(self.trend.forecast(steps) + self._seasonal(self.t, steps), dtype=np.float64)

    def update(self, value: float, exog: FloatArray | None = None) -> SfDecomposed:
        adjusted = value - float(self._seasonal(self.t, 1)[0])
        return replace(self, trend=self.trend.update(adjusted), t=self.t + 1)


def fit_sf_mstl(y: FloatArray, periods: tuple[int, ...], max_points: int = FIT_POINTS) -> SfDecomposed:
    """statsforecast ``MSTL`` (default STL settings, AutoETS(ZZN) trend) for the detected periods."""
    data = fill_gaps(y)[-max_points:]
    usable = tuple(sorted(m for m in periods if m >= 2 and data.size >= 2 * m + 2))
    sf = _sf().models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if usable:
            fitted = sf.MSTL(season_length=list(usable), trend_forecaster=sf.AutoETS(model="ZZN")).fit(data)
            trend_model = fitted.trend_forecaster.model_
            components = fitted.model_.filter(regex="seasonal*").to_numpy(dtype=np.float64)
        else:
            trend_model = sf.AutoETS(model="ZZN").fit(data).model_
            components = np.zeros((data.size, 0))
    offset = y.size - data.size
    profiles: list[FloatArray] = []
    for j, m in enumerate(usable):
        profile = np.empty(m)
        profile[(offset + data.size - m + np.arange(m)) % m] = components[-m:, j]
        profiles.append(profile)
    return SfDecomposed(usable, tuple(profiles), ets_state(trend_model, "sf_mstl_trend"), int(y.size))


def _floats(values: FloatArray) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def _matrix(values: FloatArray) -> list[list[float]]:
    return [_floats(row) for row in np.atleast_2d(np.asarray(values, dtype=np.float64))]


def sf_model_to_dict(model: SfEts | SfArima | SfDecomposed) -> dict[str, Any]:
    """Parameters and state of a statsforecast model (for :mod:`augur.forecast.persist`; exact round trip)."""
    if isinstance(model, SfEts):
        scalars = {k: float(getattr(model, k)) for k in ("alpha", "beta", "gamma", "phi", "level", "slope")}
        return {
            "type": "SfEts",
            "label": model.label,
            "components": model.components,
            **scalars,
            "m": model.m,
            "seasonal": _floats(model.seasonal),
        }
    if isinstance(model, SfArima):
        vectors = {k: _floats(getattr(model, k)) for k in ("phi", "theta", "delta", "Z", "a")}
        matrices = {k: _matrix(getattr(model, k)) for k in ("T", "V", "P")}
        return {
            "type": "SfArima",
            **vectors,
            **matrices,
            "intercept": model.intercept,
            "drift": model.drift,
            "n": model.n,
        }
    return {
        "type": "SfDecomposed",
        "periods": list(model.periods),
        "profiles": [_floats(p) for p in model.profiles],
        "trend": sf_model_to_dict(model.trend),
        "t": model.t,
    }


def sf_model_from_dict(data: dict[str, Any]) -> SfEts | SfArima | SfDecomposed:
    """The inverse of :func:`sf_model_to_dict`; ``ValueError`` for another type."""
    kind = data.get("type")
    if kind == "SfEts":
        return SfEts(
            label=str(data["label"]),
            components=str(data["components"]),
            **{k: float(data[k]) for k in ("alpha", "beta", "gamma", "phi", "level", "slope")},
            m=int(data["m"]),
            seasonal=np.asarray(data["seasonal"], dtype=np.float64),
        )
    if kind == "SfArima":
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("phi", "theta", "delta", "Z", "a", "T", "V", "P")}
        return SfArima(**arrays, intercept=float(data["intercept"]), drift=float(data["drift"]), n=int(data["n"]))
    if kind == "SfDecomposed":
        trend = sf_model_from_dict(data["trend"])
        if not isinstance(trend, SfEts):
            raise ValueError("an SfDecomposed trend must be an SfEts")
        profiles = tuple(np.asarray(p, dtype=np.float64) for p in data["profiles"])
        return SfDecomposed(tuple(int(p) for p in data["periods"]), profiles, trend, int(data["t"]))
    raise ValueError(f"unknown statsforecast model type {kind!r}")
