"""The numpy array types every layer shares (one home, so a float array means the same dtype everywhere).

Imports nothing of Augur: any layer, the extender included, may use it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Float32Array = npt.NDArray[np.float32]
