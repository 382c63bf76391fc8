"""Network cost of the running placement and the exact change of one pod move, through the shared search
engine (:mod:`augur.placement.search`), the one the pending-pod planner and the simulator's offline search
use.

The placement is a ``CountProblem`` whose every running pod is movable (``fixed`` is zero) and whose
target replica counts are the running counts, so ``CountProblem.cost`` is facts §5's network cost and the
marginal costs ``G`` of ``CountSearch`` give every one-pod move's cost change in ``O(1)``
(``G[w, m] - G[w, n]``); ``CountSearch.move`` keeps them exact as moves are chosen. Room is not modelled
here except the pods per node (``room_pods``: allocatable pods minus every pod on the node, kept by
``CountSearch.move``); which targets fit a pod (cores, memory, pod count, taints) is the caller's check
(``Working.fits``), as for load moves.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from augur.constants import FloatArray
from augur.placement.context import Snapshot
from augur.placement.distance import pairwise
from augur.placement.problem import CountProblem
from augur.placement.search import CountSearch


class NetworkModel:
    """Workload x node pod counts of the workloads with traffic, with their marginal costs."""

    def __init__(self, snapshot: Snapshot, counts: Mapping[str, Mapping[int, int]]) -> None:
        """``counts``: workload key → node position → running pods (workloads without peers are left out)."""
        rb, table = snapshot.rulebook, snapshot.table
        keys = sorted(k for k in counts if rb.peers(k) and sum(counts[k].values()) > 0)
        self.keys: tuple[str, ...] = tuple(keys)
        self.index = {k: i for i, k in enumerate(keys)}
        nw, nn = len(keys), len(table)
        traffic = np.zeros((nw, nw))
        for i, k in enumerate(keys):
            rules = rb.get(k)
            for dep in rules.dependencies if rules else ():
                j = self.index.get(dep.peer)
                if j is not None and j != i:
                    traffic[i, j] += dep.traffic
        x = np.zeros((nw, nn))
        for i, k in enumerate(keys):
            for n, c in counts[k].items():
                x[i, n] += c
        idx = np.arange(nn, dtype=np.int64)
        zeros = np.zeros(nw)
        others = table.pods - x.sum(axis=0)  # pods on each node that this model does not move
        problem = CountProblem(
            distances=pairwise(table, idx, idx),
            traffic=traffic,
            replicas=x.sum(axis=1),
            cpu=zeros,
            mem=zeros,
            room_cpu=np.full(nn, np.inf),
            room_mem=np.full(nn, np.inf),
            allowed=np.ones((nw, nn), dtype=bool),
            fixed=np.zeros((nw, nn)),
            room_pods=table.max_pods - np.maximum(others, 0.0),
        )
        self.search = CountSearch(problem, np.random.default_rng(0), x)

    def __contains__(self, workload: str | None) -> bool:
        return workload is not None and workload in self.index

    def cost(self) -> float:
        """Facts §5 network cost of the current counts."""
        return self.search.p.cost(self.search.x)

    def delta(self, workload: str, node: int) -> FloatArray:
        """Change of the network cost when one pod of ``workload`` moves from ``node`` to each node."""
        g = self.search.g[self.index[workload]]
        out: FloatArray = g - g[node]
        return out

    def move(self, workload: str, source: int, target: int) -> None:
        self.search.move(self.index[workload], source, target)

    def top_peers(self, workload: str, snapshot: Snapshot, limit: int = 3) -> list[str]:
        """The workload's peers with the most traffic (both directions), for explanations."""
        peers = snapshot.rulebook.peers(workload)
        return [k for k, _ in sorted(peers.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
