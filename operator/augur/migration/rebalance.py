"""Which pods to move: one rebalancer run over a cluster snapshot (pure, deterministic).

0. Hard rules first (:mod:`augur.migration.hardrules`): a movable pod on a node its workload's hard rules
   fail (placed while kube-scheduler did not call the extender's filter verb) moves, reason ``HardRule``,
   to the node the extender's scoring ranks first among those that pass the rules and have room.
1. Readings: the node-load spread (busiest minus idlest schedulable node, CPU) is compared with the
   threshold; only after ``readings`` consecutive readings above it (hysteresis) do load moves start
   (reason ``Rebalance``). With forecasts, the same on the forecast loads gives ``Predictive`` moves
   before the spread is reached.
2. Load moves, one at a time until the spread is within the threshold: every movable pod on a node busier
   than the mean that carries at least ``MIN_SHARE`` of the threshold (1/20: one percentage point of its
   node at the default 20 %) is a candidate, so no eviction is spent on a pod that barely moves load. Its
   targets are the nodes where it fits, that stay below its source after the move (no overshoot), whose
   network cost does not rise by more than the network threshold (a preference: a move beyond it is taken
   when none within it lowers the spread, or when it lowers the stddev ``NETWORK_WAIVER`` times more),
   and that pass the extender's hard filter; among them the nodes whose move gains at least ``NEAR_BEST`` (3/4)
   of the best stddev reduction are preferred and the target is the one the extender's scoring
   (:func:`augur.placement.score_nodes`) ranks first. The candidate with the
   largest stddev reduction per disruption wins.
3. Network moves: for every movable pod of a workload with traffic, the exact network-cost change of a
   move to each node comes from the shared search engine (:mod:`augur.migration.network`); the best node
   that passes the hard filter, has room and keeps the spread within ``max(threshold, current spread)``
   is taken when it lowers the network cost by more than ``network_gain`` of it. Network moves wait while
   the spread is above the threshold and a load move could lower it (including while the readings are
   still being confirmed), so the rate limits' evictions buy balance first; when nothing movable can lower
   the spread, network moves go ahead.

Nothing is proposed while an approved Migration is in progress (moves go in waves) nor, with measured load,
for ``settle`` seconds after the latest one finished (a ``rate()`` window still holds the moved pod's use on
its source), except hard-rule moves, which need no load reading; the readings taken meanwhile do not
count: the hysteresis counters start again from zero once the wave is over, so a placement caught in
transition never triggers a load move. Every move respects
the movability rules (``PodState.blocked``), pods with a Migration in flight, the rate
limits and the per-workload cool-down, which forbids reversals: within ``cooldown`` of a move of one of
its pods from A to B, no pod of that workload moves onto A or off B (further moves in the same direction
are allowed, so one workload can shed several pods of a busy node); a dry-run plan holds its whole
workload for the cool-down. Inputs are canonicalized first; ties between pods go by pod name, ties between
target nodes by the nodes' canonical order (:attr:`augur.migration.working.Working.rank`, from what the
nodes are and hold, never their names), so the proposals' costs depend neither on the order in which
nodes and pods were listed nor on what the nodes are called.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from augur.constants import FloatArray, IntArray
from augur.migration import explain, hardrules
from augur.migration.explain import pct
from augur.migration.limits import Budget, Readings
from augur.migration.load import spread, spread_after, stddev, stddev_after
from augur.migration.params import RebalanceParams
from augur.migration.result import Figures, Proposal, Reason, RebalanceResult
from augur.migration.snapshot import ClusterSnapshot, PodState
from augur.migration.working import Working
from augur.placement.filter import filter_nodes, has_hard_rules
from augur.placement.scoring import score_nodes

EPS = 1e-9
MIN_SHARE = 1 / 20
"""A load move must shift at least this fraction of the threshold (as load of the source node)."""
NEAR_BEST = 0.75
"""A load move's target must gain at least this share of the best stddev reduction of the pod's move
(the extender's scoring chooses among those); the rest of the gain may go to network cost or spreading."""
NETWORK_WAIVER = 2.0
"""A load move beyond the network allowance is taken instead of the best one within it when it lowers the
stddev this many times more (chosen on the benchmark's development seed)."""
SHORTLIST = 8
"""Load-move candidates (best stddev bound per disruption first) whose targets are scored each step."""


def rebalance(
    snapshot: ClusterSnapshot,
    params: RebalanceParams | None = None,
    readings: Readings | None = None,
    now: datetime | None = None,
) -> RebalanceResult:
    """One run: the moves to make now, best first, and the next hysteresis counters."""
    params = params or RebalanceParams()
    now = now or datetime.now(UTC)
    work = Working(snapshot.canonical())
    before = work.figures()
    thr = params.threshold
    forecast_hot = params.predictive and before.forecast_spread is not None and before.forecast_spread > thr + EPS
    if work.snap.in_flight:  # a placement in transition: nothing moves, the hysteresis restarts
        waiting = f"waiting for {work.snap.in_flight} move(s) in progress to finish"
        return RebalanceResult((), before, before, Readings(), (), (waiting,))
    budget = Budget.from_recent(work.snap.recent, params, now)
    if settling := _settle_note(work.snap, params, now):  # readings do not count, only rule breaks move
        run = _Run(work, params, budget, Readings())
        run.note(settling)
        run.hard_rules()
        return run.result(before)
    readings = (readings or Readings()).observe(before.spread > thr + EPS, forecast_hot)
    run = _Run(work, params, budget, readings)
    run.hard_rules()
    if readings.above >= params.readings:
        run.balance("Rebalance")
    elif params.predictive and readings.forecast_above >= params.readings:
        run.balance("Predictive")
    elif before.spread > thr + EPS:
        run.note(f"spread {pct(before.spread)} above the threshold for {readings.above} of {params.readings} readings")
    elif forecast_hot:
        run.note(
            f"forecast spread {pct(before.forecast_spread or 0)} above the threshold for "
            f"{readings.forecast_above} of {params.readings} readings"
        )
    if work.network.keys and params.network_gain < 1:
        if run.load_pending(before.spread):
            run.note("network moves wait until the node load is balanced (load moves come first)")
        else:
            run.network()
    return run.result(before)


def _settle_note(snap: ClusterSnapshot, params: RebalanceParams, now: datetime) -> str:
    """Why load and network moves wait for measured load to show the last finished move; empty when they
    do not."""
    if snap.measured and snap.last_finished is not None:
        left = params.settle - (now - snap.last_finished).total_seconds()
        if left > 0:
            return f"waiting {left:.0f} s more for the measured load to show the last move (load.settleTime)"
    return ""


class _Run:
    def __init__(self, work: Working, params: RebalanceParams, budget: Budget, readings: Readings) -> None:
        self.work, self.params, self.budget, self.readings = work, params, budget, readings
        self.sched: IntArray = np.flatnonzero(work.schedulable).astype(np.int64)
        self.sub = {int(i): k for k, i in enumerate(self.sched.tolist())}
        """Node position → position among the schedulable nodes."""
        self.out: list[Proposal] = []
        self.notes: list[str] = []
        self.held: list[str] = []
        """Rate-limit and cool-down reasons that held pods back."""
        self.triggered: list[Reason] = []
        self.stuck = False
        """No load move can lower the spread (network moves need not wait for one)."""

    def note(self, text: str) -> None:
        self.notes.append(text)

    def result(self, before: Figures) -> RebalanceResult:
        return RebalanceResult(
            tuple(self.out),
            before,
            self.work.figures(),
            self.readings,
            tuple(self.triggered),
            tuple(dict.fromkeys(self.notes + sorted(self.held))),
        )

    # -- shared checks --
    def blocked(self, pod: PodState) -> str:
        if pod.blocked:
            return pod.blocked
        if pod.key in self.work.snap.busy:
            return "a Migration of this pod is in progress"
        if not pod.owner:
            return "no controller"
        why = self.budget.owner_blocked(pod.owner) or self.budget.source_blocked(
            pod.owner, self.work.names[self.work.at[pod.key]]
        )
        if why:
            self.held.append(why)
        return why

    def node_budget(self) -> np.ndarray:
        return np.array([self.budget.node_ok(n) for n in self.work.names], dtype=bool)

    def targets_ok(self, pod: PodState) -> np.ndarray:
        """Nodes the pod may move to: within the budget, and not a node its workload left in the cool-down."""
        budget = self.budget
        return np.array([budget.node_ok(n) and budget.target_ok(pod.owner, n) for n in self.work.names], dtype=bool)

    def disruption(self, pod: PodState) -> float:
        return 1.0 + 1.0 / max(1, self.work.owner_pods[pod.owner])

    def passing(self, pod: PodState, ok: np.ndarray) -> list[str]:
        """Names of the ``ok`` nodes that pass the extender's hard filter, in canonical order
        (:attr:`Working.rank`: the first of equal-cost nodes is chosen by what it is, never by its name)."""
        work = self.work
        names = [work.names[i] for i in work.by_rank(np.flatnonzero(ok)).tolist()]
        if not names or not has_hard_rules(work.rulebook.get(pod.workload)):
            return names
        return list(filter_nodes(work.pod_info(pod), work.placement(without=pod), names).passed)

    def network_delta(self, pod: PodState) -> FloatArray:
        work = self.work
        if pod.workload not in work.network:
            return np.zeros(len(work.names))
        assert pod.workload is not None
        return work.network.delta(pod.workload, work.at[pod.key])

    def load_pending(self, spread_before: float) -> bool:
        """The live spread is above the threshold and a load move could lower it (now or once the readings
        confirm it): network moves then wait, so no eviction of the rate limits goes to them first."""
        if spread_before <= self.params.threshold + EPS or self.stuck:
            return False
        load = self.work.load()[self.sched]
        return spread(load) > self.params.threshold + EPS and self._best_load_move(load, False, relax=True) is not None

    # -- hard-rule moves --
    def hard_rules(self) -> None:
        work = self.work
        for pod, why in hardrules.violations(work):
            if "HardRule" not in self.triggered:
                self.triggered.append("HardRule")
            if exhausted := self.budget.exhausted():
                self.note(exhausted)
                return
            source = work.names[work.at[pod.key]]
            held = self.blocked(pod) or ("" if self.budget.node_ok(source) else f"{source} reached maxMovesPerNode")
            if held:
                self.note(f"{pod.key} breaks its workload's hard rules ({why}) but cannot move: {held}")
                continue
            names = self.passing(pod, work.fits(pod) & self.targets_ok(pod))
            if not names:
                self.note(f"{pod.key} breaks its workload's hard rules ({why}); no node that passes has room")
                continue
            result = score_nodes(work.pod_info(pod), work.placement(without=pod), names)
            target = result.best()
            assert target is not None
            text = hardrules.explain(pod, source, why, target, float(result.total.max()), len(names))
            self._apply(pod, work.pos[target], "HardRule", 0.0, text)  # made to restore a rule, not for a gain

    # -- load moves --
    def balance(self, reason: Reason) -> None:
        self.triggered.append(reason)
        forecast = reason == "Predictive"
        while not (why := self.budget.exhausted()):
            load = self.work.load(forecast)[self.sched]
            if spread(load) <= self.params.threshold + EPS:
                return
            # within the network allowance, unless a move beyond it gains clearly more balance
            pick = self._best_load_move(load, forecast)
            wide = self._best_load_move(load, forecast, relax=True)
            if pick is None or (wide is not None and wide[3] > NETWORK_WAIVER * pick[3]):
                pick = wide
            if pick is None:
                self.note(f"no movable pod on the busy nodes can lower the {'forecast ' if forecast else ''}spread")
                self.stuck = True
                return
            pod, target, explanation, gain = pick
            self._apply(pod, target, reason, gain, explanation)
        self.note(why)

    def _best_load_move(
        self, load: FloatArray, forecast: bool, relax: bool = False
    ) -> tuple[PodState, int, str, float] | None:
        work = self.work
        mean, sd0 = float(load.mean()), stddev(load)
        smallest = self.params.threshold * MIN_SHARE
        node_ok = self.node_budget()
        shortlist: list[tuple[float, str, PodState, int, np.ndarray, FloatArray, FloatArray]] = []
        for pod in work.pods:
            i = work.at[pod.key]
            a = self.sub.get(i)
            if a is None or load[a] <= mean + EPS or not node_ok[i] or self.blocked(pod):
                continue
            c = work.forecast_contribution(pod) if forecast else work.contribution(pod)
            if c <= EPS:
                continue
            da, db = c / work.cap[i], c / work.cap[self.sched]
            if da < smallest - EPS:
                continue
            ok = (work.fits(pod) & self.targets_ok(pod))[self.sched] & (load + db <= load[a] - da + EPS)
            if not ok.any():
                continue
            sd = stddev_after(load, a, da, db)
            bound = sd0 - float(sd[ok].min())
            if bound > EPS:
                shortlist.append((-bound / self.disruption(pod), pod.key, pod, a, ok, sd, db))
        shortlist.sort(key=lambda t: (t[0], t[1]))
        best: tuple[float, PodState, int, str, float] | None = None
        for _, _, pod, a, ok, sd, db in shortlist[:SHORTLIST]:
            chosen = self._load_target(pod, ok, sd, sd0, relax)
            if chosen is None:
                continue
            b, score, options = chosen
            gain = sd0 - float(sd[b])
            value = gain / self.disruption(pod)
            if gain > EPS and (best is None or value > best[0] + EPS):
                move = explain.LoadMove(pod, load, a, b, db, sd0, float(sd[b]), score, options, forecast)
                text = explain.load_move(self.work, self.params, self.readings, self.sched, move)
                best = (value, pod, int(self.sched[b]), text, gain)
        return None if best is None else (best[1], best[2], best[3], best[4])

    def _load_target(
        self, pod: PodState, ok: np.ndarray, sd: FloatArray, sd0: float, relax: bool = False
    ) -> tuple[int, float, int] | None:
        """The target (schedulable position), its score and how many nodes were considered: among the nodes
        whose move gains at least :data:`NEAR_BEST` of the best stddev reduction (so each eviction buys
        close to the most balance it can), the one the extender's scoring ranks first."""
        work, params = self.work, self.params
        full = np.zeros(len(work.names), dtype=bool)
        full[self.sched] = ok
        if pod.workload in work.network and params.network_gain < 1 and not relax:
            allow = params.network_gain * work.network.cost()
            full &= self.network_delta(pod) <= allow + EPS
        best = float(sd[ok].min())
        tier = full.copy()
        tier[self.sched] &= sd <= best + (1 - NEAR_BEST) * (sd0 - best) + EPS
        names = self.passing(pod, tier) if tier.any() else []
        if not names:
            names = self.passing(pod, full)
        if not names:
            return None
        result = score_nodes(work.pod_info(pod), work.placement(without=pod), names, params.scoring)
        target = result.best()
        assert target is not None
        return self.sub[work.pos[target]], float(result.total.max()), len(names)

    # -- network moves --
    def network(self) -> None:
        self.triggered.append("NetworkCost")
        work = self.work
        while not (why := self.budget.exhausted()):
            cost = work.network.cost()
            if cost <= EPS:
                return
            pick = self._best_network_move(cost)
            if pick is None:
                return
            pod, target, explanation, gain = pick
            self._apply(pod, target, "NetworkCost", gain, explanation)
        self.note(why)

    def _best_network_move(self, cost: float) -> tuple[PodState, int, str, float] | None:
        work, params = self.work, self.params
        need = params.network_gain * cost
        full_load = work.load()
        live = full_load[self.sched]
        limit = max(params.threshold, spread(live))
        node_ok = self.node_budget()
        best: tuple[float, PodState, int, float] | None = None
        for pod in work.pods:
            i = work.at[pod.key]
            a = self.sub.get(i)
            if pod.workload not in work.network or a is None or not node_ok[i] or self.blocked(pod):
                continue
            delta = self.network_delta(pod)
            ok = work.fits(pod) & self.targets_ok(pod) & (delta < -need - EPS)
            if not ok.any():
                continue
            c = work.contribution(pod)
            after = np.full(len(work.names), np.inf)
            after[self.sched] = spread_after(live, a, c / work.cap[i], c / work.cap[self.sched])
            ok &= after <= limit + EPS
            names = self.passing(pod, ok) if ok.any() else []
            if not names:
                continue
            idx = np.array([work.pos[n] for n in names], dtype=np.int64)  # canonical order
            low = float(delta[idx].min())
            m = int(idx[int(np.flatnonzero(delta[idx] <= low + EPS)[0])])
            gain = -float(delta[m])
            value = gain / self.disruption(pod)
            if best is None or value > best[0] + EPS:
                best = (value, pod, m, gain)
        if best is None:
            return None
        _, pod, m, gain = best
        return pod, m, explain.network_move(work, params, pod, m, cost, gain, limit), gain

    # -- applying a choice --
    def _apply(self, pod: PodState, target: int, reason: Reason, gain: float, explanation: str) -> None:
        work = self.work
        source = work.at[pod.key]
        live = work.load()[self.sched]
        sd0, net0 = stddev(live), work.network.cost()
        work.move(pod, target)
        sd1, net1 = stddev(work.load()[self.sched]), work.network.cost()
        self.budget.take(pod.owner, work.names[source], work.names[target])
        self.out.append(
            Proposal(
                namespace=pod.namespace,
                pod=pod.name,
                owner=pod.owner,
                workload=pod.workload,
                source=work.names[source],
                target=work.names[target],
                reason=reason,
                gain=gain,
                load_gain=sd0 - sd1,
                network_gain=net0 - net1,
                disruption=self.disruption(pod),
                explanation=explanation,
            )
        )
