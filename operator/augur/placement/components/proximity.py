"""Traffic-weighted proximity to the pod's peers.

A peer is a workload this pod's workload sends traffic to or receives traffic from (``WorkloadProfile``
dependencies, both directions summed). For candidate node ``n``:
``cost(n) = Σ_peers T_p * mean over running pods q of p of d(n, node(q))`` and
``score(n) = 100 - cost(n) / Σ T_p`` (peers without running pods are left out; without any, 100).
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

    def validate(self, prefix: str) -> list[FieldError]:
        return check_range(prefix, "weight", self.weight, 0)


def traffic_cost(ctx: ScoringContext) -> tuple[FloatArray, float]:
    """``Σ T * mean distance`` per candidate, and the total traffic of the peers that are running."""
    cost = ctx.constant(0.0)
    traffic = 0.0
    if ctx.pod.workload is None:
        return cost, traffic
    for peer, t in ctx.snapshot.rulebook.peers(ctx.pod.workload).items():
        idx, count = ctx.table.peer_weights(ctx.snapshot.occupancy.nodes_of(peer))
        if len(idx) == 0:
            continue
        cost += t * distance_sums(ctx.table, ctx.cand, idx, count) / count.sum()
        traffic += t
    return cost, traffic


def score(ctx: ScoringContext, args: ProximityArgs) -> FloatArray:
    cost, traffic = traffic_cost(ctx)
    if traffic <= 0:
        return ctx.constant(float(MAX_DISTANCE))
    return MAX_DISTANCE - cost / traffic
