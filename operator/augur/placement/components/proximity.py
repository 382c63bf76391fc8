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
(0 leaves them out). With ``pendingPeerRoom`` (off by default), a pending peer is expected only on nodes
that still have room for one of its pods (:func:`~augur.placement.expectation.expectations` ``room``):
without it, the front ends of a fan-in application are all pulled to where the first ones run (their shared
back end "expected" there), fill that part of the cluster, and leave the back end to land far away. It
lowered that cost in simulation (pods one at a time, no plan: 8-13 % on ``fanin``, unchanged with the plan)
but not in bursts on the real kube-scheduler (0.6 % higher over eight scenarios), which the rule set
beforehand let decide (``bench/fallback_components.py``, ``bench/replay_burst.py``; ``docs/placement-results.md``,
"Without a plan").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import MAX_DISTANCE, FloatArray
from augur.placement.args import check_range
from augur.placement.context import ScoringContext
from augur.placement.distance import distance_sums
from augur.placement.expectation import expectations

NAME = "proximity"


@dataclass(frozen=True)
class ProximityArgs:
    weight: float = 4.0
    pending_peer_factor: float = 1.0
    pending_peer_hops: int = 10
    pending_peer_room: bool = False

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0)
        errors += check_range(prefix, "pendingPeerHops", self.pending_peer_hops, 0, 20)
        return errors + check_range(prefix, "pendingPeerFactor", self.pending_peer_factor, 0, 1)


def traffic_cost(
    ctx: ScoringContext, pending_peer_factor: float = 0.0, hops: int = 1, room: bool = False
) -> tuple[FloatArray, float]:
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
    table, cand, snapshot = ctx.table, ctx.cand, ctx.snapshot
    # Σ_p T_p * mean_q d(n, q) is linear in the pod weights: one distance sum over all weighted peer pods.
    weights = np.zeros(len(table), dtype=np.float64)
    pending: list[tuple[str, float]] = []
    for peer, t in peers.items():
        idx, count = snapshot.placed(peer)
        if len(idx):
            np.add.at(weights, idx, t * count / count.sum())
            traffic += t
        else:
            pending.append((peer, t))
    if pending and pending_peer_factor > 0 and hops > 0:
        _, expected = expectations(ctx, hops, room)
        for peer, t in pending:
            where = expected.get(peer)
            if where is not None:
                weights += (t * pending_peer_factor) * where
                traffic += t * pending_peer_factor
    if traffic > 0:
        nz = np.flatnonzero(weights)
        cost = distance_sums(table, cand, nz, weights[nz])
    return cost, traffic


def score(ctx: ScoringContext, args: ProximityArgs) -> FloatArray:
    cost, traffic = traffic_cost(ctx, args.pending_peer_factor, args.pending_peer_hops, args.pending_peer_room)
    if traffic <= 0:
        return ctx.constant(float(MAX_DISTANCE))
    return MAX_DISTANCE - cost / traffic
