"""Small numeric helpers shared by the forecasting modules."""

from __future__ import annotations

import numpy as np

from augur.constants import FloatArray


def fill_gaps(values: FloatArray) -> FloatArray:
    """Linear interpolation over ``NaN`` gaps; leading and trailing gaps take the nearest value."""
    y = np.asarray(values, dtype=np.float64)
    missing = np.isnan(y)
    if not missing.any():
        return y.copy()
    known = np.flatnonzero(~missing)
    if known.size == 0:
        return np.zeros_like(y)
    return np.interp(np.arange(y.size), known, y[known])


def robust_scale(values: FloatArray) -> float:
    """Median absolute deviation scaled to a normal sigma (1.4826 x MAD)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(finite - np.median(finite))))


def clip_outliers(values: FloatArray, k: float = 6.0) -> FloatArray:
    """Winsorize points further than ``k`` robust sigma of the first differences from a running median."""
    y = np.asarray(values, dtype=np.float64)
    scale = robust_scale(np.diff(y)) * 2.0
    if scale <= 0:
        return y.copy()
    center = moving_average(y, 5)
    return np.clip(y, center - k * scale, center + k * scale)


def moving_average(values: FloatArray, window: int) -> FloatArray:
    """Centered moving average with shrinking windows at both ends."""
    y = np.asarray(values, dtype=np.float64)
    if window <= 1 or y.size == 0:
        return y.copy()
    cumsum = np.concatenate([[0.0], np.cumsum(y)])
    half = window // 2
    idx = np.arange(y.size)
    lo = np.clip(idx - half, 0, y.size)
    hi = np.clip(idx - half + window, 0, y.size)
    return np.asarray((cumsum[hi] - cumsum[lo]) / np.maximum(hi - lo, 1), dtype=np.float64)


def autocorrelation(values: FloatArray, max_lag: int) -> FloatArray:
    """Sample autocorrelation for lags ``0 ... max_lag`` via FFT."""
    y = np.asarray(values, dtype=np.float64) - float(np.mean(values))
    n = y.size
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(y, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return acov / acov[0] if acov[0] > 0 else np.zeros(max_lag + 1)
