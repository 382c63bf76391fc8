"""Traffic-weighted proximity to the pod's peers, including the expected place of peers not running yet.

A peer is a workload this pod's workload sends traffic to or receives traffic from (``WorkloadProfile``
dependencies, both directions summed). For candidate node ``n``:
``cost(n) = Σ_peers T_p * E[d(n, p)]`` and ``score(n) = 100 - cost(n) / Σ T_p`` (without any peer to
measure against, 100 everywhere).

``E[d(n, p)]`` for a peer with running pods is the mean distance to them. A peer with no running pod
yet will itself be drawn to *its* peers when it is placed, so its expected placement is the
traffic-weighted mixture of its peers' placements (running pods, or again expected ones), propagated
over the dependency graph for up to ``pendingPeerHops`` hops (Jacobi iterations of the harmonic
extension: each pending workload is the traffic-weighted mean of its neighbours' node distributions).
The pod's own workload counts through its running replicas only, so a second replica is pulled to
where the first went, and a pending peer two services away still pulls the pod towards the zone where
that part of the application runs. Pending peers count with ``pendingPeerFactor`` times their traffic
(0 leaves them out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.placement.args import check_range
from augur.placement.context import ScoringContext
from augur.placement.distance import distance_sums
from augur.placement.topology import MAX_DISTANCE, FloatArray

NAME = "proximity"


@dataclass(frozen=True)
class ProximityArgs:
    weight: float = 4.0
    pending_peer_factor: float = 1.0
    pending_peer_hops: int = 10

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0)
        errors += check_range(prefix, "pendingPeerHops", self.pending_peer_hops, 0, 20)
        return errors + check_range(prefix, "pendingPeerFactor", self.pending_peer_factor, 0, 1)


def traffic_cost(ctx: ScoringContext, pending_peer_factor: float = 0.0, hops: int = 1) -> tuple[FloatArray, float]:
    """``Σ T * expected mean distance`` per candidate, and the total traffic it covers."""
    cost = ctx.constant(0.0)
    traffic = 0.0
    workload = ctx.pod.workload
    if workload is None:
        return cost, traffic
    rulebook = ctx.snapshot.rulebook
    peers = rulebook.peers(workload)
    if not peers:
        return cost, traffic
    places = _Placements(ctx)
    pending = [p for p in peers if places.get(p) is None]
    expected = _expected(ctx, places, workload, pending, hops) if pending and pending_peer_factor > 0 else {}
    table, cand = ctx.table, ctx.cand
    for peer, t in peers.items():
        where = places.get(peer)
        factor = 1.0
        if where is None:
            where = expected.get(peer)
            factor = pending_peer_factor
        if where is None:
            continue
        idx = np.flatnonzero(where)
        cost += (t * factor) * distance_sums(table, cand, idx, where[idx])
        traffic += t * factor
    return cost, traffic


class _Placements:
    """Node distribution (pod counts / total, dense over the table) of each workload with running pods."""

    def __init__(self, ctx: ScoringContext) -> None:
        self.ctx = ctx
        self.memo: dict[str, FloatArray | None] = {}

    def get(self, workload: str) -> FloatArray | None:
        if workload not in self.memo:
            table = self.ctx.table
            idx, count = table.peer_weights(self.ctx.snapshot.occupancy.nodes_of(workload))
            if len(idx):
                dist = np.zeros(len(table), dtype=np.float64)
                np.add.at(dist, idx, count / count.sum())
                self.memo[workload] = dist
            else:
                self.memo[workload] = None
        return self.memo[workload]


def _expected(
    ctx: ScoringContext, places: _Placements, own: str, pending: list[str], hops: int
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


def score(ctx: ScoringContext, args: ProximityArgs) -> FloatArray:
    cost, traffic = traffic_cost(ctx, args.pending_peer_factor, args.pending_peer_hops)
    if traffic <= 0:
        return ctx.constant(float(MAX_DISTANCE))
    return MAX_DISTANCE - cost / traffic
