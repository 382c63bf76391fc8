"""Affinity and anti-affinity: bonus for preferred zones and regions, penalty for avoided zones,
regions, nodes and nodes running avoided workloads.

``score = clip(50 + bonus * (#preferred matches) - penalty * (#avoided matches), 0, 100)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import FloatArray
from augur.placement.args import check_range
from augur.placement.context import ScoringContext

NAME = "affinity"
NEUTRAL = 50.0


@dataclass(frozen=True)
class AffinityArgs:
    weight: float = 2.0
    bonus: float = 50.0
    penalty: float = 50.0

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0)
        errors += check_range(prefix, "bonus", self.bonus, 0, 100)
        errors += check_range(prefix, "penalty", self.penalty, 0, 100)
        return errors


def member(ctx: ScoringContext, values: frozenset[str], attr: str) -> FloatArray:
    """1.0 where the candidate's ``attr`` (zone, region or name) is in ``values`` (vectorized by codes)."""
    if not values:
        return ctx.constant(0.0)
    table = ctx.table
    if attr == "zone":
        return table.zone_mask(values)[table.zone_idx[ctx.cand]].astype(np.float64)
    if attr == "region":
        return table.region_mask(values)[table.region_idx[ctx.cand]].astype(np.float64)
    hit = np.zeros(len(table), dtype=np.float64)
    hit[[i for v in values if (i := table.position.get(v)) is not None]] = 1.0
    return hit[ctx.cand]


def score(ctx: ScoringContext, args: AffinityArgs) -> FloatArray:
    rules = ctx.rules
    if rules is None or not (
        rules.prefer_zones
        or rules.prefer_regions
        or rules.avoid_zones
        or rules.avoid_regions
        or rules.avoid_nodes
        or rules.avoid_workloads
    ):
        return ctx.constant(NEUTRAL)
    prefer = member(ctx, rules.prefer_zones, "zone") + member(ctx, rules.prefer_regions, "region")
    avoid = (
        member(ctx, rules.avoid_zones, "zone")
        + member(ctx, rules.avoid_regions, "region")
        + member(ctx, rules.avoid_nodes, "name")
    )
    if rules.avoid_workloads:
        on_node, _ = ctx.hosts(rules.avoid_workloads)
        avoid += on_node > 0
    return np.clip(NEUTRAL + args.bonus * prefer - args.penalty * avoid, 0.0, 100.0)
