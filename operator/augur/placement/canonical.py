"""A canonical order of nodes that depends on what the nodes *are*, never on their names or listing order.

Node tables sort nodes by name, and a search over node positions (ties to the first position, random draws
indexing positions) then depends on the names: renaming the nodes permutes the positions and changes the
result. The search engine and the simulator's tie-breaks therefore work in the order given here:

1. nodes sorted by their attributes (``features``, one row per node: room, occupancy, allowed workloads...);
2. among equal attributes, by a colour refinement over the distance matrix (1-dimensional Weisfeiler-Leman):
   a node's colour is refined by the multiset of (distance, colour) pairs to every node, until no class
   splits; classes that are not twins (nodes alike in two symmetric zones) are split by singling out one
   member and refining again. What is left tied are twins (same attributes, same distance to every other
   node): interchangeable, so which of them comes first does not change a result.

The refinement hashes each (distance, colour) pair with a key drawn from ``seed``, so the order among
nodes of equal attributes that the refinement does tell apart is pseudo-random, reproducible from the seed,
and name-free. Cost: ``O(nodes²)`` per refinement round, a few rounds per singled-out node (about one per
symmetric zone), plus ``O(nodes² log nodes)`` once per distance matrix to code its distances
(:func:`distance_codes`; a caller that keeps it, as the planner does, pays that once per node set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from augur.constants import FloatArray, IntArray

U64 = npt.NDArray[np.uint64]
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: U64) -> U64:
    """splitmix64's finalizer, element-wise (uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        out: U64 = x ^ (x >> np.uint64(31))
    return out


def _dense_rank(rows: npt.NDArray[np.generic]) -> IntArray:
    """Rank of each row among the distinct rows, in lexicographic order (equal rows share a rank; numeric
    comparison, so -0.0 equals 0.0): what ``np.unique(rows, axis=0, return_inverse=True)`` gives, by a
    lexsort of the columns, 2-6 times faster on 1,000 rows (no structured-dtype sort)."""
    if rows.ndim == 1:
        rows = rows[:, None]
    n = len(rows)
    if rows.shape[1] == 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    order = np.lexsort(rows.T[::-1])  # the first column is the primary key
    ordered = rows[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    first[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    out: IntArray = np.empty(n, dtype=np.int64)
    out[order] = np.cumsum(first) - 1
    return out


@dataclass(frozen=True, eq=False)
class DistanceCodes:
    """A distance matrix as small integer codes: equal distances (rounded to 1e-6) share a code, codes ordered
    as the distances. What :func:`colours` needs of the matrix, made once per matrix."""

    distances: FloatArray
    """The matrix the codes were made from (a caller's cache is valid while it is this very object)."""
    codes: npt.NDArray[np.unsignedinteger]
    count: int
    """How many distinct distances there are."""


def distance_codes(distances: FloatArray, candidates: FloatArray | None = None) -> DistanceCodes:
    """The codes of ``distances`` in the smallest unsigned type that holds them.

    ``candidates``: values the matrix is known to draw from (a node table's zone matrix, its same-node
    distance and its node-pair overrides). Each entry is then found by binary search among them, which is
    checked to reproduce every entry (else the general path runs) and to give the same codes. ``np.unique`` over
    the whole matrix holds the GIL longer (a request waits that long; at 1,000 nodes 3.9-18.6 ms at a stretch
    against 0.4-3.1 ms, ``bench/planner_gil_hold.py``) and grows with ``nodes² log nodes``."""
    n = len(distances)
    rounded = np.round(distances, 6)
    coded = _codes_among(rounded, candidates) if candidates is not None and n else None
    if coded is None:
        values, inverse = np.unique(rounded, return_inverse=True)
        coded = np.asarray(inverse).reshape(n, n), len(values)
    dtype = np.min_scalar_type(max(coded[1] - 1, 0))
    return DistanceCodes(distances, coded[0].astype(dtype), coded[1])


def _codes_among(rounded: FloatArray, candidates: FloatArray) -> tuple[IntArray, int] | None:
    """Codes of ``rounded`` as ``np.unique`` would number them, found among ``candidates``; ``None`` when an
    entry is not among them."""
    values = np.unique(np.round(candidates, 6))
    if not len(values):
        return None
    at = np.minimum(np.searchsorted(values, rounded), len(values) - 1)
    if not bool((values[at] == rounded).all()):
        return None
    used = np.zeros(len(values), dtype=bool)
    used[at.ravel()] = True  # number only the values that occur, as np.unique does
    rank: IntArray = np.cumsum(used) - 1
    return rank[at], int(used.sum())


def colours(
    distances: FloatArray,
    features: FloatArray,
    seed: int = 0,
    rounds: int = 8,
    codes: DistanceCodes | None = None,
    pause: Callable[[], None] | None = None,
) -> IntArray:
    """Per node, its canonical colour: ordered by attributes first (``features`` rows, lexicographic), then
    by the refinement's seeded hashes; equal only for *twins*, nodes with equal attributes and equal
    distances to every other node, which any result may swap freely. Colour refinement alone can leave
    classes of nodes that are alike but not twins (nodes of two symmetric zones): their order would then
    depend on the input order, so the first such class has its first node singled out and refinement runs
    again (individualization), until only twins are left. ``codes``: :func:`distance_codes` of
    ``distances``, when the caller keeps them (made here when absent or of another matrix); ``pause``: called
    after each ``O(nodes²)`` step (the pair hashes, each refinement round, each individualization), as the
    search calls it (the planner steps aside there)."""
    n = len(features)
    colour = _dense_rank(np.nan_to_num(np.asarray(features, dtype=np.float64), nan=-1.0, posinf=1e300))
    if n <= 1:
        return colour
    coded = codes if codes is not None and codes.distances is distances else distance_codes(distances)
    key = np.random.default_rng([seed, 0x636F6C]).integers(1, 2**63, dtype=np.uint64)
    with np.errstate(over="ignore"):
        pair_base = _mix(np.arange(coded.count, dtype=np.uint64) * np.uint64(0x100000001B3) ^ key)[coded.codes]
    if pause is not None:
        pause()
    colour = _refine(colour, pair_base, key, rounds, pause)
    for _ in range(n):
        if pause is not None:
            pause()
        members = _first_non_twin_class(colour, coded.codes)
        if members is None:
            break
        single = np.ones(n, dtype=np.uint64)
        single[members[0]] = 0
        split = _dense_rank(np.column_stack([colour.astype(np.uint64), single]))
        colour = _refine(split, pair_base, key, rounds, pause)
    return colour


def _refine(
    colour: IntArray, pair_base: U64, key: np.uint64, rounds: int, pause: Callable[[], None] | None = None
) -> IntArray:
    """Colour refinement until no class splits (at most ``rounds`` rounds): each node's colour is refined by
    the multiset of (distance, colour) to every node, hashed."""
    n = len(colour)
    with np.errstate(over="ignore"):
        for _ in range(rounds):
            if colour.max() == n - 1:  # every node its own colour
                break
            signature = _signature(pair_base, _mix(colour.astype(np.uint64) + key), pause)
            refined = _dense_rank(np.column_stack([colour.astype(np.uint64), signature]))
            if pause is not None:
                pause()
            if refined.max() == colour.max():  # stable: no class split
                break
            colour = refined
    return colour


BLOCK_ELEMENTS = 1 << 17
"""Pair hashes a refinement round mixes between two pauses (a few milliseconds: 128 of 1,000 nodes' rows)."""


def _signature(pair_base: U64, mixed: U64, pause: Callable[[], None] | None) -> U64:
    """Per node (row of ``pair_base``), the wrapping sum of its pair hashes mixed with the other nodes'
    ``mixed`` colours; in blocks of rows with ``pause`` between them (the same sums: rows are independent)."""
    n = len(pair_base)
    rows = max(1, BLOCK_ELEMENTS // max(1, pair_base.shape[1]))
    out = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for lo in range(0, n, rows):
            if lo and pause is not None:
                pause()
            out[lo : lo + rows] = _mix(pair_base[lo : lo + rows] ^ mixed[None, :]).sum(axis=1, dtype=np.uint64)
    return out


def _first_non_twin_class(colour: IntArray, codes: npt.NDArray[np.unsignedinteger]) -> IntArray | None:
    """Members (input order) of the lowest colour class of several nodes that are not all twins, or None."""
    counts = np.bincount(colour)
    for c in np.flatnonzero(counts > 1).tolist():
        members = np.flatnonzero(colour == c)
        if not _twins(members, codes):
            return members
    return None


def _twins(members: IntArray, codes: npt.NDArray[np.unsignedinteger]) -> bool:
    """The nodes have the same distance to every node outside them and one distance between any two of them."""
    others = np.ones(len(codes), dtype=bool)
    others[members] = False
    rows = codes[members]
    if not (rows[:, others] == rows[0, others]).all():
        return False
    inner = codes[np.ix_(members, members)]
    off = inner[~np.eye(len(members), dtype=bool)]
    return bool((off == off[0]).all() and (np.diagonal(inner) == inner[0, 0]).all())


def canonical_order(
    distances: FloatArray,
    features: FloatArray,
    seed: int = 0,
    codes: DistanceCodes | None = None,
    pause: Callable[[], None] | None = None,
) -> IntArray:
    """Node positions in canonical order (``order[k]`` = the input position of the ``k``-th node): by
    :func:`colours`; nodes of one colour keep their input order (they are interchangeable)."""
    coloured = colours(distances, features, seed, codes=codes, pause=pause)
    order: IntArray = np.argsort(coloured, kind="stable").astype(np.int64)
    return order


def inverse(order: IntArray) -> IntArray:
    """``rank[position]``: where each input position goes in the canonical order."""
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order), dtype=order.dtype)
    return rank
