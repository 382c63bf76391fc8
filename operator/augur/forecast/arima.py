"""ARIMA(1,1,1) on the recent history: ``Δy(t) = φ Δy(t-1) + e(t) + θ e(t-1)``.

The differenced ARIMA that statsforecast's AutoARIMA most often picks on the one-step, non-seasonal
series where Augur's candidates lose to it (a level that drifts, with a short memory of the last
change). φ and θ are estimated by statsmodels' ``SARIMAX`` (exact likelihood, no constant) on the last
:data:`FIT_POINTS` points; between refits the state is the last value, the last difference and the last
innovation, advanced by the recursion above with the parameters fixed (an update costs microseconds).
A gap advances on the model's own one-step forecast (innovation 0).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from augur.constants import FloatArray
from augur.forecast.series import fill_gaps

FIT_POINTS = 1008
"""Three and a half days at five-minute steps: a local level and its recent dynamics."""


@dataclass(frozen=True)
class DifferencedArima:
    """Fitted ARIMA(1,1,1) state; the innovations use the fitted parameters."""

    phi: float
    theta: float
    last: float
    """The latest value."""
    change: float
    """The latest difference ``y(t) - y(t-1)``."""
    innovation: float
    """The latest innovation ``e(t)``."""

    @property
    def name(self) -> str:
        return "arima_d1"

    def _next_change(self) -> float:
        return self.phi * self.change + self.theta * self.innovation

    def update(self, value: float, exog: FloatArray | None = None) -> DifferencedArima:
        expected = self._next_change()
        if np.isnan(value):
            return DifferencedArima(self.phi, self.theta, self.last + expected, expected, 0.0)
        change = value - self.last
        return DifferencedArima(self.phi, self.theta, value, change, change - expected)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        changes = np.empty(steps)
        change = self._next_change()
        for k in range(steps):
            changes[k] = change
            change *= self.phi
        return np.asarray(self.last + np.cumsum(changes), dtype=np.float64)


def fit_arima_d1(y: FloatArray, max_points: int = FIT_POINTS) -> DifferencedArima:
    """φ and θ by maximum likelihood on the recent history, then the state walked through it."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    data = fill_gaps(y)[-max_points:]
    if data.size < 30:
        raise ValueError("too few points for ARIMA(1,1,1)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(data, order=(1, 1, 1), trend="n", concentrate_scale=True)
        params = np.asarray(model.fit(disp=False, maxiter=50).params[:2], dtype=np.float64)
    if not np.isfinite(params).all():
        raise ValueError("ARIMA(1,1,1) did not converge")
    phi, theta = (float(np.clip(v, -0.99, 0.99)) for v in params)
    state = DifferencedArima(phi, theta, float(data[0]), 0.0, 0.0)
    for value in data[1:]:
        state = state.update(float(value))
    return state
