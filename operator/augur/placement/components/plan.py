"""Follow the plan for the pods still to come (:mod:`augur.placement.plan`).

``score(n) = 100 - (distance from n to the nearest node where the plan still has a slot for the pod's
workload)``; 100 everywhere when there is no plan for it. Off by default (weight 0): planning needs the
``nodes²`` distance matrix and a local search per call, fine for the simulator and small clusters, not
for the extender's 5 ms budget at 1,000 nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.placement.args import check_range
from augur.placement.context import ScoringContext
from augur.placement.distance import nearest
from augur.placement.plan import plan_pending
from augur.placement.topology import MAX_DISTANCE, FloatArray

NAME = "plan"


@dataclass(frozen=True)
class PlanArgs:
    weight: float = 0.0
    passes: int = 20
    anneal_steps: int = 0

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0) + check_range(prefix, "passes", self.passes, 0, 1000)
        return errors + check_range(prefix, "annealSteps", self.anneal_steps, 0, 10_000_000)


def score(ctx: ScoringContext, args: PlanArgs) -> FloatArray:
    if args.weight <= 0 or ctx.pod.workload is None:
        return ctx.constant(float(MAX_DISTANCE))
    plan = plan_pending(ctx.snapshot, args.passes, args.anneal_steps)
    slots = plan.slots(ctx.pod.workload) if plan is not None else None
    if slots is None or slots.sum() <= 0:
        return ctx.constant(float(MAX_DISTANCE))
    near = nearest(ctx.table, ctx.cand, np.flatnonzero(slots > 0).astype(np.int64))
    return MAX_DISTANCE - near
