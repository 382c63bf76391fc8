"""The placement problem the local search (:mod:`augur.placement.search`) optimizes, over counts.

``CountProblem`` holds a workload x node view: distances, traffic, target replica counts, pod sizes, the
room each node has left for the pods that may move, where each workload may go, and the pods that run and
do not move. It knows the pair weights ``K_ab = (T_ab + T_ba) / (r_a r_b)`` the search keeps marginal
costs with, the network cost (facts §5) and feasibility of a count matrix, and its canonical node order
(:mod:`augur.placement.canonical`), so that results depend neither on node order nor on node names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from augur.constants import BoolArray, FloatArray, IntArray
from augur.placement.canonical import DistanceCodes, canonical_order
from augur.placement.constants import EPS, UNPLACED_PENALTY


@dataclass(frozen=True, eq=False)
class CountProblem:
    """What the search optimizes: distances, traffic, sizes, room and the pods that do not move."""

    distances: FloatArray
    """Node x node distances."""
    traffic: FloatArray
    """Workload x workload traffic ``T[a, b]`` of ``a → b``."""
    replicas: FloatArray
    """Target pod count per workload (fixed plus movable)."""
    cpu: FloatArray
    mem: FloatArray
    room_cpu: FloatArray
    """Per node: room for the movable pods (allocatable minus everything that runs)."""
    room_mem: FloatArray
    allowed: BoolArray
    """Workload x node: the pod fits the node at all and no hard rule excludes it."""
    fixed: FloatArray
    """Workload x node: running pods (they count in the cost, never move)."""
    room_pods: FloatArray | None = None
    """Per node: how many more pods it accepts (allocatable pods minus every pod on it); ``None``: no limit."""

    @cached_property
    def pod_room(self) -> FloatArray:
        """:attr:`room_pods`, with ``inf`` when there is no limit."""
        if self.room_pods is None:
            return np.full(len(self.room_cpu), np.inf)
        return self.room_pods

    @cached_property
    def k(self) -> FloatArray:
        r = np.maximum(self.replicas, self.fixed.sum(axis=1))
        inv = np.divide(1.0, r, out=np.zeros_like(r, dtype=np.float64), where=r > 0)
        k: FloatArray = (self.traffic + self.traffic.T) * np.outer(inv, inv)
        np.fill_diagonal(k, 0.0)
        return k

    @cached_property
    def neighbours(self) -> list[IntArray]:
        """Per workload, the workloads with a non-zero pair weight (the rows a move of it changes)."""
        return [np.flatnonzero(self.k[:, w]).astype(np.int64) for w in range(len(self.replicas))]

    def canonical(
        self, seed: int = 0, codes: DistanceCodes | None = None, pause: Callable[[], None] | None = None
    ) -> IntArray:
        """The canonical node order of this problem (:func:`~augur.placement.canonical.canonical_order`):
        by room (most first), then the workloads each node may host and runs, then the distance structure;
        remaining ties broken by hashes seeded with ``seed``. Name-free: only what the problem holds.
        ``codes``: the distances' codes, when the caller keeps them across problems over the same matrix;
        ``pause``: called between refinement rounds (:func:`~augur.placement.canonical.colours`)."""
        features = np.column_stack(
            [-self.room_cpu, -self.room_mem, -self.pod_room, -self.allowed.T.astype(np.float64), -self.fixed.T]
        )
        return canonical_order(self.distances, features, seed, codes, pause)

    def permuted(self, order: IntArray, distances: FloatArray | None = None) -> CountProblem:
        """The same problem with its nodes in ``order`` (``distances``: the permuted matrix, when the caller
        has it already); the pair weights carry over."""
        q = CountProblem(
            distances=self.distances[np.ix_(order, order)] if distances is None else distances,
            traffic=self.traffic,
            replicas=self.replicas,
            cpu=self.cpu,
            mem=self.mem,
            room_cpu=self.room_cpu[order],
            room_mem=self.room_mem[order],
            allowed=self.allowed[:, order],
            fixed=self.fixed[:, order],
            room_pods=None if self.room_pods is None else self.room_pods[order],
        )
        for name in ("k", "neighbours"):
            if name in self.__dict__:
                q.__dict__[name] = self.__dict__[name]
        return q

    def missing(self, movable: FloatArray) -> FloatArray:
        out: FloatArray = np.maximum(self.replicas - self.fixed.sum(axis=1) - movable.sum(axis=1), 0.0)
        return out

    def cost(self, movable: FloatArray) -> float:
        """Network cost (facts §5) of ``fixed + movable``: mean distances over the *placed* replica pairs."""
        c = self.fixed + movable
        n = c.sum(axis=1)
        pairs = (c @ self.distances) @ c.T
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(np.outer(n, n) > 0, self.traffic * pairs / np.outer(n, n), 0.0)
        np.fill_diagonal(per, 0.0)
        return float(per.sum())

    def objective(self, movable: FloatArray) -> float:
        return UNPLACED_PENALTY * float(self.missing(movable).sum()) + self.cost(movable)

    def fits(self, movable: FloatArray) -> bool:
        return bool(
            np.all(self.cpu @ movable <= self.room_cpu + EPS)
            and np.all(self.mem @ movable <= self.room_mem + EPS)
            and np.all(movable.sum(axis=0) <= self.pod_room + EPS)
        )
