"""Exact optima for small scenarios: exhaustive enumeration of per-node replica counts, and a mixed-integer
linear program (HiGHS through ``scipy.optimize.milp``). Both see the same :class:`CountProblem` as the
shared local search (:mod:`augur.placement.search`), with nothing fixed."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from augur.placement.problem import CountProblem


def search_space(p: CountProblem, with_unplaced: bool) -> float:
    """Number of count matrices an exhaustive search would visit (before capacity pruning)."""
    extra = 1 if with_unplaced else 0
    sizes = [
        math.comb(int(r) + int(k) + extra - 1, int(k) + extra - 1)
        for r, k in zip(p.replicas, p.allowed.sum(axis=1), strict=True)
        if k + extra > 0
    ]
    return math.prod(sizes)


def _compositions(total: int, slots: int) -> Iterator[tuple[int, ...]]:
    for bars in itertools.combinations(range(total + slots - 1), slots - 1):
        yield tuple(b - a - 1 for a, b in zip((-1, *bars), (*bars, total + slots - 1), strict=True))


def exhaustive(p: CountProblem, with_unplaced: bool) -> np.ndarray | None:
    """The exact optimum over every count matrix (``None`` when nothing is feasible)."""
    best: list[Any] = [math.inf, None]
    counts = np.zeros_like(p.allowed, dtype=np.float64)

    def visit(w: int) -> None:
        if w == len(p.replicas):
            value = p.objective(counts)
            if value < best[0] - 1e-9:
                best[0], best[1] = value, counts.copy()
            return
        nodes = np.flatnonzero(p.allowed[w])
        slots = len(nodes) + (1 if with_unplaced else 0)
        if slots == 0:
            if p.replicas[w] == 0 or with_unplaced:
                visit(w + 1)
            return
        for combo in _compositions(int(p.replicas[w]), slots):
            counts[w, :] = 0
            counts[w, nodes] = combo[: len(nodes)]
            if p.fits(counts):
                visit(w + 1)
        counts[w, :] = 0

    visit(0)
    return best[1]  # type: ignore[no-any-return]


MILP_MAX_ROWS = 1_000
"""Largest linearized model handed to the MILP solver (product constraints)."""
MILP_TIME_LIMIT = 20.0
"""Seconds the MILP solver may spend; a model not proven optimal by then is not called exact."""


@dataclass
class _Rows:
    """A sparse constraint matrix built row by row."""

    rows: list[int]
    cols: list[int]
    vals: list[float]
    lo: list[float]
    hi: list[float]

    def add(self, entries: list[tuple[int, float]], low: float, high: float) -> None:
        i = len(self.lo)
        for c, v in entries:
            self.rows.append(i)
            self.cols.append(c)
            self.vals.append(v)
        self.lo.append(low)
        self.hi.append(high)


def milp_best(p: CountProblem, time_limit: float = MILP_TIME_LIMIT) -> tuple[np.ndarray | None, bool]:
    """Minimum network cost with every pod placed, as a mixed-integer linear program (HiGHS through
    ``scipy.optimize.milp``); returns the counts (``None`` if none found) and whether they are proven optimal.

    Variables: ``x[w, n]`` pods of ``w`` on ``n``; one-hot ``z[w, n, k]`` (``x = Σ k z``); for each
    dependency ``a - b`` and node pair with ``d > 0`` a product ``P ≥ x[a, n] x[b, m]``, linearized exactly
    for a minimization with non-negative costs by ``P ≥ k x[b, m] - k r_b (1 - z[a, n, k])`` for each ``k``.
    Objective ``Σ (T_ab + T_ba) / (r_a r_b) Σ d(n, m) P``, which is the network cost when every pod runs.
    """
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import coo_array

    nw, nn = p.allowed.shape
    r = p.replicas.astype(int)
    # Each dependency once, oriented so that the side with fewer replicas is the one expanded in binaries.
    edges = [
        (a, b, float(p.traffic[a, b] + p.traffic[b, a]))
        if r[a] <= r[b]
        else (b, a, float(p.traffic[a, b] + p.traffic[b, a]))
        for a in range(nw)
        for b in range(a + 1, nw)
        if p.traffic[a, b] + p.traffic[b, a] > 0 and r[a] > 0 and r[b] > 0
    ]
    pairs = [(n, m) for n in range(nn) for m in range(nn) if p.distances[n, m] > 0]
    if sum(r[a] for a, _, _ in edges) * len(pairs) > MILP_MAX_ROWS:
        return None, False
    x = np.arange(nw * nn).reshape(nw, nn)
    var = nw * nn
    z: dict[tuple[int, int], list[int]] = {}
    for w, n in zip(*np.nonzero(p.allowed & (r[:, None] > 0)), strict=True):
        z[int(w), int(n)] = list(range(var, var + r[w]))
        var += r[w]
    binaries = var
    cost: list[float] = [0.0] * var
    c = _Rows([], [], [], [], [])
    for w in range(nw):
        c.add([(int(x[w, n]), 1.0) for n in range(nn)], r[w], r[w])
    for n in range(nn):
        c.add([(int(x[w, n]), float(p.cpu[w])) for w in range(nw)], -np.inf, float(p.room_cpu[n]) + 1e-9)
        c.add([(int(x[w, n]), float(p.mem[w])) for w in range(nw)], -np.inf, float(p.room_mem[n]) + 1e-9)
        if p.pod_room[n] < r.sum():  # a pod limit that can bind (else the row only slows HiGHS down)
            c.add([(int(x[w, n]), 1.0) for w in range(nw)], -np.inf, float(p.pod_room[n]) + 1e-9)
    for (w, n), ks in z.items():
        c.add([(int(x[w, n]), 1.0)] + [(v, -float(k + 1)) for k, v in enumerate(ks)], 0, 0)
        c.add([(v, 1.0) for v in ks], 0, 1)
    for a, b, t in edges:
        for n, m in pairs:
            if (a, n) in z and p.allowed[b, m]:
                cost.append(t / (r[a] * r[b]) * float(p.distances[n, m]))
                for k, zv in enumerate(z[a, n], start=1):
                    c.add([(var, 1.0), (int(x[b, m]), -float(k)), (zv, -float(k * r[b]))], -float(k * r[b]), np.inf)
                var += 1
    upper = np.full(var, np.inf)
    upper[: nw * nn] = np.where(p.allowed, r[:, None], 0).ravel()
    upper[nw * nn : binaries] = 1
    integrality = np.zeros(var)
    integrality[:binaries] = 1
    res = milp(
        np.array(cost),
        integrality=integrality,
        bounds=(np.zeros(var), upper),
        constraints=LinearConstraint(coo_array((c.vals, (c.rows, c.cols)), shape=(len(c.lo), var)).tocsr(), c.lo, c.hi),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-7},
    )
    if res.x is None:
        return None, False
    counts = np.rint(res.x[: nw * nn]).reshape(nw, nn)
    if not p.fits(counts) or (counts.sum(axis=1) != r).any():
        return None, False
    return counts, bool(res.status == 0)
