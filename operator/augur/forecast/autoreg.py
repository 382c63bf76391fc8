"""An autoregression on the recent levels: ``y(t) = c + φ1 y(t-1) + … + φp y(t-p) + e(t)``.

The order ``p`` (at most :data:`MAX_LAG`) is chosen by BIC with statsmodels' ``ar_select_order`` and the
coefficients estimated by least squares (``AutoReg``) on the last :data:`FIT_POINTS` points. It is the
candidate for the short-horizon, non-seasonal regime that Augur's other models miss: a noisy series
that reverts toward a local level (where exponential smoothing chases the noise and the harmonic
regression reverts to the mean of two weeks). statsforecast's AutoARIMA won there on the development
series. The state is the last ``p`` values; an update shifts them in (a gap: the model's own forecast).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from augur.constants import FloatArray
from augur.forecast.series import fill_gaps

MAX_LAG = 8
FIT_POINTS = 2016
"""One week at five-minute steps: a local level, not the mean of two weeks."""


@dataclass(frozen=True)
class AutoRegression:
    """Fitted AR(p) with a constant; ``lags[0]`` is the latest value."""

    const: float
    phi: FloatArray
    lags: FloatArray
    t: int

    @property
    def name(self) -> str:
        return "autoreg"

    def update(self, value: float, exog: FloatArray | None = None) -> AutoRegression:
        y = float(self.forecast(1)[0]) if np.isnan(value) else value
        lags = np.concatenate(([y], self.lags[:-1])) if self.lags.size else self.lags
        return replace(self, lags=lags, t=self.t + 1)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        out = np.empty(steps)
        lags = self.lags.copy()
        for k in range(steps):
            value = self.const + float(self.phi @ lags) if lags.size else self.const
            out[k] = value
            if lags.size:
                lags = np.concatenate(([value], lags[:-1]))
        return out


def fit_autoreg(y: FloatArray, max_points: int = FIT_POINTS, max_lag: int = MAX_LAG) -> AutoRegression:
    """Order by BIC (1 … ``max_lag``), coefficients by least squares, on the recent history."""
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    data = fill_gaps(y)[-max_points:]
    lag = max(1, min(max_lag, data.size // 10))
    if data.size < 3 * lag + 10:
        raise ValueError("too few points for an autoregression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        order = ar_select_order(data, maxlag=lag, ic="bic", trend="c").ar_lags
        p = max(order) if order else 0
        if p == 0:
            return AutoRegression(float(np.mean(data)), np.zeros(0), np.zeros(0), int(y.size))
        params = np.asarray(AutoReg(data, lags=p, trend="c").fit().params, dtype=np.float64)
    if not np.isfinite(params).all():
        raise ValueError("the autoregression did not converge")
    lags = data[::-1][:p].astype(np.float64)
    return AutoRegression(float(params[0]), params[1 : p + 1], lags, int(y.size))
