"""Figures of one rebalancing run (the descheduler's or Augur's) on a placement scenario (pure).

A run is judged on what a watcher saw on the cluster, never on what the rebalancer says it did:

- **balance and network cost** of a placement (which pods of which workload run on which node) with the
  simulator's own functions, :func:`augur.sim.placement.load_stddev` (standard deviation of the nodes'
  requested CPU over allocatable) and :func:`augur.sim.placement.network_cost` (facts §5);
- **evictions**: pods evicted through the Eviction API while the rebalancer ran, and **pod deletions**:
  every Ready pod of the scenario removed, evicted or deleted otherwise (a surplus replacement);
- **availability violations**: episodes in which a PodDisruptionBudget reported fewer healthy pods than
  it requires, or a Deployment fewer available replicas than its budget's minimum;
- **ping-pong**: a workload's pod arriving on a node that lost one of its pods earlier in the run, or
  leaving a node that gained one (a move undone, or a replacement landing where its pod was evicted);
  pods started during the run and removed again without an eviction (a controller's surplus pod, a
  discarded placeholder) are **churn**, counted apart and left out of ping-pong;
- **time to converge**: from the rebalancer's start to the last pod event (eviction, binding, Ready).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from augur.sim.placement.metrics import load_stddev, network_cost, node_distances, node_loads
from augur.sim.placement.scenario import Scenario
from augur.sim.rebalance_bound import bound_by_evictions

PodEventKind = Literal["evicted", "deleted", "discarded", "bound", "ready"]
"""``evicted``: deleted through the Eviction API (the pod carried the ``DisruptionTarget`` condition with
reason ``EvictionByEvictionAPI``); ``deleted``: a Ready pod deleted otherwise (e.g. a ReplicaSet removing
a surplus pod); ``discarded``: a pod deleted before it was ever Ready (e.g. a placeholder rolled back)."""
GONE = ("evicted", "deleted", "discarded")


@dataclass(frozen=True)
class PodEvent:
    """What the pod watcher saw: ``seconds`` after the rebalancer started (negative: before)."""

    seconds: float
    kind: PodEventKind
    workload: str
    node: str
    """Scenario node name ("" for a pod not yet bound)."""
    pod: str


@dataclass(frozen=True)
class HealthSample:
    """One observed status of a PodDisruptionBudget (or of a Deployment against its budget)."""

    seconds: float
    name: str
    healthy: int
    required: int


def counts(sc: Scenario, placement: Iterable[tuple[str, str]]) -> np.ndarray:
    """Workload x node pod counts (node table order) of ``(workload, scenario node)`` pairs; pods of
    unknown workloads or nodes (e.g. not yet bound) are ignored."""
    w_index = {w.name: i for i, w in enumerate(sc.workloads)}
    pos = sc.table.position
    out = np.zeros((len(sc.workloads), len(sc.table)))
    for workload, node in placement:
        if workload in w_index and node in pos:
            out[w_index[workload], pos[node]] += 1
    return out


def placement_table(sc: Scenario, placement: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Workload -> scenario node -> pods, nodes in the table's order and only those holding pods: a
    run's starting placement as recorded, so its decisions can be replayed without a cluster."""
    c = counts(sc, placement)
    names = sc.table.names
    return {w.name: {names[n]: int(c[i, n]) for n in range(len(names)) if c[i, n]} for i, w in enumerate(sc.workloads)}


def placement_pairs(table: Mapping[str, Mapping[str, int]]) -> list[tuple[str, str]]:
    """The ``(workload, scenario node)`` pairs of a :func:`placement_table`, one per pod (its inverse)."""
    return [(w, node) for w, per in table.items() for node, n in per.items() for _ in range(n)]


def placement_figures(sc: Scenario, placement: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Load standard deviation and network cost of a placement, as the simulator computes them."""
    c = counts(sc, placement)
    cpu = node_loads(sc, c)
    return {
        "load_stddev": round(load_stddev(sc, c), 6),
        "network_cost": round(float(network_cost(sc, c, node_distances(sc))), 6),
        "max_node_load": round(float(cpu.max()), 6) if len(cpu) else 0.0,
        "min_node_load": round(float(cpu.min()), 6) if len(cpu) else 0.0,
        "pods": int(c.sum()),
    }


@dataclass(frozen=True)
class _Life:
    workload: str
    node: str
    bound: float | None
    gone: float | None
    how: str
    """How it ended: "" (still there), or the event kind that removed it."""


def _lives(events: Sequence[PodEvent]) -> dict[str, _Life]:
    out: dict[str, _Life] = {}
    for e in sorted(events, key=lambda e: e.seconds):
        life = out.get(e.pod) or _Life(e.workload, e.node, None, None, "")
        workload, node = e.workload or life.workload, life.node or e.node
        if e.kind == "bound":
            life = _Life(workload, e.node, e.seconds, life.gone, life.how)
        elif e.kind in GONE:
            life = _Life(workload, node, life.bound, e.seconds, e.kind)
        else:
            life = _Life(workload, node, life.bound, life.gone, life.how)
        out[e.pod] = life
    return out


def _churn(life: _Life) -> bool:
    """Started after the start and removed again without an eviction."""
    return life.bound is not None and life.bound >= 0 and life.how in ("deleted", "discarded")


def evictions(events: Sequence[PodEvent]) -> int:
    """Pods of a workload evicted through the Eviction API after the start."""
    return sum(1 for e in events if e.kind == "evicted" and e.seconds >= 0 and e.workload)


def pod_deletions(events: Sequence[PodEvent]) -> int:
    """Ready pods of a workload removed after the start, evicted or deleted otherwise (a controller's
    surplus pod): every disruption of a running pod. Placeholders never Ready are not counted."""
    return sum(1 for e in events if e.kind in ("evicted", "deleted") and e.seconds >= 0 and e.workload)


def churn(events: Sequence[PodEvent]) -> int:
    """Pods started during the run and removed again without an eviction."""
    return sum(1 for life in _lives(events).values() if life.workload and _churn(life))


def ping_pong(events: Sequence[PodEvent]) -> int:
    """Moves undone, after the start: for each (workload, node), a pod arriving after one left, or leaving
    after one arrived. A replacement scheduled back onto the node its pod was evicted from counts; churn
    pods (:func:`churn`) are left out, they are counted on their own."""
    moves: list[tuple[float, str, str, str]] = []
    for life in _lives(events).values():
        if not life.workload or not life.node or _churn(life):
            continue
        if life.bound is not None and life.bound >= 0:
            moves.append((life.bound, life.workload, life.node, "in"))
        if life.gone is not None and life.gone >= 0:
            moves.append((life.gone, life.workload, life.node, "out"))
    last: dict[tuple[str, str], str] = {}
    reversals = 0
    for _, workload, node, direction in sorted(moves):
        key = (workload, node)
        if key in last and last[key] != direction:
            reversals += 1
        last[key] = direction
    return reversals


def violations(samples: Sequence[HealthSample]) -> list[dict[str, Any]]:
    """Episodes (per name, consecutive samples) with fewer healthy pods than required, after the start."""
    out: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for s in sorted(samples, key=lambda s: s.seconds):
        if s.seconds < 0:
            continue
        if s.healthy < s.required:
            episode = open_.get(s.name)
            if episode is None:
                episode = {
                    "name": s.name,
                    "from": round(s.seconds, 2),
                    "min_healthy": s.healthy,
                    "required": s.required,
                }
                open_[s.name] = episode
                out.append(episode)
            episode["min_healthy"] = min(episode["min_healthy"], s.healthy)
            episode["to"] = round(s.seconds, 2)
        else:
            open_.pop(s.name, None)
    return out


def converge_seconds(events: Sequence[PodEvent]) -> float:
    """Seconds from the start to the last pod event after it (0 when nothing happened)."""
    return round(max((e.seconds for e in events if e.seconds >= 0), default=0.0), 2)


def late_evictions(events: Sequence[PodEvent], after: float) -> int:
    """Evictions more than ``after`` seconds after the start (moves after the run should have settled)."""
    return sum(1 for e in events if e.kind == "evicted" and e.seconds > after and e.workload)


def balance_by_evictions(sc: Scenario, events: Sequence[PodEvent]) -> list[float]:
    """Node-load standard deviation reached with k evictions, k = 0, 1, ...: entry k is the lowest seen in a
    settled placement (every replica of the scenario placed once, no extra pod) while k pods had been
    evicted since the start. Shows how much balance each eviction bought, whoever evicted."""
    expected = sum(w.replicas for w in sc.workloads)
    where: dict[str, tuple[str, str]] = {}
    best: dict[int, float] = {}
    k = 0
    for e in sorted(events, key=lambda e: e.seconds):
        if e.kind == "bound" and e.workload and e.node:
            where[e.pod] = (e.workload, e.node)
        elif e.kind in GONE:
            where.pop(e.pod, None)
            k += int(e.kind == "evicted" and e.seconds >= 0 and bool(e.workload))
        else:
            continue
        if len(where) == expected:
            sd = placement_figures(sc, where.values())["load_stddev"]
            best[k] = min(sd, best.get(k, sd))
    out: list[float] = []
    for i in range(max(best, default=-1) + 1):
        value = best.get(i, out[-1] if out else None)
        if value is not None:
            out.append(round(min(value, out[-1]) if out else value, 4))
    return out


def balance_bound(sc: Scenario, before: Iterable[tuple[str, str]], most: int = 30) -> tuple[list[float], str] | None:
    """A lower bound on the node-load standard deviation *any* rebalancer can reach with k evictions (entry
    k of the curve), from the placement ``before``, and which bound it is (``"whole pods"``, or
    ``"fractional"`` where the exact one has too many combinations;
    :func:`augur.sim.rebalance_bound.bound_by_evictions`). None unless every node has the same allocatable
    CPU (the bound assumes a core moved shifts the same load everywhere)."""
    caps = sc.table.cpu
    if len(caps) == 0 or not np.allclose(caps, caps[0]):
        return None
    c = counts(sc, before)
    cpu = np.array([w.cpu for w in sc.workloads])
    load = (cpu @ c) / caps
    pods = [
        [float(cpu[w]) / float(caps[0]) for w in range(len(cpu)) for _ in range(int(c[w, n]))] for n in range(len(caps))
    ]
    curve, kind = bound_by_evictions(load, pods, most)
    return [round(x, 4) for x in curve], kind


def bound_fields(sc: Scenario, before: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A run's ``balance_bound_by_evictions`` (the curve) and ``balance_bound_kind`` (which bound)."""
    bound = balance_bound(sc, before)
    return {
        "balance_bound_by_evictions": None if bound is None else bound[0],
        "balance_bound_kind": None if bound is None else bound[1],
    }


def evictions_to_reach(curve: Sequence[float], stddev: float) -> int | None:
    """Fewest evictions after which :func:`balance_by_evictions` reached ``stddev`` (None: never)."""
    return next((k for k, sd in enumerate(curve) if sd <= stddev + 1e-4), None)


def run_figures(
    sc: Scenario,
    before: Iterable[tuple[str, str]],
    after: Iterable[tuple[str, str]],
    events: Sequence[PodEvent],
    samples: Sequence[HealthSample],
) -> dict[str, Any]:
    """Everything reported for one run."""
    before = list(before)
    b, a = placement_figures(sc, before), placement_figures(sc, after)
    episodes = violations(samples)
    return {
        "before": b,
        "after": a,
        "load_stddev_change": _change(b["load_stddev"], a["load_stddev"]),
        "network_cost_change": _change(b["network_cost"], a["network_cost"]),
        "evictions": evictions(events),
        "pod_deletions": pod_deletions(events),
        "churn_pods": churn(events),
        "availability_violations": len(episodes),
        "violation_episodes": episodes,
        "ping_pong": ping_pong(events),
        "converge_seconds": converge_seconds(events),
        "balance_by_evictions": balance_by_evictions(sc, events),
        **bound_fields(sc, before),
        "placement_before": placement_table(sc, before),
    }


def _change(before: float, after: float) -> float | None:
    """Relative change (-0.3 = down 30 %); None when ``before`` is zero."""
    return None if before == 0 else round((after - before) / before, 4)


def spread(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Median, min and max over seeds (None entries skipped)."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {"n": len(vals), "median": round(float(np.median(vals)), 4), "min": min(vals), "max": max(vals)}


def summarize(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, Any]:
    """Spread over rows of one figure path like ``after.load_stddev``."""
    values: list[float | None] = []
    for row in rows:
        value: Any = row
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        values.append(value if isinstance(value, int | float) else None)
    return spread(values)
