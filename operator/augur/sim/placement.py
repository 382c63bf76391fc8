"""Placement simulator: place a scenario's pods one by one with Augur's scoring, with an emulation of
kube-scheduler's default scoring, and compare both with the best placement found offline.

Metrics follow ``facts.md`` section 5: ``network_cost = Σ_{A→B} T x mean over placed replica pairs of
d(node(a), node(b))`` and ``load_stddev`` = population standard deviation of node CPU requests /
allocatable. Pure: the caller reads the scenario file.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from augur.api.validation import FieldError, SpecError, field_errors
from augur.placement import (
    DependencyRule,
    DistanceLevels,
    NodeInfo,
    NodeTable,
    Occupancy,
    PodInfo,
    RuleBook,
    ScoringConfig,
    Snapshot,
    TopologyModel,
    WorkloadRules,
    filter_nodes,
    parse_config,
    score_nodes,
)
from augur.placement.distance import pairwise

EXHAUSTIVE_LIMIT = 60_000
"""Largest number of count vectors the exact search enumerates."""
UNPLACED_PENALTY = 1e9
ANNEAL_RESTARTS = 4
"""Annealing runs of the offline search (each restarts from the best placement so far)."""
ANNEAL_MAX_STEPS = 150_000


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ScenarioNode(_Model):
    name: Annotated[str, Field(min_length=1)]
    zone: str = ""
    region: str = ""
    cpu: Annotated[float, Field(gt=0)]
    memory: Annotated[float, Field(gt=0)]


class ScenarioDistances(_Model):
    same_node: Annotated[float, Field(ge=0, le=100)] = 0
    same_zone: Annotated[float, Field(ge=0, le=100)] = 10
    same_region: Annotated[float, Field(ge=0, le=100)] = 40
    cross_region: Annotated[float, Field(ge=0, le=100)] = 100
    zones: dict[str, Annotated[float, Field(ge=0, le=100)]] = {}
    regions: dict[str, Annotated[float, Field(ge=0, le=100)]] = {}
    nodes: dict[str, Annotated[float, Field(ge=0, le=100)]] = {}


class ScenarioWorkload(_Model):
    name: Annotated[str, Field(min_length=1)]
    replicas: Annotated[int, Field(ge=0, le=10_000)]
    cpu: Annotated[float, Field(ge=0)] = 0
    memory: Annotated[float, Field(ge=0)] = 0
    talks_to: dict[str, Annotated[float, Field(ge=0)]] = {}
    max_distance: dict[str, Annotated[int, Field(ge=0, le=100)]] = {}
    prefer_zones: list[str] = []
    avoid_zones: list[str] = []
    prefer_regions: list[str] = []
    avoid_regions: list[str] = []
    avoid_nodes: list[str] = []
    colocate_with: list[str] = []
    avoid_workloads: list[str] = []
    required_avoidance: bool = False
    spread_topology_key: str = "topology.kubernetes.io/zone"

    def rules(self) -> WorkloadRules:
        deps = tuple(DependencyRule(p, t, self.max_distance.get(p)) for p, t in self.talks_to.items())
        deps += tuple(DependencyRule(p, 0.0, d) for p, d in self.max_distance.items() if p not in self.talks_to)
        return WorkloadRules(
            key=self.name,
            dependencies=deps,
            prefer_zones=frozenset(self.prefer_zones),
            avoid_zones=frozenset(self.avoid_zones),
            prefer_regions=frozenset(self.prefer_regions),
            avoid_regions=frozenset(self.avoid_regions),
            avoid_nodes=frozenset(self.avoid_nodes),
            colocate_with=frozenset(self.colocate_with),
            avoid_workloads=frozenset(self.avoid_workloads),
            required_avoidance=self.required_avoidance,
            spread_topology_key=self.spread_topology_key,
            replicas=self.replicas,
            pod_cpu=self.cpu,
            pod_memory=self.memory,
        )


class ScenarioFile(_Model):
    nodes: Annotated[list[ScenarioNode], Field(min_length=1)]
    distances: ScenarioDistances = ScenarioDistances()
    workloads: Annotated[list[ScenarioWorkload], Field(min_length=1)]
    scoring: dict[str, Any] | None = None
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Scenario:
    nodes: tuple[NodeInfo, ...]
    topology: TopologyModel
    workloads: tuple[ScenarioWorkload, ...]
    scoring: ScoringConfig
    seed: int = 0

    def pods(self) -> Iterator[tuple[int, str]]:
        """``(workload index, pod name)`` in creation order."""
        for w, wl in enumerate(self.workloads):
            for i in range(wl.replicas):
                yield w, f"{wl.name}-{i}"


def parse_scenario(raw: Any) -> Scenario:
    """Validate a scenario (already loaded from YAML); raise :class:`SpecError` listing every error."""
    if not isinstance(raw, dict):
        raise SpecError([FieldError("", "a scenario must be a mapping with nodes, distances and workloads")])
    errors = _cross_check(raw)
    scoring, scoring_errors = parse_config(raw.get("scoring"), "scoring")
    errors += scoring_errors
    try:
        f = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        errors = field_errors(exc, "") + errors
        raise SpecError(errors) from exc
    d = f.distances
    topology = TopologyModel.build(
        DistanceLevels(d.same_node, d.same_zone, d.same_region, d.cross_region), d.zones, d.regions, d.nodes
    )
    errors += topology.validate("distances")
    if errors or scoring is None:
        raise SpecError(errors)
    nodes = tuple(NodeInfo(n.name, n.zone, n.region, n.cpu, n.memory) for n in f.nodes)
    return Scenario(nodes, topology, tuple(f.workloads), scoring, f.seed)


def _items(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key)
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _cross_check(raw: dict[str, Any]) -> list[FieldError]:
    """Errors across fields (duplicates, unknown references), read leniently from the raw mapping."""
    errors: list[FieldError] = []
    for kind in ("nodes", "workloads"):
        names = [x.get("name") for x in _items(raw, kind)]
        errors += [
            FieldError(f"{kind}[{i}].name", f"duplicate name {n!r}") for i, n in enumerate(names) if names.index(n) != i
        ]
    workloads = {x.get("name") for x in _items(raw, "workloads")}
    zones = {x.get("zone", "") for x in _items(raw, "nodes")}
    for i, w in enumerate(_items(raw, "workloads")):
        for key in ("talksTo", "maxDistance", "colocateWith", "avoidWorkloads"):
            refs = w.get(key) or []
            errors += [
                FieldError(f"workloads[{i}].{key}.{p}", f"unknown workload {p!r}")
                for p in (refs if isinstance(refs, list | dict) else [])
                if p not in workloads
            ]
        for key in ("preferZones", "avoidZones"):
            refs = w.get(key) or []
            errors += [
                FieldError(f"workloads[{i}].{key}", f"unknown zone {z!r}")
                for z in (refs if isinstance(refs, list) else [])
                if z not in zones
            ]
    return errors


# ---------------------------------------------------------------- metrics


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
    table = NodeTable.build(sc.nodes, sc.topology)
    idx = np.arange(len(sc.nodes), dtype=np.int64)
    return pairwise(table, idx, idx)


def counts_of(sc: Scenario, assignment: Mapping[str, str]) -> np.ndarray:
    """Workload x node pod counts of an assignment."""
    pos = {n.name: i for i, n in enumerate(sc.nodes)}
    counts = np.zeros((len(sc.workloads), len(sc.nodes)))
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


def load_stddev(sc: Scenario, counts: np.ndarray) -> float:
    cpu = np.array([w.cpu for w in sc.workloads])
    alloc = np.array([n.cpu for n in sc.nodes])
    return float(np.std((cpu @ counts) / alloc))


# ---------------------------------------------------------------- greedy placement


class _State:
    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.table = NodeTable.build(sc.nodes, sc.topology)
        self.cpu = np.zeros(len(sc.nodes))
        self.mem = np.zeros(len(sc.nodes))
        self.occupancy: dict[str, dict[str, int]] = {}
        self.assignment: dict[str, str] = {}

    def fits(self, w: int) -> np.ndarray:
        wl = self.sc.workloads[w]
        return (self.cpu + wl.cpu <= self.table.cpu + 1e-9) & (self.mem + wl.memory <= self.table.memory + 1e-9)

    def place(self, w: int, pod: str, i: int) -> None:
        wl = self.sc.workloads[w]
        node = self.sc.nodes[i].name
        self.cpu[i] += wl.cpu
        self.mem[i] += wl.memory
        per_node = self.occupancy.setdefault(wl.name, {})
        per_node[node] = per_node.get(node, 0) + 1
        self.assignment[pod] = node

    def snapshot(self, rulebook: RuleBook) -> Snapshot:
        occupancy = Occupancy({k: dict(v) for k, v in self.occupancy.items()})
        return Snapshot(self.table.with_requested(self.cpu.copy(), self.mem.copy()), occupancy, rulebook)


def simulate_augur(sc: Scenario) -> Outcome:
    """Each pod goes to the feasible node (resources, then Augur's filter) with the highest Augur total."""
    state, rulebook, unplaced = _State(sc), RuleBook(w.rules() for w in sc.workloads), 0
    for w, pod in sc.pods():
        wl = sc.workloads[w]
        fit = [sc.nodes[i].name for i in np.flatnonzero(state.fits(w)).tolist()]
        snap = state.snapshot(rulebook)
        info = PodInfo(pod, workload=wl.name, cpu=wl.cpu, memory=wl.memory)
        feasible = filter_nodes(info, snap, fit).passed
        if not feasible:
            unplaced += 1
            continue
        best = score_nodes(info, snap, feasible, sc.scoring).best()
        state.place(w, pod, state.table.position[best or feasible[0]])
    return Outcome(state.assignment, unplaced)


def default_scores(state: _State, w: int, cand: np.ndarray) -> np.ndarray:
    """kube-scheduler defaults: NodeResourcesFit LeastAllocated (1) + BalancedAllocation (1) +
    PodTopologySpread with the system default constraints (2)."""
    wl, t = state.sc.workloads[w], state.table
    cpu = (state.cpu[cand] + wl.cpu) / t.cpu[cand]
    mem = (state.mem[cand] + wl.memory) / t.memory[cand]
    least = 100 * (2 - cpu - mem) / 2
    balanced = 100 * (1 - np.abs(cpu - mem) / 2)
    total: np.ndarray = least + balanced + 2 * _topology_spread(state, w, cand)
    return total


def _topology_spread(state: _State, w: int, cand: np.ndarray) -> np.ndarray:
    """PodTopologySpread scoring for ``zone`` (maxSkew 5) and ``hostname`` (maxSkew 3), ScheduleAnyway."""
    own = state.occupancy.get(state.sc.workloads[w].name, {})
    on_node = np.array([own.get(n.name, 0) for n in state.sc.nodes], dtype=np.float64)
    raw = np.zeros(len(cand))
    for domains, skew in ((state.table.zone_idx, 5), (np.arange(len(on_node)), 3)):
        per_domain = np.bincount(domains, weights=on_node, minlength=int(domains.max()) + 1)
        weight = math.log(len(set(domains[cand].tolist())) + 2)
        raw += per_domain[domains[cand]] * weight + (skew - 1)
    top, low = raw.max(), raw.min()
    return np.full(len(cand), 100.0) if top == 0 else 100 * (top + low - raw) / top


def simulate_default(sc: Scenario) -> Outcome:
    """Resource-fit filter, default scoring, random choice among the best (seeded, as kube samples)."""
    state, rng, unplaced = _State(sc), np.random.default_rng(sc.seed), 0
    for w, pod in sc.pods():
        cand = np.flatnonzero(state.fits(w))
        if len(cand) == 0:
            unplaced += 1
            continue
        scores = np.rint(default_scores(state, w, cand))
        ties = cand[scores == scores.max()]
        state.place(w, pod, int(ties[rng.integers(len(ties))]))
    return Outcome(state.assignment, unplaced)


# ---------------------------------------------------------------- best placement offline


@dataclass(frozen=True, eq=False)
class _Problem:
    sc: Scenario
    distances: np.ndarray
    replicas: np.ndarray
    cpu: np.ndarray
    mem: np.ndarray
    cap_cpu: np.ndarray
    cap_mem: np.ndarray
    allowed: np.ndarray
    """Workload x node: resource fit and required avoidance permit it."""
    traffic: np.ndarray
    """Workload x workload traffic ``T[a, b]`` of ``a → b``."""

    @classmethod
    def build(cls, sc: Scenario, distances: np.ndarray) -> _Problem:
        index = {w.name: i for i, w in enumerate(sc.workloads)}
        traffic = np.zeros((len(sc.workloads), len(sc.workloads)))
        for a, wl in enumerate(sc.workloads):
            for peer, t in wl.talks_to.items():
                traffic[a, index[peer]] += t
        allowed = np.array([[_allowed(wl, n) for n in sc.nodes] for wl in sc.workloads], dtype=bool)
        return cls(
            sc,
            distances,
            np.array([w.replicas for w in sc.workloads]),
            np.array([w.cpu for w in sc.workloads]),
            np.array([w.memory for w in sc.workloads]),
            np.array([n.cpu for n in sc.nodes]),
            np.array([n.memory for n in sc.nodes]),
            allowed,
            traffic,
        )

    def fits(self, counts: np.ndarray) -> bool:
        return bool(
            np.all(self.cpu @ counts <= self.cap_cpu + 1e-9) and np.all(self.mem @ counts <= self.cap_mem + 1e-9)
        )

    def objective(self, counts: np.ndarray) -> float:
        unplaced = float((self.replicas - counts.sum(axis=1)).sum())
        return UNPLACED_PENALTY * unplaced + network_cost(self.sc, counts, self.distances)

    def pair_weights(self, counts: np.ndarray) -> np.ndarray:
        """``K[a, b] = T[a, b] / (n_a n_b) + T[b, a] / (n_b n_a)`` with the placed counts ``n``."""
        n = counts.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(n > 0, 1.0 / n, 0.0)
        k: np.ndarray = (self.traffic + self.traffic.T) * np.outer(inv, inv)
        np.fill_diagonal(k, 0.0)
        return k


def _allowed(wl: ScenarioWorkload, node: NodeInfo) -> bool:
    if wl.cpu > node.cpu or wl.memory > node.memory:
        return False
    if not wl.required_avoidance:
        return True
    return node.zone not in wl.avoid_zones and node.region not in wl.avoid_regions and node.name not in wl.avoid_nodes


def search_space(p: _Problem, with_unplaced: bool) -> float:
    """Number of count matrices an exhaustive search would visit (before capacity pruning)."""
    extra = 1 if with_unplaced else 0
    sizes = [
        math.comb(int(r) + int(k) + extra - 1, int(k) + extra - 1)
        for r, k in zip(p.replicas, p.allowed.sum(axis=1), strict=True)
        if k + extra > 0
    ]
    return math.prod(sizes)


def _compositions(total: int, slots: int) -> Iterator[tuple[int, ...]]:
    for bars in itertools.combinations(range(total + slots - 1), slots - 1):
        yield tuple(b - a - 1 for a, b in zip((-1, *bars), (*bars, total + slots - 1), strict=True))


def exhaustive(p: _Problem, with_unplaced: bool) -> np.ndarray | None:
    """The exact optimum over every count matrix (``None`` when nothing is feasible)."""
    best: list[Any] = [math.inf, None]
    counts = np.zeros_like(p.allowed, dtype=np.float64)

    def visit(w: int) -> None:
        if w == len(p.replicas):
            value = p.objective(counts)
            if value < best[0] - 1e-9:
                best[0], best[1] = value, counts.copy()
            return
        nodes = np.flatnonzero(p.allowed[w])
        slots = len(nodes) + (1 if with_unplaced else 0)
        if slots == 0:
            if p.replicas[w] == 0 or with_unplaced:
                visit(w + 1)
            return
        for combo in _compositions(int(p.replicas[w]), slots):
            counts[w, :] = 0
            counts[w, nodes] = combo[: len(nodes)]
            if p.fits(counts):
                visit(w + 1)
        counts[w, :] = 0

    visit(0)
    return best[1]  # type: ignore[no-any-return]


class _LocalSearch:
    """Iterated local search over count matrices: best single-pod moves, random swaps, random kicks."""

    def __init__(self, p: _Problem, rng: np.random.Generator) -> None:
        self.p, self.rng = p, rng
        self.t0 = 0.1
        """Starting temperature of the annealing, times the median positive marginal cost."""

    def gradient(self, counts: np.ndarray) -> np.ndarray:
        """``G[w, m]``: cost added by one more pod of ``w`` on node ``m`` (placed counts held fixed)."""
        g: np.ndarray = self.p.pair_weights(counts) @ (counts @ self.p.distances)
        return g

    def free(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.p.cap_cpu - self.p.cpu @ counts, self.p.cap_mem - self.p.mem @ counts

    def fill(self, counts: np.ndarray) -> None:
        """Place unplaced pods greedily where they fit."""
        for w in range(len(self.p.replicas)):
            while counts[w].sum() < self.p.replicas[w]:
                cpu, mem = self.free(counts)
                ok = self.p.allowed[w] & (cpu >= self.p.cpu[w] - 1e-9) & (mem >= self.p.mem[w] - 1e-9)
                if not ok.any():
                    break
                g = np.where(ok, self.gradient(counts)[w], np.inf)
                counts[w, int(np.argmin(g))] += 1

    def descend(self, counts: np.ndarray, max_passes: int = 200) -> None:
        for _ in range(max_passes):
            if not (self._move_pass(counts) | self._swap_pass(counts)):
                return

    def _move_pass(self, counts: np.ndarray) -> bool:
        improved, d = False, self.p.distances
        k, g = self.p.pair_weights(counts), self.gradient(counts)
        cpu, mem = self.free(counts)
        for w, n in zip(*np.nonzero(counts), strict=True):
            if counts[w, n] < 1:
                continue
            ok = self.p.allowed[w] & (cpu >= self.p.cpu[w] - 1e-9) & (mem >= self.p.mem[w] - 1e-9)
            delta = np.where(ok, g[w] - g[w, n], np.inf)
            delta[n] = np.inf
            m = int(np.argmin(delta))
            if delta[m] < -1e-9:
                counts[w, n] -= 1
                counts[w, m] += 1
                g += np.outer(k[:, w], d[m] - d[n])
                cpu[n], cpu[m] = cpu[n] + self.p.cpu[w], cpu[m] - self.p.cpu[w]
                mem[n], mem[m] = mem[n] + self.p.mem[w], mem[m] - self.p.mem[w]
                improved = True
        return improved

    def _swap_pass(self, counts: np.ndarray, tries: int = 100) -> bool:
        pods = np.argwhere(counts > 0)
        if len(pods) < 2:
            return False
        improved, d = False, self.p.distances
        k, g = self.p.pair_weights(counts), self.gradient(counts)
        for _ in range(tries):
            (w, n), (v, m) = pods[self.rng.choice(len(pods), 2, replace=False)]
            if w == v or n == m or counts[w, n] < 1 or counts[v, m] < 1:
                continue
            if not (self.p.allowed[w, m] and self.p.allowed[v, n]):
                continue
            delta = g[w, m] - g[w, n] + g[v, n] - g[v, m] + k[w, v] * (2 * d[n, m] - d[n, n] - d[m, m])
            if delta >= -1e-9:
                continue
            trial = counts.copy()
            trial[w, n] -= 1
            trial[w, m] += 1
            trial[v, m] -= 1
            trial[v, n] += 1
            if self.p.fits(trial):
                counts[:] = trial
                g = self.gradient(counts)
                improved = True
        return improved

    def kick(self, counts: np.ndarray, moves: int) -> np.ndarray:
        out = counts.copy()
        for _ in range(moves):
            pods = np.argwhere(out > 0)
            w, n = pods[self.rng.integers(len(pods))]
            targets = np.flatnonzero(self.p.allowed[w])
            trial = out.copy()
            trial[w, n] -= 1
            trial[w, int(self.rng.choice(targets))] += 1
            if self.p.fits(trial):
                out = trial
        return out

    def anneal(self, counts: np.ndarray, steps: int) -> np.ndarray:
        """Simulated annealing over single-pod moves and pod swaps (every pod placed, so the pair weights
        are fixed and each proposal's cost change is exact in O(1)); returns the best state seen."""
        p, d, rng = self.p, self.p.distances, self.rng
        counts = counts.copy()
        k, g = p.pair_weights(counts), self.gradient(counts)
        cpu, mem = self.free(counts)
        value = p.objective(counts)
        best, best_value = counts.copy(), value
        scale = float(np.percentile(np.abs(g[g > 0]), 50)) if (g > 0).any() else 1.0
        t0, t1 = self.t0 * scale, 1e-3 * scale
        nodes = len(p.cap_cpu)
        pods = np.argwhere(counts > 0)
        draws = rng.random((steps, 3))
        for step in range(steps):
            temp = t0 * (t1 / t0) ** (step / steps)
            w, n = pods[int(draws[step, 0] * len(pods))]
            if counts[w, n] < 1:
                pods = np.argwhere(counts > 0)
                continue
            m = int(draws[step, 1] * nodes)
            if m == n or not p.allowed[w, m]:
                continue
            if cpu[m] >= p.cpu[w] - 1e-9 and mem[m] >= p.mem[w] - 1e-9:
                delta, v = g[w, m] - g[w, n], -1
            else:
                on_m = np.flatnonzero(counts[:, m] > 0)
                v = int(on_m[rng.integers(len(on_m))]) if len(on_m) else -1
                if v < 0 or v == w or not p.allowed[v, n]:
                    continue
                if cpu[n] + p.cpu[w] - p.cpu[v] < -1e-9 or cpu[m] + p.cpu[v] - p.cpu[w] < -1e-9:
                    continue
                if mem[n] + p.mem[w] - p.mem[v] < -1e-9 or mem[m] + p.mem[v] - p.mem[w] < -1e-9:
                    continue
                delta = g[w, m] - g[w, n] + g[v, n] - g[v, m] + k[w, v] * (2 * d[n, m] - d[n, n] - d[m, m])
            if delta > 0 and draws[step, 2] >= math.exp(-delta / temp):
                continue
            self._shift(counts, g, k, cpu, mem, w, n, m)
            if v >= 0:
                self._shift(counts, g, k, cpu, mem, v, m, n)
            if counts[w, n] == 0 or (v >= 0 and counts[v, m] == 0) or counts[w, m] == 1:
                pods = np.argwhere(counts > 0)
            value += delta
            if value < best_value - 1e-9:
                best, best_value = counts.copy(), value
        return best

    def _shift(
        self, counts: np.ndarray, g: np.ndarray, k: np.ndarray, cpu: np.ndarray, mem: np.ndarray, w: int, n: int, m: int
    ) -> None:
        d = self.p.distances
        counts[w, n] -= 1
        counts[w, m] += 1
        g += np.outer(k[:, w], d[m] - d[n])
        cpu[n], cpu[m] = cpu[n] + self.p.cpu[w], cpu[m] - self.p.cpu[w]
        mem[n], mem[m] = mem[n] + self.p.mem[w], mem[m] - self.p.mem[w]

    def run(self, starts: list[np.ndarray], rounds: int, anneal_steps: int = 0, restarts: int = 1) -> np.ndarray:
        best, best_value = starts[0], math.inf
        for start in starts:
            counts = start.copy()
            self.fill(counts)
            self.descend(counts)
            if self.p.objective(counts) < best_value:
                best, best_value = counts, self.p.objective(counts)
        complete = bool((best.sum(axis=1) == self.p.replicas).all())
        for _ in range(restarts if anneal_steps > 0 and complete else 0):
            counts = self.anneal(best, anneal_steps)
            self.descend(counts)
            if (value := self.p.objective(counts)) < best_value - 1e-9:
                best, best_value = counts, value
        for _ in range(rounds):
            if best.sum() == 0:
                break
            counts = self.kick(best, int(self.rng.integers(1, 4 + int(best.sum()) // 10)))
            self.descend(counts)
            if (value := self.p.objective(counts)) < best_value - 1e-9:
                best, best_value = counts, value
        return best


def to_assignment(sc: Scenario, counts: np.ndarray) -> Outcome:
    """Pods of each workload fill its nodes in node order, by pod index."""
    assignment: dict[str, str] = {}
    unplaced = 0
    for w, wl in enumerate(sc.workloads):
        slots = [sc.nodes[i].name for i in range(len(sc.nodes)) for _ in range(int(counts[w, i]))]
        for i in range(wl.replicas):
            if i < len(slots):
                assignment[f"{wl.name}-{i}"] = slots[i]
            else:
                unplaced += 1
    return Outcome(assignment, unplaced)


MILP_MAX_ROWS = 1_000
"""Largest linearized model handed to the MILP solver (product constraints)."""
MILP_TIME_LIMIT = 20.0
"""Seconds the MILP solver may spend; a model not proven optimal by then is not called exact."""


@dataclass
class _Rows:
    """A sparse constraint matrix built row by row."""

    rows: list[int]
    cols: list[int]
    vals: list[float]
    lo: list[float]
    hi: list[float]

    def add(self, entries: list[tuple[int, float]], low: float, high: float) -> None:
        i = len(self.lo)
        for c, v in entries:
            self.rows.append(i)
            self.cols.append(c)
            self.vals.append(v)
        self.lo.append(low)
        self.hi.append(high)


def milp_best(p: _Problem, time_limit: float = MILP_TIME_LIMIT) -> tuple[np.ndarray | None, bool]:
    """Minimum network cost with every pod placed, as a mixed-integer linear program (HiGHS through
    ``scipy.optimize.milp``); returns the counts (``None`` if none found) and whether they are proven optimal.

    Variables: ``x[w, n]`` pods of ``w`` on ``n``; one-hot ``z[w, n, k]`` (``x = Σ k z``); for each
    dependency ``a - b`` and node pair with ``d > 0`` a product ``P ≥ x[a, n] x[b, m]``, linearized exactly
    for a minimization with non-negative costs by ``P ≥ k x[b, m] - k r_b (1 - z[a, n, k])`` for each ``k``.
    Objective ``Σ (T_ab + T_ba) / (r_a r_b) Σ d(n, m) P``, which is the network cost when every pod runs.
    """
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import coo_array

    nw, nn = p.allowed.shape
    r = p.replicas.astype(int)
    # Each dependency once, oriented so that the side with fewer replicas is the one expanded in binaries.
    edges = [
        (a, b, float(p.traffic[a, b] + p.traffic[b, a]))
        if r[a] <= r[b]
        else (b, a, float(p.traffic[a, b] + p.traffic[b, a]))
        for a in range(nw)
        for b in range(a + 1, nw)
        if p.traffic[a, b] + p.traffic[b, a] > 0 and r[a] > 0 and r[b] > 0
    ]
    pairs = [(n, m) for n in range(nn) for m in range(nn) if p.distances[n, m] > 0]
    if sum(r[a] for a, _, _ in edges) * len(pairs) > MILP_MAX_ROWS:
        return None, False
    x = np.arange(nw * nn).reshape(nw, nn)
    var = nw * nn
    z: dict[tuple[int, int], list[int]] = {}
    for w, n in zip(*np.nonzero(p.allowed & (r[:, None] > 0)), strict=True):
        z[int(w), int(n)] = list(range(var, var + r[w]))
        var += r[w]
    binaries = var
    cost: list[float] = [0.0] * var
    c = _Rows([], [], [], [], [])
    for w in range(nw):
        c.add([(int(x[w, n]), 1.0) for n in range(nn)], r[w], r[w])
    for n in range(nn):
        c.add([(int(x[w, n]), float(p.cpu[w])) for w in range(nw)], -np.inf, float(p.cap_cpu[n]) + 1e-9)
        c.add([(int(x[w, n]), float(p.mem[w])) for w in range(nw)], -np.inf, float(p.cap_mem[n]) + 1e-9)
    for (w, n), ks in z.items():
        c.add([(int(x[w, n]), 1.0)] + [(v, -float(k + 1)) for k, v in enumerate(ks)], 0, 0)
        c.add([(v, 1.0) for v in ks], 0, 1)
    for a, b, t in edges:
        for n, m in pairs:
            if (a, n) in z and p.allowed[b, m]:
                cost.append(t / (r[a] * r[b]) * float(p.distances[n, m]))
                for k, zv in enumerate(z[a, n], start=1):
                    c.add([(var, 1.0), (int(x[b, m]), -float(k)), (zv, -float(k * r[b]))], -float(k * r[b]), np.inf)
                var += 1
    upper = np.full(var, np.inf)
    upper[: nw * nn] = np.where(p.allowed, r[:, None], 0).ravel()
    upper[nw * nn : binaries] = 1
    integrality = np.zeros(var)
    integrality[:binaries] = 1
    res = milp(
        np.array(cost),
        integrality=integrality,
        bounds=(np.zeros(var), upper),
        constraints=LinearConstraint(coo_array((c.vals, (c.rows, c.cols)), shape=(len(c.lo), var)).tocsr(), c.lo, c.hi),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-7},
    )
    if res.x is None:
        return None, False
    counts = np.rint(res.x[: nw * nn]).reshape(nw, nn)
    if not p.fits(counts) or (counts.sum(axis=1) != r).any():
        return None, False
    return counts, bool(res.status == 0)


def find_best(sc: Scenario, starts: list[Outcome], distances: np.ndarray, rounds: int) -> tuple[Outcome, bool]:
    """The exact optimum when the space is small enough (exhaustive enumeration, else a MILP proven
    optimal), else the best of a long local search (and of the MILP's incumbent, if any)."""
    p = _Problem.build(sc, distances)
    if search_space(p, with_unplaced=False) <= EXHAUSTIVE_LIMIT:
        counts = exhaustive(p, with_unplaced=False)
        if counts is None and search_space(p, with_unplaced=True) <= EXHAUSTIVE_LIMIT:
            counts = exhaustive(p, with_unplaced=True)
        if counts is not None:
            return to_assignment(sc, counts), True
    exact_counts, proven = milp_best(p) if rounds > 0 else (None, False)
    if exact_counts is not None and proven:
        return to_assignment(sc, exact_counts), True
    search = _LocalSearch(p, np.random.default_rng(sc.seed))
    pods = int(p.replicas.sum())
    steps = 0 if rounds == 0 else min(ANNEAL_MAX_STEPS, max(20_000, 600 * pods))
    starts_counts = [counts_of(sc, s.assignment) for s in starts]
    if exact_counts is not None:
        starts_counts.insert(0, exact_counts)
    counts = search.run(starts_counts, rounds, steps, ANNEAL_RESTARTS)
    return to_assignment(sc, counts), False


def simulate(
    sc: Scenario, search_rounds: int = 300, variants: Mapping[str, ScoringConfig] | None = None
) -> dict[str, Any]:
    """The report of ``augur placement simulate``; ``variants`` adds Augur runs with other scoring
    configurations (reported under their names; their placements also seed the offline search)."""
    distances = node_distances(sc)
    augur, default = simulate_augur(sc), simulate_default(sc)
    extra = {name: simulate_augur(replace(sc, scoring=config)) for name, config in (variants or {}).items()}
    best, exact = find_best(sc, [augur, default, *extra.values()], distances, search_rounds)
    return {
        "augur": augur.report(sc, distances),
        "default": default.report(sc, distances),
        "best": {**best.report(sc, distances), "exact": exact},
        **{name: outcome.report(sc, distances) for name, outcome in extra.items()},
    }
