"""Scoring components, one module each with its arguments, defaults, validation and score function.

Every score function maps candidates to 0..100 (higher is better); :mod:`augur.placement.scoring`
combines them with their weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from augur.constants import FloatArray
from augur.placement.components import affinity, colocation, load, packing, plan, proximity, spread
from augur.placement.context import ScoringContext


@dataclass(frozen=True)
class Component:
    name: str
    args_type: type[Any]
    score: Callable[[ScoringContext, Any], FloatArray]


COMPONENTS: tuple[Component, ...] = (
    Component(load.NAME, load.LoadArgs, load.score),
    Component(proximity.NAME, proximity.ProximityArgs, proximity.score),
    Component(affinity.NAME, affinity.AffinityArgs, affinity.score),
    Component(colocation.NAME, colocation.ColocationArgs, colocation.score),
    Component(spread.NAME, spread.SpreadArgs, spread.score),
    Component(packing.NAME, packing.PackingArgs, packing.score),
    Component(plan.NAME, plan.PlanArgs, plan.score),
)

__all__ = ["COMPONENTS", "Component"]
