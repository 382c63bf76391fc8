"""Traffic-weighted proximity to the pod's peers.

A peer is a workload this pod's workload sends traffic to or receives traffic from (``WorkloadProfile``
dependencies, both directions summed). For candidate node ``n``:
``cost(n) = Σ_peers T_p * mean over running pods q of p of d(n, node(q))`` and
``score(n) = 100 - cost(n) / Σ T_p`` (without any peer to measure against, 100 everywhere).

A peer with no running pod yet will itself be drawn to its own peers when it is placed (this pod's
workload among them), so the running pods of *its* peers stand in for it, weighted by its traffic to
each, with ``pendingPeerFactor`` times the traffic (0 leaves such peers out). This keeps chatty
workloads together when they are created one after another.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0)
        return errors + check_range(prefix, "pendingPeerFactor", self.pending_peer_factor, 0, 1)


def traffic_cost(ctx: ScoringContext, pending_peer_factor: float = 0.0) -> tuple[FloatArray, float]:
    """``Σ T * mean distance`` per candidate, and the total traffic it covers."""
    cost = ctx.constant(0.0)
    traffic = 0.0
    workload = ctx.pod.workload
    if workload is None:
        return cost, traffic
    means = _MeanDistance(ctx)
    for peer, t in ctx.snapshot.rulebook.peers(workload).items():
        if (mean := means.get(peer)) is not None:
            cost += t * mean
            traffic += t
        elif pending_peer_factor > 0:
            proxy = _proxy(ctx, means, peer)
            if proxy is not None:
                cost += t * pending_peer_factor * proxy
                traffic += t * pending_peer_factor
    return cost, traffic


def _proxy(ctx: ScoringContext, means: _MeanDistance, peer: str) -> FloatArray | None:
    """Expected distance to a peer that is not running yet: its own running peers, traffic-weighted."""
    total, acc = 0.0, ctx.constant(0.0)
    for other, t in ctx.snapshot.rulebook.peers(peer).items():
        if (mean := means.get(other)) is not None:
            acc += t * mean
            total += t
    return acc / total if total > 0 else None


class _MeanDistance:
    """Mean distance from each candidate to the running pods of a workload (memoized, ``None`` if none)."""

    def __init__(self, ctx: ScoringContext) -> None:
        self.ctx = ctx
        self.memo: dict[str, FloatArray | None] = {}

    def get(self, workload: str) -> FloatArray | None:
        if workload not in self.memo:
            table = self.ctx.table
            idx, count = table.peer_weights(self.ctx.snapshot.occupancy.nodes_of(workload))
            self.memo[workload] = distance_sums(table, self.ctx.cand, idx, count) / count.sum() if len(idx) else None
        return self.memo[workload]


def score(ctx: ScoringContext, args: ProximityArgs) -> FloatArray:
    cost, traffic = traffic_cost(ctx, args.pending_peer_factor)
    if traffic <= 0:
        return ctx.constant(float(MAX_DISTANCE))
    return MAX_DISTANCE - cost / traffic
