"""Metrics of a placement, exactly per facts §5: network cost and load balance, recomputable from the
assignment each result carries. Arrays are in the order of the scenario's node table (sorted by name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from augur.placement.distance import pairwise
from augur.sim.placement.scenario import Scenario


@dataclass(frozen=True)
class Outcome:
    assignment: dict[str, str]
    unplaced: int

    def report(self, sc: Scenario, distances: np.ndarray) -> dict[str, Any]:
        counts = counts_of(sc, self.assignment)
        return {
            "network_cost": round(float(network_cost(sc, counts, distances)), 6),
            "load_stddev": round(load_stddev(sc, counts), 6),
            "unplaced": self.unplaced,
            "assignment": dict(self.assignment),
        }


def node_distances(sc: Scenario) -> np.ndarray:
    idx = np.arange(len(sc.table), dtype=np.int64)
    return pairwise(sc.table, idx, idx)


def counts_of(sc: Scenario, assignment: Mapping[str, str]) -> np.ndarray:
    """Workload x node pod counts of an assignment."""
    pos = sc.table.position
    counts = np.zeros((len(sc.workloads), len(sc.table)))
    for w, pod in sc.pods():
        if pod in assignment:
            counts[w, pos[assignment[pod]]] += 1
    return counts


def network_cost(sc: Scenario, counts: np.ndarray, distances: np.ndarray) -> float:
    index = {w.name: i for i, w in enumerate(sc.workloads)}
    cost = 0.0
    for a, wl in enumerate(sc.workloads):
        for peer, traffic in wl.talks_to.items():
            b = index[peer]
            na, nb = counts[a].sum(), counts[b].sum()
            if na and nb and traffic:
                cost += traffic * float(counts[a] @ distances @ counts[b]) / (na * nb)
    return cost


def node_loads(sc: Scenario, counts: np.ndarray) -> np.ndarray:
    """Each node's CPU taken by ``sc``'s workloads over its CPU, in the table's node order."""
    cpu = np.array([w.cpu for w in sc.workloads])
    return np.asarray((cpu @ counts) / sc.table.cpu, dtype=float)


def load_stddev(sc: Scenario, counts: np.ndarray) -> float:
    return float(np.std(node_loads(sc, counts)))


def to_assignment(sc: Scenario, counts: np.ndarray) -> Outcome:
    """Pods of each workload fill its nodes in table order, by pod index."""
    assignment: dict[str, str] = {}
    unplaced = 0
    names = sc.table.names_tuple
    for w, wl in enumerate(sc.workloads):
        slots = [names[i] for i in range(len(names)) for _ in range(int(counts[w, i]))]
        for i in range(wl.replicas):
            if i < len(slots):
                assignment[f"{wl.name}-{i}"] = slots[i]
            else:
                unplaced += 1
    return Outcome(assignment, unplaced)
