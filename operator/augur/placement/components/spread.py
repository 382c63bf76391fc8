"""Spread of a workload's replicas across failure domains (the ``spreadTopologyKey`` label values).

With ``c(n)`` the workload's pods in the candidate's domain and ``m`` the largest such count among the
candidates: ``score = 100 * (m - c(n)) / m`` (100 everywhere when ``m = 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import ZONE_LABEL, FloatArray
from augur.placement.args import check_range
from augur.placement.context import ScoringContext

NAME = "spread"


@dataclass(frozen=True)
class SpreadArgs:
    weight: float = 0.1

    def validate(self, prefix: str) -> list[FieldError]:
        return check_range(prefix, "weight", self.weight, 0)


def domain_counts(ctx: ScoringContext) -> FloatArray:
    """Pods of the pod's own workload in each candidate's failure domain."""
    workload = ctx.pod.workload
    if workload is None:
        return ctx.constant(0.0)
    key = ctx.rules.spread_topology_key if ctx.rules and ctx.rules.spread_topology_key else ZONE_LABEL
    domains = ctx.table.domains(key)
    idx, count = ctx.snapshot.placed(workload)
    size = int(domains.max(initial=0)) + 1
    per_domain = np.bincount(domains[idx], weights=count, minlength=size).astype(np.float64)
    return per_domain[domains[ctx.cand]]


def score(ctx: ScoringContext, args: SpreadArgs) -> FloatArray:
    counts = domain_counts(ctx)
    top = float(counts.max(initial=0.0))
    if top <= 0:
        return ctx.constant(100.0)
    return 100.0 * (top - counts) / top
