"""Co-location bonus: 100 on nodes already running a pod of a ``colocateWith`` workload,
``100 * zoneCredit`` on other nodes of a zone that runs one, 0 elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import FloatArray
from augur.placement.args import check_range
from augur.placement.context import ScoringContext

NAME = "colocation"


@dataclass(frozen=True)
class ColocationArgs:
    weight: float = 1.0
    zone_credit: float = 0.25

    def validate(self, prefix: str) -> list[FieldError]:
        return check_range(prefix, "weight", self.weight, 0) + check_range(prefix, "zoneCredit", self.zone_credit, 0, 1)


def score(ctx: ScoringContext, args: ColocationArgs) -> FloatArray:
    if ctx.rules is None or not ctx.rules.colocate_with:
        return ctx.constant(0.0)
    on_node, in_zone = ctx.hosts(ctx.rules.colocate_with)
    return np.where(on_node > 0, 100.0, np.where(in_zone > 0, 100.0 * args.zone_credit, 0.0))
