"""The best placement found offline: the exact optimum when the space is small enough (exhaustive
enumeration, else a MILP proven optimal), else the shared local search (:func:`search_best`) started from
the simulated placements and any MILP incumbent. Ignores ``maxDistance`` and soft preferences; honours
resource fit (cores, memory, pods per node) and required avoidance."""

from __future__ import annotations

import numpy as np

from augur.placement.iterated import search_best
from augur.placement.problem import CountProblem
from augur.sim.placement.exact import exhaustive, milp_best, search_space
from augur.sim.placement.metrics import Outcome, counts_of, to_assignment
from augur.sim.placement.scenario import Scenario, ScenarioWorkload

EXHAUSTIVE_LIMIT = 60_000
"""Largest number of count vectors the exact search enumerates."""
ANNEAL_RESTARTS = 4
"""Annealing runs of the offline search (each restarts from the best placement so far)."""
ANNEAL_MAX_STEPS = 150_000


def build_problem(sc: Scenario, distances: np.ndarray) -> CountProblem:
    """The scenario as a count problem over the node table (nothing fixed, room = allocatable)."""
    index = {w.name: i for i, w in enumerate(sc.workloads)}
    traffic = np.zeros((len(sc.workloads), len(sc.workloads)))
    for a, wl in enumerate(sc.workloads):
        for peer, t in wl.talks_to.items():
            traffic[a, index[peer]] += t
    table = sc.table
    allowed = np.array(
        [
            [
                _allowed(wl, n.name, n.zone, n.region, c, m)
                for n, c, m in zip(table.nodes, table.cpu, table.memory, strict=True)
            ]
            for wl in sc.workloads
        ],
        dtype=np.bool_,
    )
    return CountProblem(
        distances=distances,
        traffic=traffic,
        replicas=np.array([w.replicas for w in sc.workloads], dtype=np.float64),
        cpu=np.array([w.cpu for w in sc.workloads], dtype=np.float64),
        mem=np.array([w.memory for w in sc.workloads], dtype=np.float64),
        room_cpu=table.cpu.copy(),
        room_mem=table.memory.copy(),
        allowed=allowed,
        fixed=np.zeros((len(sc.workloads), len(table))),
        room_pods=table.max_pods.copy(),
    )


def _allowed(wl: ScenarioWorkload, name: str, zone: str, region: str, cpu: float, memory: float) -> bool:
    if wl.cpu > cpu or wl.memory > memory:
        return False
    if not wl.required_avoidance:
        return True
    return zone not in wl.avoid_zones and region not in wl.avoid_regions and name not in wl.avoid_nodes


def find_best(sc: Scenario, starts: list[Outcome], distances: np.ndarray, rounds: int) -> tuple[Outcome, bool]:
    """The exact optimum when the space is small enough (exhaustive enumeration, else a MILP proven
    optimal), else the best of a long local search (and of the MILP's incumbent, if any)."""
    p = build_problem(sc, distances)
    if search_space(p, with_unplaced=False) <= EXHAUSTIVE_LIMIT:
        counts = exhaustive(p, with_unplaced=False)
        if counts is None and search_space(p, with_unplaced=True) <= EXHAUSTIVE_LIMIT:
            counts = exhaustive(p, with_unplaced=True)
        if counts is not None:
            return to_assignment(sc, counts), True
    exact_counts, proven = milp_best(p) if rounds > 0 else (None, False)
    if exact_counts is not None and proven:
        return to_assignment(sc, exact_counts), True
    pods = int(p.replicas.sum())
    steps = 0 if rounds == 0 else min(ANNEAL_MAX_STEPS, max(20_000, 600 * pods))
    starts_counts = [counts_of(sc, s.assignment) for s in starts]
    if exact_counts is not None:
        starts_counts.insert(0, exact_counts)
    counts = search_best(p, starts_counts, np.random.default_rng(sc.seed), rounds, steps, ANNEAL_RESTARTS)
    return to_assignment(sc, counts), False
