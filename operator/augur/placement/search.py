"""One local-search engine over placement counts, shared by the pending-pod planner
(:mod:`augur.placement.plan`) and the simulator's offline search for the best placement.

The state is a workload x node count matrix ``X`` of *movable* pods on top of *fixed* ones ``F`` (pods
that run). The cost is the network cost of facts §5 of ``C = F + X`` with pair weights from the target
replica counts ``r``: ``cost = ½ Σ_ab K_ab c_a D c_b`` with ``K_ab = (T_ab + T_ba) / (r_a r_b)``, which
is the network cost once every pod is placed. ``H = C D`` and the marginal costs ``G = K H`` are kept up
to date under each move in ``O(neighbours x nodes)``, so a move's or a swap's cost change is exact in O(1).

Operations: greedy insertion of the pods still missing (Prim-like workload order), best single-pod moves,
random pair swaps, simulated annealing over moves and swaps, random kicks, ruin (related workloads taken
off for re-insertion). Everything random comes from
the generator the caller passes (seeded). The search works in node positions (ties go to the first, random
draws index positions), so callers hand it the problem in the canonical order of
:mod:`augur.placement.canonical` (:meth:`CountProblem.canonical`, :meth:`CountProblem.permuted`):
results then depend neither on the order nodes were listed in nor on their names. The problem itself is
:class:`~augur.placement.problem.CountProblem`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from augur.constants import BoolArray, FloatArray
from augur.placement.constants import EPS, UNPLACED_PENALTY
from augur.placement.problem import CountProblem


def cheaper(value: float, than: float) -> bool:
    """``value`` is below ``than`` by more than rounding (``EPS`` relative to ``than``, at least ``EPS``): the test
    every search loop uses before it keeps a state as better."""
    return value < than - EPS * max(1.0, abs(than))


class CountSearch:
    """A movable count matrix with its marginal costs and the room left, kept consistent under moves."""

    pause: Callable[[], None] | None = None
    """Called every few hundred steps of the long loops (insertion, moves, annealing): an owner that shares the
    interpreter with latency-sensitive work (the extender's requests) waits there while that work runs."""

    def __init__(self, p: CountProblem, rng: np.random.Generator, movable: FloatArray | None = None) -> None:
        self.p, self.rng = p, rng
        self.x: FloatArray = np.zeros_like(p.fixed) if movable is None else movable.astype(np.float64, copy=True)
        self._recompute()

    def _recompute(self) -> None:
        p = self.p
        self.h: FloatArray = (p.fixed + self.x) @ p.distances
        self.g: FloatArray = p.k @ self.h
        self.room_cpu: FloatArray = p.room_cpu - p.cpu @ self.x
        self.room_mem: FloatArray = p.room_mem - p.mem @ self.x
        self.room_pods: FloatArray = p.pod_room - self.x.sum(axis=0)

    def value(self) -> float:
        return self.p.objective(self.x)

    def quick_value(self) -> float:
        """:meth:`value` with the pair-weight cost (:meth:`pair_cost`, ``O(workloads x nodes)``): equal to it
        once every pod is placed, and dominated by the unplaced penalty otherwise."""
        return UNPLACED_PENALTY * float(self.p.missing(self.x).sum()) + self.pair_cost()

    def copy(self) -> CountSearch:
        """An independent copy of the state (same problem, generator and pause hook), without recomputing."""
        other = object.__new__(CountSearch)
        other.p, other.rng, other.pause = self.p, self.rng, self.pause
        for name in ("x", "h", "g", "room_cpu", "room_mem", "room_pods"):
            setattr(other, name, getattr(self, name).copy())
        return other

    def copy_with(self, rng: np.random.Generator) -> CountSearch:
        """:meth:`copy` drawing from ``rng`` instead (an independent run from the same state)."""
        other = self.copy()
        other.rng = rng
        return other

    def pair_cost(self) -> float:
        """``½ Σ C ⊙ G``: the network cost with pair weights from the target replicas (equal to
        :meth:`CountProblem.cost` once every pod is placed), in ``O(workloads x nodes)``."""
        return 0.5 * float(np.sum((self.p.fixed + self.x) * self.g))

    def shift_fixed(self, w: int, n: int, count: float) -> None:
        """``count`` more (or fewer) *fixed* pods of ``w`` on ``n``: marginal costs follow (the caller swaps
        in the problem with the new fixed counts and room)."""
        p, row = self.p, self.p.distances[n]
        self.h[w] += count * row
        nb = p.neighbours[w]
        self.g[nb] += count * p.k[nb, w, None] * row

    # -- elementary changes --
    def add(self, w: int, n: int, sign: float = 1.0) -> None:
        """One more (``sign`` 1) or one less (-1) movable pod of ``w`` on ``n``."""
        p, row = self.p, self.p.distances[n]
        self.x[w, n] += sign
        self.h[w] += sign * row
        nb = p.neighbours[w]
        self.g[nb] += sign * p.k[nb, w, None] * row
        self.room_cpu[n] -= sign * p.cpu[w]
        self.room_mem[n] -= sign * p.mem[w]
        self.room_pods[n] -= sign

    def move(self, w: int, n: int, m: int) -> None:
        p = self.p
        diff = p.distances[m] - p.distances[n]
        self.x[w, n] -= 1
        self.x[w, m] += 1
        self.h[w] += diff
        nb = p.neighbours[w]
        self.g[nb] += p.k[nb, w, None] * diff
        self.room_cpu[n] += p.cpu[w]
        self.room_cpu[m] -= p.cpu[w]
        self.room_mem[n] += p.mem[w]
        self.room_mem[m] -= p.mem[w]
        self.room_pods[n] += 1
        self.room_pods[m] -= 1

    def over(self, n: int | None = None) -> BoolArray:
        """Nodes (or node ``n``) over capacity: cores, memory or pod count."""
        sl = slice(None) if n is None else n
        out: BoolArray = (self.room_cpu[sl] < -EPS) | (self.room_mem[sl] < -EPS) | (self.room_pods[sl] < -EPS)
        return out

    def ok_nodes(self, w: int) -> BoolArray:
        p = self.p
        ok: BoolArray = (
            p.allowed[w]
            & (self.room_cpu >= p.cpu[w] - EPS)
            & (self.room_mem >= p.mem[w] - EPS)
            & (self.room_pods >= 1 - EPS)
        )
        return ok

    def _fits_one(self, w: int, m: int) -> bool:
        return bool(
            self.room_cpu[m] >= self.p.cpu[w] - EPS
            and self.room_mem[m] >= self.p.mem[w] - EPS
            and self.room_pods[m] >= 1 - EPS
        )

    def _swap_delta(self, w: int, n: int, v: int, m: int) -> float:
        g, d = self.g, self.p.distances
        return float(g[w, m] - g[w, n] + g[v, n] - g[v, m] + self.p.k[w, v] * (2 * d[n, m] - d[n, n] - d[m, m]))

    def _swap_fits(self, w: int, n: int, v: int, m: int) -> bool:
        p = self.p
        return bool(
            self.room_cpu[n] + p.cpu[w] - p.cpu[v] >= -EPS
            and self.room_cpu[m] + p.cpu[v] - p.cpu[w] >= -EPS
            and self.room_mem[n] + p.mem[w] - p.mem[v] >= -EPS
            and self.room_mem[m] + p.mem[v] - p.mem[w] >= -EPS
        )

    # -- greedy insertion --
    def insert(self, anchor: int | None = None, pin: bool = False) -> None:
        """Place the missing pods greedily, workload by workload in a Prim-like order (the workload with the
        most traffic to what is placed, then the most traffic per requested core), each pod on the
        cheapest node where it fits; among equals the one with most siblings (replicas stay together for
        the peers still to come), then (with ``anchor``) the one nearest the anchor node, then the one with
        most room, then the first (canonical order). The anchor decides where a workload with nothing placed
        near it starts: the first pod of all, which every later pod follows. With ``pin``, the first workload
        inserted goes to the anchor (its pods to the nodes nearest it with room) whatever its traffic to the
        pods already placed: a ruined application with a little traffic to what stays would otherwise go back
        beside it."""
        p = self.p
        missing = p.missing(self.x)
        todo = missing > 0
        if not todo.any():
            return
        near = np.zeros(len(p.room_cpu)) if anchor is None else p.distances[anchor]
        r = np.maximum(p.replicas, 1.0)
        intensity = p.traffic.sum(axis=1) / r / np.where(p.cpu > 0, p.cpu, 1.0)
        sym = p.traffic + p.traffic.T
        pinned = pin and anchor is not None
        while todo.any():
            placed = (p.fixed + self.x).sum(axis=1) > 0
            order = np.lexsort((-intensity, -(sym @ placed)))
            w = int(order[np.flatnonzero(todo[order])[0]])
            todo[w] = False

            def cheapest(ok: BoolArray, w: int = w, pinned: bool = pinned) -> int:
                cost = np.where(ok, near if pinned else np.round(self.g[w], 9), np.inf)
                ties = np.flatnonzero(cost == cost.min())
                siblings = p.fixed[w, ties] + self.x[w, ties]
                return int(ties[np.lexsort((-self.room_cpu[ties], near[ties], -siblings))[0]])

            self._place(w, int(missing[w]), cheapest)
            pinned = False

    def spread(self) -> None:
        """Place the missing pods blind to traffic, as kube-scheduler's least-allocated scoring would: workload
        by workload in table order, each pod on the node with most CPU room where it fits (then the first in
        canonical order). A start from another basin than :meth:`insert`'s, which packs each application
        around its first pod (:attr:`~augur.placement.plan_settings.PlanSettings.spread_starts`)."""
        missing = self.p.missing(self.x)
        for w in np.flatnonzero(missing > 0).tolist():
            self._place(w, int(missing[w]), lambda ok: int(np.argmax(np.where(ok, self.room_cpu, -np.inf))))

    def _place(self, w: int, count: int, choose: Callable[[BoolArray], int]) -> None:
        """Add up to ``count`` pods of ``w``, each on the node ``choose`` picks among those where it fits (called
        with a non-empty mask); stops when it fits nowhere."""
        for _ in range(count):
            if self.pause is not None:
                self.pause()
            ok = self.ok_nodes(w)
            if not ok.any():
                return
            self.add(w, choose(ok))

    def remove_worst(self, w: int, count: int) -> None:
        """Take ``count`` movable pods of ``w`` off the nodes where they cost the most."""
        for _ in range(count):
            on = np.flatnonzero(self.x[w] > 0)
            if len(on) == 0:
                return
            self.add(w, int(on[np.argmax(self.g[w, on])]), -1.0)

    # -- local search --
    def descend(self, passes: int, swaps: int = 100, only: BoolArray | None = None) -> None:
        """Best single-pod moves and random improving swaps until neither helps, then node swaps (at most
        ``passes`` rounds); with ``only``, moves of those workloads' pods only, and no swaps."""
        for _ in range(passes):
            if self._move_pass(only) | (only is None and self._swap_pass(swaps)):
                continue
            if only is not None or not self._node_swap_pass():
                return

    node_swap_sources: int = 32
    """Nodes a node-swap pass tries as sources (all when there are fewer; else a seeded sample), so that a
    pass costs at most ``O(sources x nodes x workloads²)``."""

    def _node_swap_pass(self) -> bool:
        """Exchange the movable pods of two nodes when that lowers the cost and both sides fit: moves whole
        groups of pods at once (an application split between two regions and another one whole), which single
        pod moves and swaps only reach uphill. The change for nodes ``n``, ``m`` with ``δ = X[:, m] - X[:, n]``
        is ``δ · (G[:, n] - G[:, m]) + ½ δᵀKδ (D_nn + D_mm - 2 D_nm)``, exact."""
        p = self.p
        occupied = np.flatnonzero(self.x.sum(axis=0) > 0)
        if len(occupied) == 0 or len(p.room_cpu) < 2:
            return False
        if len(occupied) > self.node_swap_sources:
            occupied = np.sort(self.rng.choice(occupied, self.node_swap_sources, replace=False))
        improved = False
        threshold = -EPS * max(1.0, abs(self.pair_cost()))
        kx = p.k @ self.x  # K X, so that δᵀKδ = b·Kb - 2 a·Kb + a·Ka in O(workloads) per pair
        for n in occupied.tolist():
            if not self.x[:, n].any():
                continue
            change = self.node_swap_changes(n, kx)
            m = int(np.argmin(change))
            if change[m] < threshold:
                self._exchange(n, m)
                kx[:, [n, m]] = kx[:, [m, n]]
                improved = True
        return improved

    def node_swap_changes(self, n: int, kx: FloatArray | None = None) -> FloatArray:
        """Per node ``m``, the exact cost change of exchanging the movable pods of ``n`` and ``m`` (``inf``
        where either side would not fit or a pod may not go; ``kx``: ``K @ X`` when the caller has it)."""
        p, d, a = self.p, self.p.distances, self.x[:, n]
        kx = p.k @ self.x if kx is None else kx
        ka = kx[:, n]
        quad = (self.x * kx).sum(axis=0) - 2 * (ka @ self.x) + a @ ka
        change = (self.x * (self.g[:, n, None] - self.g)).sum(axis=0) - a @ (self.g[:, n, None] - self.g)
        change += 0.5 * quad * (d[n, n] + np.diagonal(d) - 2 * d[n])
        a_cpu, a_mem, a_pods = p.cpu @ a, p.mem @ a, a.sum()
        b_cpu, b_mem, b_pods = p.cpu @ self.x, p.mem @ self.x, self.x.sum(axis=0)
        ok = (
            (self.room_cpu[n] + a_cpu - b_cpu >= -EPS)
            & (self.room_cpu + b_cpu - a_cpu >= -EPS)
            & (self.room_mem[n] + a_mem - b_mem >= -EPS)
            & (self.room_mem + b_mem - a_mem >= -EPS)
            & (self.room_pods[n] + a_pods - b_pods >= -EPS)
            & (self.room_pods + b_pods - a_pods >= -EPS)
            & ~((self.x > 0) & ~p.allowed[:, n, None]).any(axis=0)
            & ~((a > 0)[:, None] & ~p.allowed).any(axis=0)
        )
        ok[n] = False
        out: FloatArray = np.where(ok, change, np.inf)
        return out

    def _exchange(self, n: int, m: int) -> None:
        """Swap the movable pods of nodes ``n`` and ``m`` (room may dip below zero in between)."""
        a, b = self.x[:, n].copy(), self.x[:, m].copy()
        for w in np.flatnonzero(a).tolist():
            for _ in range(int(a[w])):
                self.move(w, n, m)
        for w in np.flatnonzero(b).tolist():
            for _ in range(int(b[w])):
                self.move(w, m, n)

    def _move_pass(self, only: BoolArray | None = None) -> bool:
        improved = False
        x = self.x if only is None else np.where(only[:, None], self.x, 0.0)
        for k, (w, n) in enumerate(zip(*(a.tolist() for a in np.nonzero(x)), strict=True)):
            if self.pause is not None and k % 64 == 0:
                self.pause()
            if self.x[w, n] < 1:
                continue
            delta = np.where(self.ok_nodes(w), self.g[w] - self.g[w, n], np.inf)
            delta[n] = np.inf
            m = int(np.argmin(delta))
            if delta[m] < -EPS:
                self.move(w, n, m)
                improved = True
        return improved

    def _swap_pass(self, tries: int) -> bool:
        pods = np.argwhere(self.x > 0)
        if len(pods) < 2 or tries <= 0:
            return False
        improved = False
        picks = self.rng.integers(0, len(pods), size=(tries, 2))
        for i, j in picks.tolist():
            (w, n), (v, m) = pods[i].tolist(), pods[j].tolist()
            if w == v or n == m or self.x[w, n] < 1 or self.x[v, m] < 1:
                continue
            if not (self.p.allowed[w, m] and self.p.allowed[v, n]) or not self._swap_fits(w, n, v, m):
                continue
            if self._swap_delta(w, n, v, m) < -EPS:
                self.move(w, n, m)
                self.move(v, m, n)
                improved = True
        return improved

    def ruin(self, size: int) -> None:
        """Take every movable pod of a random workload, and of up to ``size - 1`` workloads related to it, off
        their nodes (each next one drawn among the workloads with movable pods in proportion to its pair weight
        to those taken): the pods a descent would have to move together (an application split between zones),
        for :meth:`insert` to place again (ruin and recreate)."""
        p = self.p
        movable = self.x.sum(axis=1) > 0
        if not movable.any():
            return
        taken = [int(self.rng.choice(np.flatnonzero(movable)))]
        weight = p.k[taken[0]] * movable
        while len(taken) < size:
            weight[taken] = 0.0
            total = float(weight.sum())
            if total <= 0:
                break
            w = int(np.searchsorted(np.cumsum(weight), self.rng.random() * total, side="right"))
            taken.append(min(w, len(weight) - 1))
            weight += p.k[taken[-1]] * movable
        for w in taken:
            for n in np.flatnonzero(self.x[w] > 0).tolist():
                self.add(w, n, -float(self.x[w, n]))

    def kick(self, moves: int) -> None:
        """Random moves of movable pods to random allowed nodes where they fit."""
        for _ in range(moves):
            pods = np.argwhere(self.x > 0)
            if len(pods) == 0:
                return
            w, n = (int(v) for v in pods[self.rng.integers(len(pods))])
            targets = np.flatnonzero(self.p.allowed[w])
            m = int(self.rng.choice(targets))
            if m != n and self._fits_one(w, m):
                self.move(w, n, m)

    def anneal(self, steps: int) -> None:
        """Simulated annealing over single-pod moves and swaps of movable pods (exact O(1) cost changes,
        geometric cooling from 0.1 to 0.001 times the median positive marginal cost); ends in the best
        state seen."""
        p = self.p
        pods = np.repeat(np.argwhere(self.x > 0), self.x[self.x > 0].astype(np.int64), axis=0)
        if len(pods) == 0 or steps <= 0:
            return
        positive = self.g[self.g > 0]
        scale = float(np.median(positive)) if len(positive) else 1.0
        t0, t1 = 0.1 * scale, 1e-3 * scale
        nodes = len(p.room_cpu)
        draws = self.rng.random((steps, 4))
        value, best_value, best = 0.0, 0.0, self.x.copy()
        for step in range(steps):
            if self.pause is not None and step % 256 == 0:
                self.pause()
            i = int(draws[step, 0] * len(pods))
            w, n = int(pods[i, 0]), int(pods[i, 1])
            m = int(draws[step, 1] * nodes)
            if m == n or not p.allowed[w, m]:
                continue
            v = -1
            if self._fits_one(w, m):
                delta = float(self.g[w, m] - self.g[w, n])
            else:
                on_m = np.flatnonzero(self.x[:, m] > 0)
                if len(on_m) == 0:
                    continue
                v = int(on_m[int(draws[step, 3] * len(on_m))])
                if v == w or not p.allowed[v, n] or not self._swap_fits(w, n, v, m):
                    continue
                delta = self._swap_delta(w, n, v, m)
            if delta > 0 and draws[step, 2] >= math.exp(-delta / (t0 * (t1 / t0) ** (step / steps))):
                continue
            self.move(w, n, m)
            pods[i, 1] = m
            if v >= 0:
                self.move(v, m, n)
                j = int(np.flatnonzero((pods[:, 0] == v) & (pods[:, 1] == m))[0])
                pods[j, 1] = n
            value += delta
            if value < best_value - EPS:
                best_value, best = value, self.x.copy()
        if not np.array_equal(best, self.x):
            self.x = best
            self._recompute()
