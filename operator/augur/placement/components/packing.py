"""Capacity-aware packing of a service group: prefer nodes where the rest of the group still fits.

The group of a pod is its workload's replicas still to come (``replicas`` minus the running ones minus
this pod) plus, with ``peerShare``, the replicas of its direct peers that have no running pod yet
(they will be pulled to this pod, see ``proximity``). With ``free(n)`` the node's room after this pod
(CPU and memory, the tighter of the two):
``score(n) = 100 * min(1, free(n) / group_demand)`` (100 everywhere when nothing more is expected or
the replica counts are unknown). Chatty pods then start on a node that can take all of them instead
of splitting a workload over the last free slots of a crowded node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.placement.args import check_range
from augur.placement.context import ScoringContext
from augur.placement.topology import FloatArray

NAME = "packing"


@dataclass(frozen=True)
class PackingArgs:
    weight: float = 0.5
    peer_share: float = 0.5

    def validate(self, prefix: str) -> list[FieldError]:
        return check_range(prefix, "weight", self.weight, 0) + check_range(prefix, "peerShare", self.peer_share, 0, 1)


def group_demand(ctx: ScoringContext, peer_share: float) -> tuple[float, float]:
    """CPU and memory the pod's group still needs after this pod."""
    rules, pod = ctx.rules, ctx.pod
    if rules is None or pod.workload is None:
        return 0.0, 0.0
    occupancy = ctx.snapshot.occupancy
    cpu = mem = 0.0
    if rules.replicas is not None:
        left = max(0, rules.replicas - occupancy.total(pod.workload) - 1)
        cpu += left * (rules.pod_cpu if rules.pod_cpu is not None else pod.cpu)
        mem += left * (rules.pod_memory if rules.pod_memory is not None else pod.memory)
    if peer_share > 0:
        rulebook = ctx.snapshot.rulebook
        for peer in rulebook.peers(pod.workload):
            other = rulebook.get(peer)
            if other is None or other.replicas is None or occupancy.total(peer) > 0:
                continue
            cpu += peer_share * other.replicas * (other.pod_cpu if other.pod_cpu is not None else pod.cpu)
            mem += peer_share * other.replicas * (other.pod_memory if other.pod_memory is not None else pod.memory)
    return cpu, mem


def score(ctx: ScoringContext, args: PackingArgs) -> FloatArray:
    cpu, mem = group_demand(ctx, args.peer_share)
    if cpu <= 0 and mem <= 0:
        return ctx.constant(100.0)
    t, c = ctx.table, ctx.cand
    fit = ctx.constant(1.0)
    for need, alloc, used, own in (
        (cpu, t.cpu, t.cpu_requested, ctx.pod.cpu),
        (mem, t.memory, t.memory_requested, ctx.pod.memory),
    ):
        if need > 0:
            fit = np.minimum(fit, np.clip((alloc[c] - used[c] - own) / need, 0.0, 1.0))
    return 100.0 * fit
