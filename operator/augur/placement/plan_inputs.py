"""What the pending-pod planner (:mod:`augur.placement.plan`) plans from: the problem a snapshot poses, what
must not change for a plan to be repaired rather than made anew, and where a full plan's greedy starts are
anchored.

The plannable workloads are those whose replica count and pod size are known (their rules form the plan's
signature). Each may use the nodes its required avoidances and capacity allow, and, while the others have
room for every replica, not the nodes a soft avoidance names.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass

import numpy as np

from augur.constants import BoolArray, FloatArray, IntArray
from augur.placement.constants import EPS
from augur.placement.context import Snapshot
from augur.placement.distance import pairwise
from augur.placement.model import RuleBook, WorkloadRules
from augur.placement.problem import CountProblem

PLAN_MEMO = "plan.distances"
SIGNATURE_MEMO = "plan.signature"


FULL_PLAN_REASONS = ("first", "nodes", "workloads", "pod_size", "traffic", "placement_rules")
"""Why a plan is made anew instead of repaired: no plan yet; the node set or topology changed (a new node
table); the plannable workloads changed (a workload's replica count and pod size became known, or a
profile went); a pod size changed; traffic between planned workloads changed; the nodes a workload may use
changed (avoidances, capacity, or a soft avoidance's room running out). Replica counts, binds and pods
that start or stop elsewhere are repaired."""


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """What a plan is made from: the workloads, the node table and the count problem over them."""

    keys: tuple[str, ...]
    nodes: tuple[str, ...]
    problem: CountProblem
    token: object
    """The node table's memo: identifies the node set and distances (shared by copies of the table)."""
    signature: dict[str, object]
    """What else must not change for a repair, by the reason a change gives (:data:`FULL_PLAN_REASONS`):
    the workloads, their pod sizes, the traffic between them, the nodes each may use."""

    def change(self, newer: PlanInputs) -> str:
        """Why a search made from these inputs cannot be repaired for ``newer``: the first of
        :data:`FULL_PLAN_REASONS` after ``first`` that applies, or ``""`` when it can."""
        if self.token is not newer.token:
            return "nodes"
        return next((reason for reason, mine in self.signature.items() if mine != newer.signature[reason]), "")


def plan_signature(rulebook: RuleBook) -> tuple[WorkloadRules, ...]:
    """The rules a plan depends on: those of the workloads with a known replica count and pod size, by key
    (memoized on the rule book)."""
    hit = rulebook.memo.get(SIGNATURE_MEMO)
    if hit is None:
        hit = rulebook.memo[SIGNATURE_MEMO] = tuple(_plannable(rulebook))
    return hit  # type: ignore[return-value]


def needs_new_plan(planned: tuple[WorkloadRules, ...], newer: tuple[WorkloadRules, ...]) -> bool:
    """Whether a plan made from the signature ``planned`` (:func:`plan_signature`) can no longer be repaired
    for ``newer``, whatever the nodes and pods: the plannable workloads, a pod size or the traffic between
    them changed (reasons ``workloads``, ``pod_size`` and ``traffic`` of :data:`FULL_PLAN_REASONS`, compared
    as :func:`plan_inputs` builds them). A changed replica count does not count (it is repaired), nor do the
    reasons that depend on nodes and pods (``nodes``, ``placement_rules``). ``O(rules)``; ``False`` at once
    while the rule book is the same object."""
    if planned is newer:
        return False
    if [r.key for r in planned] != [r.key for r in newer]:
        return True
    keys = {r.key for r in newer}
    return any(_fixed_part(a, keys) != _fixed_part(b, keys) for a, b in zip(planned, newer, strict=True))


def _fixed_part(r: WorkloadRules, keys: set[str]) -> tuple[float, float, tuple[tuple[str, float], ...]]:
    """Pod size and traffic to the other planned workloads, summed per peer as :func:`plan_inputs` does."""
    traffic: dict[str, float] = {}
    for peer, amount in _planned_traffic(r, keys):
        traffic[peer] = traffic.get(peer, 0.0) + amount
    return (r.pod_cpu or 0.0, r.pod_memory or 0.0, tuple(sorted(traffic.items())))


def _planned_traffic(r: WorkloadRules, planned: Container[str]) -> Iterator[tuple[str, float]]:
    """What a plan reads of ``r``'s dependencies: traffic to each other planned workload, one entry per
    dependency (the one rule :func:`plan_inputs` and :func:`needs_new_plan` share)."""
    return ((dep.peer, dep.traffic) for dep in r.dependencies if dep.peer in planned and dep.peer != r.key)


def _plannable(rulebook: RuleBook) -> list[WorkloadRules]:
    rules = (rulebook.get(k) for k in sorted(rulebook.keys()))
    return [r for r in rules if r is not None and r.replicas is not None and r.pod_cpu]


def _distances(snapshot: Snapshot) -> FloatArray:
    table = snapshot.table
    d: FloatArray | None = table.memo.get(PLAN_MEMO)
    if d is None:
        idx = np.arange(len(table), dtype=np.int64)
        d = table.memo[PLAN_MEMO] = pairwise(table, idx, idx)
    return d


def plan_inputs(snapshot: Snapshot) -> PlanInputs | None:
    """The planning problem of ``snapshot``: the plannable workloads (:func:`plan_signature`) over its node table,
    with what runs there fixed (``None`` when no workload is plannable or there is no node)."""
    rb, table = snapshot.rulebook, snapshot.table
    rules = list(plan_signature(rb))
    if not rules or len(table) == 0:
        return None
    keys = tuple(r.key for r in rules)
    pos = {k: i for i, k in enumerate(keys)}
    nw, nn = len(keys), len(table)
    cpu = np.array([r.pod_cpu or 0.0 for r in rules], dtype=np.float64)
    mem = np.array([r.pod_memory or 0.0 for r in rules], dtype=np.float64)
    traffic = np.zeros((nw, nw))
    fixed = np.zeros((nw, nn))
    allowed = np.empty((nw, nn), dtype=bool)
    for i, r in enumerate(rules):
        for peer, amount in _planned_traffic(r, pos):
            traffic[i, pos[peer]] += amount
        idx, count = snapshot.placed(r.key)
        fixed[i, idx] = count
        allowed[i] = _allowed(snapshot, r.avoid_zones, r.avoid_regions, r.avoid_nodes, r.required_avoidance)
    allowed &= (cpu[:, None] <= table.cpu + EPS) & (mem[:, None] <= table.memory + EPS)
    room_cpu, room_mem = table.cpu - table.cpu_requested, table.memory - table.memory_requested
    for i, r in enumerate(rules):
        allowed[i] = _preferred(snapshot, r, allowed[i], cpu[i], mem[i], room_cpu, room_mem)
    problem = CountProblem(
        distances=_distances(snapshot),
        traffic=traffic,
        replicas=np.array([r.replicas for r in rules], dtype=np.float64),
        cpu=cpu,
        mem=mem,
        room_cpu=room_cpu,
        room_mem=room_mem,
        allowed=allowed,
        fixed=fixed,
        room_pods=table.pod_room(),
    )
    signature: dict[str, object] = {
        "workloads": keys,
        "pod_size": (cpu.tobytes(), mem.tobytes()),
        "traffic": traffic.tobytes(),
        "placement_rules": allowed.tobytes(),
    }
    return PlanInputs(keys, table.names_tuple, problem, table.memo, signature)


def anchors(snapshot: Snapshot, p: CountProblem, starts: int, rank: IntArray) -> list[int | None]:
    """Start nodes of a full plan (table positions): ``None`` (the node with most room) and, when there is more
    than one zone, in each of the ``starts - 1`` zones with most room the node with most room. Ties go to
    the zone or node first in the canonical order (``rank``: canonical position of each table position):
    zones and ranks, not names or positions, so the starts depend neither on node names nor on listing order."""
    table = snapshot.table
    if starts <= 1 or len(table.zones) <= 1:
        return [None]
    usable = p.allowed.any(axis=0) & (p.pod_room >= 1)
    room = np.where(usable, np.maximum(p.room_cpu, 0.0), -1.0)
    zone_room = np.bincount(table.zone_idx, weights=np.maximum(room, 0.0), minlength=len(table.zones))
    first = np.full(len(table.zones), len(rank), dtype=np.int64)
    np.minimum.at(first, table.zone_idx[usable], rank[usable])
    out: list[int | None] = [None]
    for z in np.lexsort((first, -zone_room))[: starts - 1].tolist():
        members = np.flatnonzero((table.zone_idx == z) & usable)
        if len(members):
            out.append(int(members[np.lexsort((rank[members], -room[members]))[0]]))
    return out


def _preferred(
    snapshot: Snapshot, r: WorkloadRules, allowed: BoolArray, cpu: float, mem: float,
    room_cpu: FloatArray, room_mem: FloatArray,
) -> BoolArray:  # fmt: skip
    """A soft avoidance (``requiredAvoidance: false``) keeps the plan off the avoided zones, regions and
    nodes while the other allowed nodes have room for every replica; only then may the plan use them
    (the network cost alone is blind to it, and ties between equal-cost nodes would decide)."""
    if r.required_avoidance or not (r.avoid_zones or r.avoid_regions or r.avoid_nodes):
        return allowed
    preferred = allowed & _allowed(snapshot, r.avoid_zones, r.avoid_regions, r.avoid_nodes, True)
    fits = np.minimum(
        np.floor((room_cpu[preferred] + EPS) / max(cpu, EPS)), np.floor((room_mem[preferred] + EPS) / max(mem, EPS))
    )
    need = r.replicas if r.replicas is not None else 1
    return preferred if float(np.clip(fits, 0, None).sum()) >= need else allowed


def _allowed(
    snapshot: Snapshot, zones: frozenset[str], regions: frozenset[str], nodes: frozenset[str], required: bool
) -> BoolArray:
    table = snapshot.table
    ok = np.ones(len(table), dtype=bool)
    if required:
        ok &= ~table.zone_mask(zones)[table.zone_idx] & ~table.region_mask(regions)[table.region_idx]
        ok &= np.fromiter((n not in nodes for n in table.names_tuple), dtype=bool, count=len(table))
    return ok
