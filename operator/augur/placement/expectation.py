"""Where the pod's peers are, or are expected to be: node distributions of workloads, shared by the
components of one scoring call (memoized on the :class:`ScoringContext`).

A workload with running pods is at its pods (counts / total over the node table). A workload with no
running pod yet will itself be drawn to *its* peers, so its expected distribution is the traffic-weighted
mean of its neighbours' distributions: the harmonic extension of the running placements over the
dependency graph, computed by Jacobi iterations over the pending workloads reachable from the pod's
pending peers. The pod's own workload counts through its running replicas only.

With ``room``, each expected distribution is then kept to the nodes that still have room for one pod of
that workload (CPU, memory, pod count), renormalized; where none of its mass has room, it moves to the
fitting nodes nearest to it. Without, a pending workload is expected where its peers run even when they
have filled those nodes.
"""

from __future__ import annotations

import numpy as np

from augur.constants import FloatArray
from augur.placement.constants import EPS
from augur.placement.context import ScoringContext
from augur.placement.distance import distance_sums


def expectations(ctx: ScoringContext, hops: int, room: bool = False) -> tuple[Placements, dict[str, FloatArray]]:
    """Running placements and the expected distributions of pending workloads near the pod's workload
    (``hops`` iterations; 0 → none), kept to nodes with room for them with ``room``."""
    key = f"expectations/{hops}/{room}"
    hit = ctx.memo.get(key)
    if hit is None:
        places = ctx.memo.setdefault("placements", Placements(ctx))
        expected: dict[str, FloatArray] = {}
        workload = ctx.pod.workload
        if workload is not None and hops > 0:
            pending = [p for p in ctx.snapshot.rulebook.peers(workload) if len(ctx.snapshot.placed(p)[0]) == 0]
            if pending:
                expected = _harmonic(ctx, places, workload, pending, hops)
                if room:
                    expected = {w: _with_room(ctx, w, where) for w, where in expected.items()}
        hit = ctx.memo[key] = (places, expected)
    return hit


def _with_room(ctx: ScoringContext, workload: str, where: FloatArray) -> FloatArray:
    """``where`` kept to the nodes with room for one pod of ``workload`` (unchanged when its size is unknown
    or no node has room)."""
    rules = ctx.snapshot.rulebook.get(workload)
    if rules is None or rules.pod_cpu is None:
        return where
    t = ctx.table
    fits = (t.cpu - t.cpu_requested >= rules.pod_cpu - EPS) & (t.pods < t.max_pods - EPS)
    fits &= t.memory - t.memory_requested >= (rules.pod_memory or 0.0) - EPS
    if fits.all() or not fits.any():
        return where
    kept = np.where(fits, where, 0.0)
    mass = float(kept.sum())
    if mass > EPS:
        return kept / mass
    cand = np.flatnonzero(fits)
    nz = np.flatnonzero(where)
    far = distance_sums(t, cand, nz, where[nz])
    nearest = cand[far <= far.min() + EPS]
    out = np.zeros(len(where), dtype=np.float64)
    out[nearest] = 1.0 / len(nearest)
    return out


class Placements:
    """Node distribution (pod counts / total, dense over the table) of each workload with running pods."""

    def __init__(self, ctx: ScoringContext) -> None:
        self.ctx = ctx
        self.memo: dict[str, FloatArray | None] = {}

    def get(self, workload: str) -> FloatArray | None:
        if workload not in self.memo:
            table = self.ctx.table
            idx, count = self.ctx.snapshot.placed(workload)
            if len(idx):
                dist = np.zeros(len(table), dtype=np.float64)
                np.add.at(dist, idx, count / count.sum())
                self.memo[workload] = dist
            else:
                self.memo[workload] = None
        return self.memo[workload]


def _harmonic(
    ctx: ScoringContext, places: Placements, own: str, pending: list[str], hops: int
) -> dict[str, FloatArray]:
    """Expected node distribution of pending workloads near ``own``: harmonic extension of the running
    placements over the dependency graph, ``hops`` Jacobi iterations (``own`` counts only by its
    running pods)."""
    rulebook = ctx.snapshot.rulebook
    # Pending workloads reachable from the pod's pending peers through pending workloads.
    region: dict[str, dict[str, float]] = {}
    frontier = list(pending)
    for _ in range(max(hops, 1)):
        nxt: list[str] = []
        for w in frontier:
            if w in region:
                continue
            nbrs = rulebook.peers(w)
            region[w] = nbrs
            nxt += [v for v in nbrs if v != own and v not in region and places.get(v) is None]
        frontier = nxt
        if not frontier:
            break
    current: dict[str, FloatArray] = {}
    for _ in range(max(hops, 1)):
        updated: dict[str, FloatArray] = {}
        for w, nbrs in region.items():
            acc: FloatArray | None = None
            total = 0.0
            for v, t in nbrs.items():
                dist = places.get(v)
                if dist is None:
                    dist = current.get(v)
                if dist is None:
                    continue
                acc = t * dist if acc is None else acc + t * dist
                total += t
            if acc is not None and total > 0:
                updated[w] = acc / total
        if not updated:
            break
        current = updated
    return current
