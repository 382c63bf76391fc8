"""A placement plan for the pods still to come: where the pending replicas of the application should go.

The extender sees one pod at a time, but the ``WorkloadProfile``s say which workloads talk to which, how
much, and how many replicas each will have. :func:`plan_pending` places every pending replica of the
workloads whose replica count and pod size are known, on top of what already runs (fixed), minimizing
the network cost of facts §5 under node capacity:

1. greedy insertion, workload by workload in a Prim-like order (the one with the most traffic to what is
   placed or planned, then the most traffic-intense per requested core), each pod on the node with the
   smallest marginal cost ``G[w, n] = Σ_b K[w, b] Σ_m C[b, m] d(n, m)`` where it fits
   (``K[a, b] = (T_ab + T_ba) / (r_a r_b)``, ``C`` the fixed plus planned counts);
2. local search: single-pod moves of planned pods to a node with a lower marginal cost, until none helps.

It is deterministic for a given snapshot, so consecutive pods of a rollout see the same plan as long as
the earlier pods followed it. Cost ``O(pods * workloads * nodes)`` plus an ``nodes²`` distance matrix:
meant for the simulator and small clusters (the ``plan`` component is off by default in the extender).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.placement.context import Snapshot
from augur.placement.distance import pairwise
from augur.placement.topology import FloatArray

PLAN_MEMO = "plan.distances"


@dataclass(frozen=True, eq=False)
class Plan:
    workloads: tuple[str, ...]
    pending: FloatArray
    """Workload x node: planned pods not running yet."""

    def slots(self, workload: str) -> FloatArray | None:
        if workload not in self.workloads:
            return None
        row: FloatArray = self.pending[self.workloads.index(workload)]
        return row


def _distances(snapshot: Snapshot) -> FloatArray:
    table = snapshot.table
    d: FloatArray | None = table.memo.get(PLAN_MEMO)
    if d is None:
        idx = np.arange(len(table), dtype=np.int64)
        d = table.memo[PLAN_MEMO] = pairwise(table, idx, idx)
    return d


def plan_pending(snapshot: Snapshot, passes: int = 20, anneal_steps: int = 0) -> Plan | None:
    """The plan for every workload with known ``replicas`` and ``pod_cpu`` (``None`` if there is none).

    Plans are kept on the rule book (which lives as long as the profiles do) and reused while every pod
    that started since went to a planned slot on the same nodes; otherwise the rest is planned anew."""
    rb, table = snapshot.rulebook, snapshot.table
    known = rb.keys()
    keys = [k for k in known if (r := rb.get(k)) is not None and r.replicas is not None and r.pod_cpu is not None]
    if not keys or len(table) == 0:
        return None
    reps = np.array([rb.get(k).replicas for k in keys], dtype=np.float64)  # type: ignore[union-attr]
    fixed = np.zeros((len(keys), len(table)))
    for i, k in enumerate(keys):
        idx, count = snapshot.placed(k)
        fixed[i, idx] = count
    held = rb.memo.get("plan")
    if (
        isinstance(held, _Held)
        and held.nodes is table.memo
        and held.keys == keys
        and np.array_equal(held.replicas, reps)
        and held.settings == (passes, anneal_steps)
        and (fixed <= held.total + 1e-9).all()
    ):
        return Plan(tuple(keys), held.total - fixed)
    plan = _solve(snapshot, keys, reps, fixed, passes, anneal_steps)
    rb.memo["plan"] = _Held(table.memo, keys, reps, fixed + plan, (passes, anneal_steps))
    return Plan(tuple(keys), plan)


@dataclass(frozen=True, eq=False)
class _Held:
    nodes: object
    """The node table's memo: identifies the node set (shared by copies with other requested totals)."""
    keys: list[str]
    replicas: FloatArray
    total: FloatArray
    """Running plus planned pods per workload and node when the plan was made."""
    settings: tuple[int, int]


def _solve(
    snapshot: Snapshot, keys: list[str], reps: FloatArray, fixed: FloatArray, passes: int, anneal_steps: int
) -> FloatArray:
    rb, table = snapshot.rulebook, snapshot.table
    nw, nn = len(keys), len(table)
    pos = {k: i for i, k in enumerate(keys)}
    cpu = np.array([rb.get(k).pod_cpu for k in keys], dtype=np.float64)  # type: ignore[union-attr]
    mem = np.array([rb.get(k).pod_memory or 0.0 for k in keys], dtype=np.float64)  # type: ignore[union-attr]
    traffic = np.zeros((nw, nw))
    for k in keys:
        for peer, t in rb.peers(k).items():
            if peer in pos:
                traffic[pos[k], pos[peer]] = t
    pending = np.maximum(reps - fixed.sum(axis=1), 0.0)
    if pending.sum() == 0:
        return np.zeros((nw, nn))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(reps > 0, 1.0 / reps, 0.0)
    k_mat = traffic * np.outer(inv, inv)
    np.fill_diagonal(k_mat, 0.0)
    d = _distances(snapshot)
    free_cpu = table.cpu - table.cpu_requested
    free_mem = table.memory - table.memory_requested
    counts = fixed.copy()
    g = k_mat @ (counts @ d)
    plan = np.zeros((nw, nn))
    intensity = traffic.sum(axis=1) * inv / np.where(cpu > 0, cpu, 1.0)
    sym = traffic + traffic.T
    todo = pending > 0
    while todo.any():
        # Prim-like order: the pending workload most tied (by traffic) to what is placed or planned,
        # then the most traffic-intense, so that each group grows from what it talks to.
        tie = sym @ (counts.sum(axis=1) > 0)
        w = int(np.lexsort((-intensity, -tie))[np.flatnonzero(todo[np.lexsort((-intensity, -tie))])[0]])
        todo[w] = False
        for _ in range(int(pending[w])):
            ok = (free_cpu >= cpu[w] - 1e-9) & (free_mem >= mem[w] - 1e-9)
            if not ok.any():
                break
            # cheapest node; among equals the one with most siblings (replicas stay together for the
            # peers still to come), then the one with most room (a new group starts on an empty node)
            cost = np.where(ok, np.round(g[w], 9), np.inf)
            ties = np.flatnonzero(cost == cost.min())
            n = int(ties[np.lexsort((-free_cpu[ties], -counts[w, ties]))[0]])
            plan[w, n] += 1
            counts[w, n] += 1
            free_cpu[n] -= cpu[w]
            free_mem[n] -= mem[w]
            g += np.outer(k_mat[:, w], d[n])
    state = _State(plan, g, k_mat, d, cpu, mem, free_cpu, free_mem)
    state.descend(passes)
    if anneal_steps > 0 and plan.sum() > 1:
        state.anneal(anneal_steps, np.random.default_rng(0))
        state.descend(passes)
    return state.plan


@dataclass(eq=False)
class _State:
    """Planned counts with the marginal costs and free room kept up to date under moves."""

    plan: FloatArray
    g: FloatArray
    k: FloatArray
    d: FloatArray
    cpu: FloatArray
    mem: FloatArray
    free_cpu: FloatArray
    free_mem: FloatArray

    def move(self, w: int, n: int, m: int) -> None:
        self.plan[w, n] -= 1
        self.plan[w, m] += 1
        self.free_cpu[n] += self.cpu[w]
        self.free_cpu[m] -= self.cpu[w]
        self.free_mem[n] += self.mem[w]
        self.free_mem[m] -= self.mem[w]
        self.g += np.outer(self.k[:, w], self.d[m] - self.d[n])

    def fits(self, w: int, m: int) -> bool:
        return bool(self.free_cpu[m] >= self.cpu[w] - 1e-9 and self.free_mem[m] >= self.mem[w] - 1e-9)

    def descend(self, passes: int) -> None:
        """Best single-pod moves of planned pods until none lowers the cost."""
        for _ in range(passes):
            moved = False
            for w, n in zip(*np.nonzero(self.plan), strict=True):
                if self.plan[w, n] < 1:
                    continue
                ok = (self.free_cpu >= self.cpu[w] - 1e-9) & (self.free_mem >= self.mem[w] - 1e-9)
                delta = np.where(ok, self.g[w] - self.g[w, n], np.inf)
                delta[n] = np.inf
                m = int(np.argmin(delta))
                if delta[m] < -1e-9:
                    self.move(int(w), int(n), m)
                    moved = True
            if not moved:
                return

    def anneal(self, steps: int, rng: np.random.Generator) -> None:
        """Simulated annealing over moves and swaps of planned pods (exact O(1) cost changes); keeps the best."""
        g, k, d = self.g, self.k, self.d
        positive = g[g > 0]
        scale = float(np.median(positive)) if len(positive) else 1.0
        t0, t1 = 0.1 * scale, 1e-3 * scale
        nodes = self.plan.shape[1]
        pods = np.argwhere(self.plan > 0)
        value, best_value, best = 0.0, 0.0, self.plan.copy()
        draws = rng.random((steps, 3))
        for step in range(steps):
            temp = t0 * (t1 / t0) ** (step / steps)
            w, n = (int(x) for x in pods[int(draws[step, 0] * len(pods))])
            if self.plan[w, n] < 1:
                pods = np.argwhere(self.plan > 0)
                continue
            m = int(draws[step, 1] * nodes)
            if m == n:
                continue
            v = -1
            if self.fits(w, m):
                delta = g[w, m] - g[w, n]
            else:
                on_m = np.flatnonzero(self.plan[:, m] > 0)
                if len(on_m) == 0:
                    continue
                v = int(on_m[int(draws[step, 2] * 997) % len(on_m)])
                room_n = self.free_cpu[n] + self.cpu[w] - self.cpu[v]
                room_m = self.free_cpu[m] + self.cpu[v] - self.cpu[w]
                mem_n = self.free_mem[n] + self.mem[w] - self.mem[v]
                mem_m = self.free_mem[m] + self.mem[v] - self.mem[w]
                if v == w or min(room_n, room_m, mem_n, mem_m) < -1e-9:
                    continue
                delta = g[w, m] - g[w, n] + g[v, n] - g[v, m] + k[w, v] * (2 * d[n, m] - d[n, n] - d[m, m])
            if delta > 0 and draws[step, 2] >= np.exp(-delta / temp):
                continue
            self.move(w, n, m)
            if v >= 0:
                self.move(v, m, n)
            pods = np.argwhere(self.plan > 0)
            value += delta
            if value < best_value - 1e-9:
                best_value, best = value, self.plan.copy()
        if not np.array_equal(best, self.plan):
            self._reset(best)

    def _reset(self, plan: FloatArray) -> None:
        for w, n in zip(*np.nonzero(self.plan), strict=True):
            for _ in range(int(self.plan[w, n])):
                self.free_cpu[n] += self.cpu[w]
                self.free_mem[n] += self.mem[w]
        self.g -= self.k @ (self.plan @ self.d)
        self.plan = plan.copy()
        for w, n in zip(*np.nonzero(self.plan), strict=True):
            self.free_cpu[n] -= self.cpu[w] * self.plan[w, n]
            self.free_mem[n] -= self.mem[w] * self.plan[w, n]
        self.g += self.k @ (self.plan @ self.d)
