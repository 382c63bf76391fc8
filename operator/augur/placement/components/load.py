"""Inverse load: prefer nodes with more free capacity after placing the pod.

``requested = 100 * (1 - (wc * cpu_fraction + wm * memory_fraction) / (wc + wm))`` where the fractions
include the pod's own requests; where measured utilization is known,
``score = (1 - u) * requested + u * 100 * (1 - utilization)`` with ``u = utilizationWeight``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import FloatArray
from augur.placement.args import check_range
from augur.placement.context import ScoringContext

NAME = "load"


@dataclass(frozen=True)
class LoadArgs:
    weight: float = 0.2
    cpu_weight: float = 1.0
    memory_weight: float = 1.0
    utilization_weight: float = 0.5

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0)
        errors += check_range(prefix, "cpuWeight", self.cpu_weight, 0)
        errors += check_range(prefix, "memoryWeight", self.memory_weight, 0)
        errors += check_range(prefix, "utilizationWeight", self.utilization_weight, 0, 1)
        if self.cpu_weight + self.memory_weight <= 0:
            errors.append(FieldError(prefix, "cpuWeight + memoryWeight must be > 0"))
        return errors


def _shares(requested: FloatArray, extra: float, allocatable: FloatArray, inverse: FloatArray) -> FloatArray:
    share: FloatArray = np.clip((requested + extra) * inverse, 0.0, 1.0)
    if not np.isfinite(inverse).all():  # nothing allocatable: full
        share[allocatable <= 0] = 1.0
    return share


def score(ctx: ScoringContext, args: LoadArgs) -> FloatArray:
    t, c = ctx.table, ctx.cand
    inv = t.memo.get("load.inverse")
    if inv is None:
        with np.errstate(divide="ignore"):
            inv = t.memo["load.inverse"] = (1.0 / np.maximum(t.cpu, 0.0), 1.0 / np.maximum(t.memory, 0.0))
    cpu = _shares(t.cpu_requested[c], ctx.pod.cpu, t.cpu[c], inv[0][c])
    mem = _shares(t.memory_requested[c], ctx.pod.memory, t.memory[c], inv[1][c])
    mix = (args.cpu_weight * cpu + args.memory_weight * mem) / (args.cpu_weight + args.memory_weight)
    requested = 100.0 * (1.0 - mix)
    util = t.utilization[c]
    known = ~np.isnan(util)
    if not known.any() or args.utilization_weight == 0:
        return requested
    actual = 100.0 * (1.0 - np.clip(util, 0.0, 1.0))
    u = args.utilization_weight
    return np.where(known, (1 - u) * requested + u * actual, requested)
