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
from augur.placement.table import NodeTable

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


def _shares(
    requested: FloatArray, extra: float, allocatable: FloatArray, inverse: FloatArray, finite: bool
) -> FloatArray:
    share: FloatArray = np.clip((requested + extra) * inverse, 0.0, 1.0)
    if not finite:  # nothing allocatable on some node: full
        share[allocatable <= 0] = 1.0
    return share


@dataclass(frozen=True, eq=False)
class _Static:
    """What the component reads from a node table's fixed columns, once per table (``memo``)."""

    inverse_cpu: FloatArray
    inverse_memory: FloatArray
    cpu_finite: bool
    memory_finite: bool
    utilization_known: bool
    """Some node has a measured utilization."""


def _static(t: NodeTable) -> _Static:
    hit: _Static | None = t.memo.get("load.static")
    if hit is None:
        with np.errstate(divide="ignore"):
            inv_cpu, inv_mem = 1.0 / np.maximum(t.cpu, 0.0), 1.0 / np.maximum(t.memory, 0.0)
        hit = t.memo["load.static"] = _Static(
            inv_cpu,
            inv_mem,
            bool(np.isfinite(inv_cpu).all()),
            bool(np.isfinite(inv_mem).all()),
            bool((~np.isnan(t.utilization)).any()),
        )
    return hit


def score(ctx: ScoringContext, args: LoadArgs) -> FloatArray:
    t, c = ctx.table, ctx.cand
    s = _static(t)
    cpu = _shares(t.cpu_requested[c], ctx.pod.cpu, t.cpu[c], s.inverse_cpu[c], s.cpu_finite)
    mem = _shares(t.memory_requested[c], ctx.pod.memory, t.memory[c], s.inverse_memory[c], s.memory_finite)
    mix = (args.cpu_weight * cpu + args.memory_weight * mem) / (args.cpu_weight + args.memory_weight)
    requested = 100.0 * (1.0 - mix)
    if not s.utilization_known or args.utilization_weight == 0:
        return requested
    util = t.utilization[c]
    known = ~np.isnan(util)
    if not known.any():
        return requested
    actual = 100.0 * (1.0 - np.clip(util, 0.0, 1.0))
    u = args.utilization_weight
    return np.where(known, (1 - u) * requested + u * actual, requested)
