"""Capacity-aware packing of a service group: prefer nodes where the rest of the group still fits.

The group of a pod is its workload's replicas still to come (``replicas`` minus the running ones minus
this pod) plus, with ``peerShare``, the replicas of its direct peers that have no running pod yet
(they will be pulled to this pod, see ``proximity``). With ``free(n)`` the node's room after this pod
(CPU and memory, the tighter of the two):
``score(n) = 100 * min(1, free(n) / group_demand)`` (100 everywhere when nothing more is expected or
the replica counts are unknown). Chatty pods then start on a node that can take all of them instead
of splitting a workload over the last free slots of a crowded node.

Contention (``contention`` > 0): pending workloads near the pod are expected on certain nodes (see
:mod:`augur.placement.expectation`). Those with a higher traffic intensity than the pod's workload
(``Σ traffic / (replicas * cores per replica)``: network cost saved per core kept close) should get the
room first: with ``R(n)`` their expected remaining CPU on node ``n``, the pod scores at most
``100 * clip((free(n) - R(n)) / cpu, 0, 1)`` there, so a low-intensity workload yields a contested node
to the chattier services that will follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import FloatArray
from augur.placement.args import check_range
from augur.placement.context import ScoringContext
from augur.placement.expectation import expectations
from augur.placement.model import WorkloadRules

NAME = "packing"


@dataclass(frozen=True)
class PackingArgs:
    weight: float = 1.5
    peer_share: float = 0.0
    contention: float = 1.0
    hops: int = 10

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0) + check_range(prefix, "peerShare", self.peer_share, 0, 1)
        errors += check_range(prefix, "contention", self.contention, 0, 1)
        return errors + check_range(prefix, "hops", self.hops, 0, 20)


def intensity(rules: WorkloadRules | None, traffic: float, cpu: float | None) -> float | None:
    """Traffic per requested core of a workload (``None`` when replicas or size are unknown)."""
    if rules is None or rules.replicas is None or rules.replicas <= 0:
        return None
    size = rules.pod_cpu if rules.pod_cpu is not None else cpu
    if size is None or size <= 0:
        return None
    return traffic / (rules.replicas * size)


def reserved(ctx: ScoringContext, hops: int) -> FloatArray | None:
    """Expected remaining CPU, per node of the table, of the pending workloads near the pod that are more
    traffic-intense than the pod's own workload (``None`` when nothing is expected)."""
    pod, rulebook = ctx.pod, ctx.snapshot.rulebook
    if pod.workload is None:
        return None
    mine = intensity(ctx.rules, sum(rulebook.peers(pod.workload).values()), pod.cpu)
    if mine is None:
        return None
    _, expected = expectations(ctx, hops)
    out: FloatArray | None = None
    for workload, where in expected.items():
        rules = rulebook.get(workload)
        theirs = intensity(rules, sum(rulebook.peers(workload).values()), None)
        if rules is None or theirs is None or theirs <= mine or rules.replicas is None or rules.pod_cpu is None:
            continue
        left = rules.replicas - ctx.snapshot.occupancy.total(workload)
        if left > 0:
            out = where * (left * rules.pod_cpu) if out is None else out + where * (left * rules.pod_cpu)
    return out


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
    t, c = ctx.table, ctx.cand
    fit = ctx.constant(1.0)
    if args.contention > 0 and ctx.pod.cpu > 0 and (held := reserved(ctx, args.hops)) is not None:
        free = t.cpu - t.cpu_requested
        room = free[c] - args.contention * held[c]
        zones = len(t.zones)
        zone_free = np.bincount(t.zone_idx, weights=np.maximum(free, 0.0), minlength=zones)
        zone_held = np.bincount(t.zone_idx, weights=held, minlength=zones)
        zone_room = (zone_free - args.contention * zone_held)[t.zone_idx[c]]
        fit = np.clip(np.minimum(room, zone_room) / ctx.pod.cpu, 0.0, 1.0)
    cpu, mem = group_demand(ctx, args.peer_share)
    if cpu <= 0 and mem <= 0:
        return 100.0 * fit
    for need, alloc, used, own in (
        (cpu, t.cpu, t.cpu_requested, ctx.pod.cpu),
        (mem, t.memory, t.memory_requested, ctx.pod.memory),
    ):
        if need > 0:
            fit = np.minimum(fit, np.clip((alloc[c] - used[c] - own) / need, 0.0, 1.0))
    return 100.0 * fit
