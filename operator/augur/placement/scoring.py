"""Combine the components into one score per node, with a per-node breakdown.

``total(n) = Σ_c w_c * score_c(n) / Σ_c w_c`` (0..100), then normalized to the extender's 0..10
integers (``MaxExtenderPriority``): ``MinMax`` maps the best candidate to 10 and the worst to 0 (all
equal → :data:`NEUTRAL_SCORE`); ``Absolute`` is ``round(total / 10)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from augur.constants import FloatArray, IntArray
from augur.placement.components import COMPONENTS
from augur.placement.config import Normalization, ScoringConfig
from augur.placement.constants import EPS, MAX_PRIORITY, NEUTRAL_SCORE
from augur.placement.context import ScoringContext, Snapshot
from augur.placement.model import PodInfo
from augur.placement.table import NodeTable

DEFAULT_CONFIG = ScoringConfig()


@dataclass(frozen=True, eq=False)
class ScoreResult:
    table: NodeTable = field(repr=False)
    """The node table :attr:`cand` indexes."""
    total: FloatArray
    """Weighted mean of the components, 0..100."""
    components: dict[str, FloatArray]
    weights: dict[str, float]
    scores: IntArray
    """Normalized 0..MAX_PRIORITY integers."""
    unknown: tuple[str, ...] = ()
    """Candidates the snapshot does not know; they get :data:`NEUTRAL_SCORE`."""
    cand: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Positions of :attr:`nodes` in the snapshot's node table."""

    @cached_property
    def nodes(self) -> tuple[str, ...]:
        """Known candidates, in request order (named on first use: the extender's reply needs only
        :attr:`cand`)."""
        return self.table.names_of(self.cand)

    def host_priorities(self) -> list[tuple[str, int]]:
        known = list(zip(self.nodes, self.scores.tolist(), strict=True))
        return known + [(n, NEUTRAL_SCORE) for n in self.unknown]

    def best(self) -> str | None:
        """The candidate with the highest total (first one on ties)."""
        return self.nodes[int(np.argmax(self.total))] if self.nodes else None

    def breakdown(self) -> list[dict[str, Any]]:
        """One entry per known node: final score, total and every component's raw and weighted value."""
        wsum = sum(self.weights.values()) or 1.0
        return [
            {
                "node": name,
                "score": int(self.scores[i]),
                "total": round(float(self.total[i]), 3),
                "components": {
                    c: {
                        "raw": round(float(v[i]), 3),
                        "weight": self.weights[c],
                        "contribution": round(float(v[i]) * self.weights[c] / wsum, 3),
                    }
                    for c, v in self.components.items()
                },
            }
            for i, name in enumerate(self.nodes)
        ]


def normalize(total: FloatArray, mode: Normalization = "MinMax") -> IntArray:
    """0..100 totals → 0..MAX_PRIORITY integers."""
    if len(total) == 0:
        return np.zeros(0, dtype=np.int64)
    if mode == "Absolute":
        return np.clip(np.rint(total / (100 / MAX_PRIORITY)), 0, MAX_PRIORITY).astype(np.int64)
    low, high = float(total.min()), float(total.max())
    if high - low < EPS:
        return np.full(len(total), NEUTRAL_SCORE, dtype=np.int64)
    return np.rint(MAX_PRIORITY * (total - low) / (high - low)).astype(np.int64)


def score_candidates(ctx: ScoringContext, config: ScoringConfig) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Total and components for the context's candidates."""
    components = {c.name: c.score(ctx, config.args(c.name)) for c in COMPONENTS}
    weights = {c.name: config.args(c.name).weight for c in COMPONENTS}
    wsum = sum(weights.values())
    total = ctx.constant(0.0)
    for name, values in components.items():
        if weights[name]:
            total += weights[name] * values
    return total / wsum, components


def score_nodes(
    pod: PodInfo,
    snapshot: Snapshot,
    node_names: Sequence[str] | None = None,
    config: ScoringConfig = DEFAULT_CONFIG,
) -> ScoreResult:
    """Score ``node_names`` (default: every node of the snapshot) for ``pod``."""
    table = snapshot.table
    cand, unknown = (table.memo["all"], []) if node_names is None else table.resolve(node_names)
    ctx = ScoringContext(pod, snapshot.rulebook.get(pod.workload), snapshot, cand)
    total, components = score_candidates(ctx, config)
    return ScoreResult(
        table=table,
        total=total,
        components=components,
        weights={c.name: config.args(c.name).weight for c in COMPONENTS},
        scores=normalize(total, config.normalization),
        unknown=tuple(unknown),
        cand=cand,
    )
