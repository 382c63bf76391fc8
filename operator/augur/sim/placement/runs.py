"""Placing a scenario's pods one by one, in creation order, the way a scheduler would:

- :func:`simulate_deployed`: the shipped configuration. kube-scheduler's filter plugins (resource fit),
  then, with ``KubeModel.extender_filter`` (the hard-rules configuration; not the shipped one), Augur's
  filter (a filter extender runs after the filter plugins), then kube's default score plugins plus Augur's
  integer ``0..10`` score (``score_unfiltered`` without the filter verb) x the extender's weight x 10, the
  highest total winning with ties broken uniformly at random (seeded). Augur sees the pending-pod plan as
  the background planner has it at that moment: the planner is updated (repaired incrementally) after
  every bind. With ``KubeModel.view_lag`` L, Augur's view and its planner miss the last L binds (the
  extender's pod watch delivers them later), while kube's plugins and resource fit count every pod.
- :func:`simulate_default`: the same without the extender (kube's plugins alone).
- :func:`simulate_augur_alone`: Augur's float total alone (no kube plugins), for diagnosis.

Every pod decision uses the same ``filter_nodes``/``score_nodes``/``score_unfiltered`` as the extender. Arrays
are in the node table's order (sorted by name), but tied nodes are put in a canonical order before the seeded draw
(:meth:`_State.rank`: by what each node is and holds and by the distance structure, never by name), and the
planner searches in its own canonical order, so results depend neither on the order in which the scenario
lists its nodes nor on their names.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from augur.constants import IntArray
from augur.placement import Occupancy, PodInfo, RuleBook, Snapshot, filter_nodes, score_nodes, score_unfiltered
from augur.placement.canonical import colours
from augur.placement.constants import EPS
from augur.placement.plan import Planner
from augur.sim.placement.kube import KubeModel, KubeNodes, kube_total, pick, plugin_scores, with_extender
from augur.sim.placement.metrics import Outcome, node_distances
from augur.sim.placement.scenario import Scenario


class _State:
    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.table = sc.table
        self.kube = KubeNodes(self.table)
        self.cpu = np.zeros(len(self.table))
        self.mem = np.zeros(len(self.table))
        self.pods = np.zeros(len(self.table))
        self.own = np.zeros((len(sc.workloads), len(self.table)))
        self.occupancy: dict[str, dict[str, int]] = {}
        self.assignment: dict[str, str] = {}
        self.distances = node_distances(sc)

    def rank(self, nodes: IntArray) -> IntArray:
        """Canonical colours of ``nodes`` in the current state (:func:`~augur.placement.canonical.colours`
        over every node: allocatable, requested, pods of each workload, distances; seeded with the
        scenario's seed). Nodes of one colour are interchangeable, so which one a draw gets does not matter."""
        t = self.table
        features = np.column_stack([-t.cpu, -t.memory, -t.max_pods, self.cpu, self.mem, self.pods, self.own.T])
        return colours(self.distances, features, self.sc.seed)[nodes]

    def fits(self, w: int) -> IntArray:
        """Resource fit (kube's ``NodeResourcesFit`` filter, on actual requests and the pod count)."""
        wl, t = self.sc.workloads[w], self.table
        ok = (self.cpu + wl.cpu <= t.cpu + EPS) & (self.mem + wl.memory <= t.memory + EPS)
        ok &= self.pods + 1 <= t.max_pods + EPS
        return np.flatnonzero(ok).astype(np.int64)

    def place(self, w: int, pod: str, i: int) -> None:
        wl = self.sc.workloads[w]
        node = self.table.names_tuple[i]
        self.cpu[i] += wl.cpu
        self.mem[i] += wl.memory
        self.pods[i] += 1
        self.kube.add(i, wl.cpu, wl.memory)
        self.own[w, i] += 1
        per_node = self.occupancy.setdefault(wl.name, {})
        per_node[node] = per_node.get(node, 0) + 1
        self.assignment[pod] = node

    def snapshot(self, rulebook: RuleBook) -> Snapshot:
        occupancy = Occupancy({k: dict(v) for k, v in self.occupancy.items()})
        table = self.table.with_requested(self.cpu.copy(), self.mem.copy(), self.pods.copy())
        return Snapshot(table, occupancy, rulebook)


Chooser = Callable[[_State, int, PodInfo, Snapshot, IntArray, np.random.Generator], int | None]


def _run(sc: Scenario, choose: Chooser, planned: bool, lag: int = 0) -> Outcome:
    """Place every pod; Augur's snapshot (and its planner's) is built from ``view``, which misses the last
    ``lag`` binds of ``state`` (kube's side)."""
    state, rulebook, unplaced = _State(sc), RuleBook(sc.rules), 0
    view, unseen = (_State(sc), deque[tuple[int, str, int]]()) if lag > 0 else (state, None)
    rng = np.random.default_rng(sc.seed)
    # no wall-time limit on the search and no refresh by wall time (there is no publish hook either): the
    # simulated plan and its date must not depend on the machine's speed
    settings = replace(sc.scoring.plan.settings(), search_seconds=0.0, refresh_seconds=0.0)
    planner = Planner(settings) if planned and sc.scoring.plan.weight > 0 else None
    for step, (w, pod) in enumerate(sc.pods()):
        wl = sc.workloads[w]
        snap = view.snapshot(rulebook)
        if planner is not None:
            snap = replace(snap, plan=planner.update(snap, now=float(step)))
        info = PodInfo(pod, workload=wl.name, cpu=wl.cpu, memory=wl.memory)
        chosen = choose(state, w, info, snap, state.fits(w), rng)
        if chosen is None:
            unplaced += 1
            continue
        state.place(w, pod, chosen)
        if unseen is not None:
            unseen.append((w, pod, chosen))
            if len(unseen) > lag:
                view.place(*unseen.popleft())
    return Outcome(state.assignment, unplaced)


def _augur_candidates(info: PodInfo, snap: Snapshot, fit: IntArray) -> IntArray:
    passed = filter_nodes(info, snap, snap.table.names_of(fit)).passed
    return np.array(sorted(snap.table.position[n] for n in passed), dtype=np.int64)


def _deployed(model: KubeModel) -> Chooser:
    def choose(
        state: _State, w: int, info: PodInfo, snap: Snapshot, fit: IntArray, rng: np.random.Generator
    ) -> int | None:
        cand = _augur_candidates(info, snap, fit) if model.extender_filter else fit
        if len(cand) == 0:
            return None
        score = score_nodes if model.extender_filter else score_unfiltered
        augur = score(info, snap, snap.table.names_of(cand), state.sc.scoring).scores
        kube = kube_total(plugin_scores(state.kube, info.cpu, info.memory, state.own[w], cand), model)
        return pick(cand, with_extender(kube, augur, model), rng, state.rank)

    return choose


def _default(model: KubeModel) -> Chooser:
    def choose(
        state: _State, w: int, info: PodInfo, snap: Snapshot, fit: IntArray, rng: np.random.Generator
    ) -> int | None:
        if len(fit) == 0:
            return None
        scores = kube_total(plugin_scores(state.kube, info.cpu, info.memory, state.own[w], fit), model)
        return pick(fit, scores, rng, state.rank)

    return choose


def _alone(state: _State, w: int, info: PodInfo, snap: Snapshot, fit: IntArray, rng: np.random.Generator) -> int | None:
    cand = _augur_candidates(info, snap, fit)
    if len(cand) == 0:
        return None
    return pick(cand, score_nodes(info, snap, snap.table.names_of(cand), state.sc.scoring).total, rng, state.rank)


def simulate_deployed(sc: Scenario, model: KubeModel | None = None) -> Outcome:
    """kube-scheduler's default plugins plus Augur's extender as shipped (with the background plan)."""
    model = model or KubeModel()
    return _run(sc, _deployed(model), planned=True, lag=model.view_lag)


def simulate_default(sc: Scenario, model: KubeModel | None = None) -> Outcome:
    """kube-scheduler's default plugins alone."""
    return _run(sc, _default(model or KubeModel()), planned=False)


def simulate_augur_alone(sc: Scenario) -> Outcome:
    """Augur's filter and highest total alone (no kube plugins), ties at random: a diagnosis row."""
    return _run(sc, _alone, planned=True)
