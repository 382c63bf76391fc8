"""kube-scheduler's default score plugins (v1.36 default profile, weights in
:data:`~augur.placement.constants.DEFAULT_PLUGIN_WEIGHTS`) as they act on a scenario's pods, in kube's
integer arithmetic (millicores and bytes, ``int64`` divisions), plus how an extender's score is added.

Modeled faithfully: ``NodeResourcesFit`` (``LeastAllocated``, cpu and memory weight 1, non-zero requests:
a pod without a CPU or memory request counts 100m / 200 MiB), ``NodeResourcesBalancedAllocation``
(``(1 - |cpu fraction - memory fraction| / 2) x 100``) and ``PodTopologySpread`` with the system default
constraints (zone maxSkew 5, hostname maxSkew 3, ``ScheduleAnyway``; counts of the pod's own workload,
normalizing weight ``log(domains + 2)``, normalized ``100 (max + min - s) / max``; nodes without a zone
label score 0). Constant across nodes in every scenario, so they never change a choice, but added so that
totals match kube's: ``TaintToleration`` (no taints: 100 everywhere), ``NodeAffinity`` and
``InterPodAffinity`` (no preferred terms: 0), ``ImageLocality`` (no image on any node: 0).
Not modeled: ``percentageOfNodesToScore`` sampling (every scenario has fewer than 100 nodes, where kube
scores every feasible node) and preemption.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from augur.constants import IntArray
from augur.placement.constants import (
    DEFAULT_PLUGIN_WEIGHTS,
    EXTENDER_SCALE,
    MAX_NODE_SCORE,
    NONZERO_CPU,
    NONZERO_MEMORY,
    SHIPPED_EXTENDER_FILTER,
    SHIPPED_EXTENDER_WEIGHT,
)
from augur.placement.table import NodeTable

GIB = 1 << 30
ZONE_SKEW, HOSTNAME_SKEW = 5, 3


@dataclass(frozen=True)
class KubeModel:
    """The scheduler configuration the simulator places pods with."""

    weights: MappingProxyType[str, int] = field(default_factory=lambda: DEFAULT_PLUGIN_WEIGHTS)
    extender_weight: int = SHIPPED_EXTENDER_WEIGHT
    """Each extender point adds ``score (0..10) x weight x 10`` to a node's total."""
    extender_filter: bool = SHIPPED_EXTENDER_FILTER
    """kube-scheduler calls the extender's filter verb (after its filter plugins) and keeps only the nodes it
    passes; without it, every node that fits is scored, by :func:`~augur.placement.score_unfiltered`."""
    view_lag: int = 0
    """Binds Augur's view does not show yet: kube-scheduler binds asynchronously and the extender's pod watch
    delivers each binding later, so in a burst the extender scores a pod (and its planner plans) without the
    last ``view_lag`` pods kube-scheduler placed, while kube's own plugins count them (its cache assumes each
    pod at once). 0 (the default): the extender sees every bind before the next pod, as in the gated replay."""


@dataclass
class KubeNodes:
    """Per node (table order), what kube's plugins read: allocatable and non-zero requested, in kube units."""

    table: NodeTable
    alloc_cpu: IntArray = field(init=False)
    alloc_mem: IntArray = field(init=False)
    req_cpu: IntArray = field(init=False)
    req_mem: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self.alloc_cpu = np.rint(self.table.cpu * 1000).astype(np.int64)
        self.alloc_mem = np.rint(self.table.memory * GIB).astype(np.int64)
        self.req_cpu = np.zeros(len(self.table), dtype=np.int64)
        self.req_mem = np.zeros(len(self.table), dtype=np.int64)

    def add(self, node: int, cpu: float, memory: float) -> None:
        c, m = pod_units(cpu, memory)
        self.req_cpu[node] += c
        self.req_mem[node] += m


def pod_units(cpu: float, memory: float) -> tuple[int, int]:
    """Non-zero requests of a pod in millicores and bytes."""
    return round((cpu or NONZERO_CPU) * 1000), round((memory or NONZERO_MEMORY) * GIB)


def plugin_scores(
    nodes: KubeNodes, cpu: float, memory: float, own: npt.NDArray[np.float64], cand: IntArray
) -> dict[str, IntArray]:
    """Each default score plugin's normalized 0..100 score for the candidates; ``own`` = pods of the pod's
    workload per node (table order)."""
    c, m = pod_units(cpu, memory)
    rc, rm = nodes.req_cpu[cand] + c, nodes.req_mem[cand] + m
    ac, am = nodes.alloc_cpu[cand], nodes.alloc_mem[cand]
    least = (_least(rc, ac) + _least(rm, am)) // 2
    fc, fm = np.minimum(rc / ac, 1.0), np.minimum(rm / am, 1.0)
    balanced = ((1 - np.abs(fc - fm) / 2) * MAX_NODE_SCORE).astype(np.int64)
    zeros = np.zeros(len(cand), dtype=np.int64)
    return {
        "NodeResourcesFit": least,
        "NodeResourcesBalancedAllocation": balanced,
        "PodTopologySpread": topology_spread(nodes.table, own, cand),
        "TaintToleration": zeros + MAX_NODE_SCORE,
        "NodeAffinity": zeros,
        "InterPodAffinity": zeros,
        "ImageLocality": zeros,
    }


def _least(requested: IntArray, alloc: IntArray) -> IntArray:
    out: IntArray = np.where(requested > alloc, 0, (alloc - requested) * MAX_NODE_SCORE // np.maximum(alloc, 1))
    return out


def topology_spread(table: NodeTable, own: npt.NDArray[np.float64], cand: IntArray) -> IntArray:
    """PodTopologySpread score with the system default constraints, normalized over the candidates."""
    labelled = np.array([n.zone != "" for n in table.nodes], dtype=bool)
    zone_counts = np.bincount(table.zone_idx[labelled], weights=own[labelled], minlength=len(table.zones))
    zone_weight = math.log(len(set(table.zone_idx[cand[labelled[cand]]].tolist())) + 2)
    host_weight = math.log(int(labelled[cand].sum()) + 2)
    raw = zone_counts[table.zone_idx[cand]] * zone_weight + (ZONE_SKEW - 1)
    raw += own[cand] * host_weight + (HOSTNAME_SKEW - 1)
    scores = np.floor(raw + 0.5).astype(np.int64)  # Go math.Round: halves away from zero
    valid = labelled[cand]
    if not valid.any():
        return np.zeros(len(cand), dtype=np.int64)
    top, low = int(scores[valid].max()), int(scores[valid].min())
    if top == 0:
        return np.where(valid, MAX_NODE_SCORE, 0).astype(np.int64)
    out: IntArray = np.where(valid, MAX_NODE_SCORE * (top + low - scores) // top, 0)
    return out


def kube_total(scores: dict[str, IntArray], model: KubeModel) -> IntArray:
    total: IntArray = np.zeros(len(next(iter(scores.values()))), dtype=np.int64)
    for name, s in scores.items():
        total += model.weights.get(name, 0) * s
    return total


def with_extender(total: IntArray, extender_scores: IntArray, model: KubeModel) -> IntArray:
    """kube's total plus an extender's ``0..10`` scores x weight x ``MaxNodeScore / MaxExtenderPriority``."""
    out: IntArray = total + extender_scores.astype(np.int64) * model.extender_weight * EXTENDER_SCALE
    return out


def pick(
    cand: IntArray,
    total: npt.NDArray[np.generic],
    rng: np.random.Generator,
    rank: Callable[[IntArray], IntArray] | None = None,
) -> int:
    """kube's ``selectHost``: uniformly at random among the highest totals. ``rank`` puts the tied nodes in a
    canonical order first (by what the nodes are and hold, not their names), so the seeded draw picks the
    same kind of node whatever the nodes are called or the order they were listed in."""
    values = total.astype(np.float64)
    ties = cand[values >= values.max() - 1e-9]
    if rank is not None and len(ties) > 1:
        ties = ties[np.argsort(rank(ties), kind="stable")]
    return int(ties[rng.integers(len(ties))])
