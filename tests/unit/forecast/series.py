"""Synthetic demand for the forecasting tests: one seasonal series generator, parameterised per test."""

from __future__ import annotations

import numpy as np


def seasonal(
    n: int,
    period: int,
    *,
    level: float = 50.0,
    amplitude: float = 10.0,
    slope: float = 0.0,
    noise: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """``level + amplitude·sin(2πt/period) + slope·t`` plus Gaussian noise of sd ``noise`` (seeded)."""
    t = np.arange(n)
    return (
        level + amplitude * np.sin(2 * np.pi * t / period) + slope * t + np.random.default_rng(seed).normal(0, noise, n)
    )
