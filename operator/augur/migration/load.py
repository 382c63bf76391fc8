"""Node load figures and their exact change under one move, vectorized over the candidate targets.

Load of a node = CPU cores used (measured, or requested) / allocatable cores. The balance figures are
over the schedulable nodes: *spread* = busiest minus idlest, *stddev* = population standard deviation
(facts §5's load balance when load comes from requests).
"""

from __future__ import annotations

import numpy as np

from augur.constants import FloatArray


def spread(load: FloatArray) -> float:
    return float(load.max() - load.min()) if len(load) else 0.0


def stddev(load: FloatArray) -> float:
    return float(np.std(load)) if len(load) else 0.0


def stddev_after(load: FloatArray, a: int, da: float, db: FloatArray) -> FloatArray:
    """Stddev after moving load ``da`` off position ``a`` and ``db[b]`` onto each position ``b != a``
    (entry ``a`` of the result is meaningless)."""
    n = len(load)
    s1, s2 = float(load.sum()), float(np.square(load).sum())
    la = load[a] - da
    t1 = s1 - da + db
    t2 = s2 - load[a] ** 2 + la**2 - np.square(load) + np.square(load + db)
    var = np.maximum(t2 / n - np.square(t1 / n), 0.0)
    out: FloatArray = np.sqrt(var)
    return out


def spread_after(load: FloatArray, a: int, da: float, db: FloatArray) -> FloatArray:
    """Spread after the same moves as :func:`stddev_after`, exact, in ``O(n)``: the extremes of the
    untouched positions come from the three largest and three smallest loads."""
    len(load)
    order = np.argsort(load, kind="stable")
    low, high = order[:3].tolist(), order[::-1][:3].tolist()
    la = load[a] - da
    lb = load + db
    hi = _untouched(load, high, a, -np.inf)
    lo = _untouched(load, low, a, np.inf)
    hi = np.maximum(np.maximum(hi, la), lb)
    lo = np.minimum(np.minimum(lo, la), lb)
    out: FloatArray = hi - lo
    return out


def _untouched(load: FloatArray, ranked: list[int], a: int, fill: float) -> FloatArray:
    """Per position ``b``: the load of the first of ``ranked`` that is neither ``a`` nor ``b``."""
    n = len(load)
    out = np.full(n, fill)
    done = np.zeros(n, dtype=bool)
    b = np.arange(n)
    for i in ranked:
        if i == a:
            continue
        hit = ~done & (b != i)
        out[hit] = load[i]
        done |= hit
    return out
