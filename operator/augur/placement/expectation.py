"""Where the pod's peers are, or are expected to be: node distributions of workloads, shared by the
components of one scoring call (memoized on the :class:`ScoringContext`).

A workload with running pods is at its pods (counts / total over the node table). A workload with no
running pod yet will itself be drawn to *its* peers, so its expected distribution is the traffic-weighted
mean of its neighbours' distributions: the harmonic extension of the running placements over the
dependency graph, computed by Jacobi iterations over the pending workloads reachable from the pod's
pending peers. The pod's own workload counts through its running replicas only.
"""

from __future__ import annotations

import numpy as np

from augur.constants import FloatArray
from augur.placement.context import ScoringContext


def expectations(ctx: ScoringContext, hops: int) -> tuple[Placements, dict[str, FloatArray]]:
    """Running placements and the expected distributions of pending workloads near the pod's workload
    (``hops`` iterations; 0 → none)."""
    key = f"expectations/{hops}"
    hit = ctx.memo.get(key)
    if hit is None:
        places = ctx.memo.setdefault("placements", Placements(ctx))
        expected: dict[str, FloatArray] = {}
        workload = ctx.pod.workload
        if workload is not None and hops > 0:
            pending = [p for p in ctx.snapshot.rulebook.peers(workload) if len(ctx.snapshot.placed(p)[0]) == 0]
            if pending:
                expected = _harmonic(ctx, places, workload, pending, hops)
        hit = ctx.memo[key] = (places, expected)
    return hit


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
