"""A lower bound on the node-load balance any rebalancer can reach with k evictions (pure).

Each eviction moves one whole pod. The bound relaxes only where the pods go: the pods evicted are chosen
whole, from the nodes they run on (their CPU leaves exactly those nodes), and their CPU may then be spread
over the nodes in any fractions. Spreading a fixed amount optimally is water-filling: the idlest nodes are
raised to one level. The bound for k is the lowest standard deviation over every choice of at most k pods
to evict, so no rebalancer that evicts k pods can do better; moving pods to whole nodes can only do worse.

Choices that remove the same number of pods and the same CPU from a node are equivalent, so each node
offers a short list of (pods, CPU) removals, and the bound is exact over all combinations of them. When
there are too many combinations (pods on many nodes, see :data:`MOST_COMBINATIONS`) the bound falls back to
letting the removals be fractional too: the k largest pods' CPU taken off the busiest nodes wherever it is
(:func:`levelled_stddev` both ways), which is lower and so still a bound, but loose when the largest pods do
not run on the busiest nodes.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np

from augur.constants import FloatArray

MOST_COMBINATIONS = 2_000_000
"""Largest number of per-node removal combinations evaluated exactly; beyond it the fractional bound."""
CHUNK = 100_000
"""Combinations water-filled at once (bounds the memory: a few arrays of this many rows x nodes)."""
LEVEL_STEPS = 60
"""Bisection steps of a water-filling level (the level to within 2^-60 of the load range)."""


def bound_by_evictions(load: FloatArray, pods: Sequence[Sequence[float]], most: int) -> tuple[list[float], str]:
    """Entry k (k = 0..most): the lowest standard deviation of ``load`` (one value per node, as a fraction
    of its capacity; nodes of equal capacity) reachable by evicting at most k pods, where ``pods[n]`` are
    the sizes (same units) of the pods on node n. Also which bound was computed: ``"whole pods"`` or, when
    the combinations exceed :data:`MOST_COMBINATIONS`, ``"fractional"``. ``most`` is capped at the number
    of pods."""
    most = min(most, sum(len(node) for node in pods))
    options = [_removals(sizes, most) for sizes in pods]
    combos = 1
    for opts in options:
        combos *= len(opts)
    if combos > MOST_COMBINATIONS:
        sizes = sorted((s for node in pods for s in node), reverse=True)
        moved = np.concatenate([[0.0], np.cumsum(sizes[:most])])
        return [levelled_stddev(load, float(m)) for m in moved], "fractional"
    count, removed = _combine(options)
    keep = count <= most
    count, removed = count[keep], removed[keep]
    sd = np.concatenate(
        [
            _filled_stddev(load[None, :] - part, part.sum(axis=1))
            for part in np.array_split(removed, max(1, len(removed) // CHUNK))
        ]
    )
    out, best = [], np.inf
    for k in range(most + 1):
        at = sd[count == k]
        best = min(best, float(at.min())) if len(at) else best
        out.append(best)
    return out, "whole pods"


def _removals(sizes: Sequence[float], most: int) -> list[tuple[int, float]]:
    """The distinct (pods, CPU) a node can lose by evicting at most ``most`` of its pods."""
    classes = sorted(Counter(round(s, 9) for s in sizes).items())
    seen: set[tuple[int, float]] = set()
    for picks in itertools.product(*(range(n + 1) for _, n in classes)):
        if sum(picks) <= most:
            seen.add((sum(picks), round(sum(p * s for p, (s, _) in zip(picks, classes, strict=True)), 9)))
    return sorted(seen)


def _combine(options: list[list[tuple[int, float]]]) -> tuple[np.ndarray, FloatArray]:
    """Every combination of one removal per node: pods evicted in all, and CPU removed per node."""
    count = np.zeros(1, dtype=np.int64)
    removed: FloatArray = np.zeros((1, 0))
    for opts in options:
        c = np.array([o[0] for o in opts], dtype=np.int64)
        r = np.array([o[1] for o in opts])
        count = (count[:, None] + c[None, :]).ravel()
        removed = np.concatenate([np.repeat(removed, len(opts), axis=0), np.tile(r, len(removed))[:, None]], axis=1)
    return count, removed


def _filled_stddev(after: FloatArray, amount: FloatArray) -> FloatArray:
    """Per row: the standard deviation of ``after`` once ``amount`` is water-filled into its lowest
    entries (raised to one level)."""
    lo = after.min(axis=1)
    hi = after.max(axis=1) + amount
    for _ in range(LEVEL_STEPS):
        mid = (lo + hi) / 2
        enough = np.maximum(mid[:, None] - after, 0.0).sum(axis=1) >= amount
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    filled = np.maximum(after, hi[:, None])
    out: FloatArray = filled.std(axis=1)
    return out


def levelled_stddev(load: FloatArray, m: float) -> float:
    """Smallest standard deviation of ``load`` after moving ``m`` of it between nodes (continuous)."""
    mean = float(load.mean())
    if m >= float(np.maximum(load - mean, 0.0).sum()):
        return 0.0
    high = _level(load, m, down=True)
    low = _level(load, m, down=False)
    return float(np.std(np.clip(load, low, high)))


def _level(load: FloatArray, m: float, down: bool) -> float:
    """The level that cuts ``m`` off the top (``down``) or fills ``m`` into the bottom of ``load``."""
    lo, hi = float(load.min()), float(load.max())
    for _ in range(100):
        mid = (lo + hi) / 2
        amount = float(np.maximum(load - mid, 0.0).sum() if down else np.maximum(mid - load, 0.0).sum())
        if (amount > m) == down:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
