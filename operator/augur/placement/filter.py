"""Hard rules only: required avoidance and the maximum distance to a dependency, each with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from augur.constants import FloatArray
from augur.placement.context import ScoringContext, Snapshot
from augur.placement.distance import nearest
from augur.placement.model import PodInfo, WorkloadRules


@dataclass(frozen=True)
class FilterResult:
    passed: tuple[str, ...]
    failed: dict[str, str]
    """Node name → why the pod may not run there."""
    unknown: tuple[str, ...] = ()
    """Names the snapshot does not know (passed through: the extender cannot judge them)."""


def has_hard_rules(rules: WorkloadRules | None) -> bool:
    """Whether :func:`filter_nodes` can fail a node for this workload (else every node passes)."""
    if rules is None:
        return False
    return rules.required_avoidance or any(d.max_distance is not None for d in rules.dependencies)


def filter_nodes(pod: PodInfo, snapshot: Snapshot, node_names: Sequence[str] | None = None) -> FilterResult:
    names = snapshot.table.names if node_names is None else list(node_names)
    cand, unknown = snapshot.table.resolve(names)
    ctx = ScoringContext(pod, snapshot.rulebook.get(pod.workload), snapshot, cand)
    reasons = node_reasons(ctx)
    known_names = [snapshot.table.nodes[i].name for i in cand.tolist()]
    failed = {n: "; ".join(r) for n, r in zip(known_names, reasons, strict=True) if r}
    return FilterResult(tuple(n for n in names if n not in failed), failed, tuple(unknown))


def node_reasons(ctx: ScoringContext) -> list[list[str]]:
    """Every reason each candidate fails (an empty list when it passes)."""
    reasons: list[list[str]] = [[] for _ in range(len(ctx.cand))]
    rules = ctx.rules
    if rules is None:
        return reasons
    nodes = ctx.table.nodes
    if rules.required_avoidance:
        for r, i in enumerate(ctx.cand.tolist()):
            node = nodes[i]
            for what, value, avoided in (
                ("zone", node.zone, rules.avoid_zones),
                ("region", node.region, rules.avoid_regions),
                ("node", node.name, rules.avoid_nodes),
            ):
                if value in avoided:
                    reasons[r].append(f"{what} {value} is avoided by {rules.key} (requiredAvoidance)")
        for workload in sorted(rules.avoid_workloads):
            on_node, _ = ctx.hosts([workload])
            for r in np.flatnonzero(on_node > 0).tolist():
                reasons[r].append(f"node runs {workload}, avoided by {rules.key} (requiredAvoidance)")
    for dep in rules.dependencies:
        if dep.max_distance is None:
            continue
        near = _nearest(ctx, dep.peer)
        for r in np.flatnonzero(near > dep.max_distance).tolist():
            reasons[r].append(
                f"distance {near[r]:g} to the nearest {dep.peer} pod exceeds maxDistance {dep.max_distance}"
            )
    return reasons


def _nearest(ctx: ScoringContext, peer: str) -> FloatArray:
    idx, _ = ctx.snapshot.placed(peer)
    if len(idx) == 0:
        return ctx.constant(0.0)
    return nearest(ctx.table, ctx.cand, idx)
