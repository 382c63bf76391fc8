"""The pending-pod plan: where the replicas still to come should go, kept up to date off the request path.

The extender sees one pod at a time, but the ``WorkloadProfile``s say which workloads talk to which, how
much, and how many replicas each will have. A :class:`Planner` places every pending replica of the
workloads whose replica count and pod size are known, on top of what runs (fixed), minimizing the network
cost of facts §5 under node capacity and the profiles' required avoidances, with the shared search engine
(:mod:`augur.placement.search`): greedy insertion, best moves and swaps, seeded simulated annealing,
ruin and recreate.

:meth:`Planner.update` is called with successive snapshots (by the extender's background thread, or by the
simulator before each pod). While the node set, the traffic and the pod sizes stay the same, it *repairs*
the previous plan instead of planning anew: pods that started on a planned slot consume it; a pod that
started elsewhere, a deleted pod, a changed replica count or a node that filled up moves only the planned
pods concerned, followed by a short descent. The request path never plans: it reads the plan's free
slots for one workload (:meth:`Plan.slots`, ``O(nodes)``).

A full plan takes seconds at extender scale (its annealing runs and kicks), most of it improving a plan that
is already usable: a :class:`Planner` given ``publish`` hands it the best plan so far while a full plan is
under way (:attr:`Plan.provisional`): after the greedy starts and their descent (a few hundredths of the
full plan's CPU), and with :attr:`PlanSettings.provisional_updates` after each annealing run that improves on
it, so that pods arriving meanwhile follow a plan rather than none. With :attr:`PlanSettings.first_kicks`
the first plan is the best start after a few rounds of kicks. The plan :meth:`Planner.update` returns
is the final one. Given :attr:`Planner.latest` (the newest snapshot), each provisional plan is first repaired
against it, so that it holds the pods bound since the full plan's view, and a better search (the final one
included) replaces the plan handed over before only if it is still the cheaper once both are repaired.

A full plan can be abandoned: a :class:`Planner` given ``superseded`` asks it whenever its search pauses
and raises :class:`PlanSuperseded` when it answers ``True`` (the caller has seen workloads change so that
the plan would be out of date when done). The planner then keeps its previous plan and search, as if that
update had not been called. Repairs are short and always run to the end. With
:attr:`PlanSettings.search_seconds` a full plan's annealing runs stop once that much wall time has passed
since the update began, and the best plan so far is the plan (:attr:`Plan.cut_short`).

A full plan searches in the problem's canonical node order (:mod:`augur.placement.canonical`: by room,
what runs there, the distance structure, ties by hashes seeded with ``seed``), and repairs keep that
order; plans come back in the node table's positions. So a plan depends neither on the order nodes were
listed or watched in nor on their names, and the search is seeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from augur.constants import FloatArray, IntArray
from augur.placement.canonical import DistanceCodes, distance_codes, inverse
from augur.placement.context import Snapshot
from augur.placement.distance import distance_values
from augur.placement.plan_inputs import (
    FULL_PLAN_REASONS,
    PlanInputs,
    anchors,
    needs_new_plan,
    plan_inputs,
    plan_signature,
)
from augur.placement.plan_result import Plan, PlanSuperseded
from augur.placement.plan_search import FullSearch
from augur.placement.plan_settings import PlanSettings
from augur.placement.problem import CountProblem
from augur.placement.repair import repair
from augur.placement.search import CountSearch, cheaper


class Planner:
    """Keeps one plan and updates it from successive snapshots (not thread-safe: one owner calls it)."""

    def __init__(
        self,
        settings: PlanSettings | None = None,
        pause: Callable[[], None] | None = None,
        superseded: Callable[[], bool] | None = None,
        publish: Callable[[Plan], None] | None = None,
        latest: Callable[[], Snapshot | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or PlanSettings()
        self.clock = clock
        """Wall clock in seconds, for :attr:`PlanSettings.search_seconds`."""
        self.pause = pause
        """Handed to the search (:attr:`CountSearch.pause`): called every few hundred steps."""
        self.superseded = superseded
        """Asked after each pause of a full plan's search; ``True`` abandons the plan (:class:`PlanSuperseded`)."""
        self.publish = publish
        """Called during a full plan with the best plan so far (:attr:`Plan.provisional`): after the greedy
        starts, and with :attr:`PlanSettings.provisional_updates` after each annealing run that improves on it
        except the last (whose plan :meth:`update` returns). Not called by repairs, nor for a single pending pod."""
        self.latest = latest
        """With :attr:`publish`: the newest snapshot (``None``: none newer is known). Each provisional plan is
        then repaired against it before it is handed over, as :meth:`update` repairs a plan (pods bound since
        the full plan's view consume their slots or move the planned pods concerned), so that pods arriving
        meanwhile follow a plan that holds the pods bound before them; and a better search, the final one
        included, replaces the plan handed over before only if it is still the cheaper once both are
        repaired against the same snapshot (:meth:`_settle`; else that one is kept, repaired): the plan
        :meth:`update` returns is then made from the newest snapshot. Skipped when the newest snapshot needs
        a full plan itself (other nodes or workloads: the provisional plan is stale for it anyway)."""
        self._search: CountSearch | None = None
        """The search state, in canonical node order (:attr:`_order`)."""
        self._inputs: PlanInputs | None = None
        self._order: IntArray | None = None
        """Canonical position → table position, chosen at the last full plan and kept by repairs."""
        self._distances: tuple[FloatArray, IntArray, FloatArray] | None = None
        """(table distances, order, the distances in that order): permuted once per full plan, not per repair."""
        self._codes: DistanceCodes | None = None
        """The table distances' codes for the canonical order: made once per node set, not per full plan."""
        self.plan: Plan | None = None
        self._shown: CountSearch | None = None
        """The search whose plan was handed over last during the full plan under way (unrepaired)."""
        self._cut_short = False
        self._refresh: Callable[[], None] | None = None
        """During a full plan with :attr:`PlanSettings.refresh_seconds`: hands the plan handed over last over
        again, repaired against the newest snapshot."""
        self._refresh_at = float("inf")
        """:attr:`clock` time of the next :attr:`_refresh` (``inf``: none due)."""

    def update(self, snapshot: Snapshot, now: float = 0.0) -> Plan | None:
        """The plan for ``snapshot`` (``None`` when no workload has a known replica count and size)."""
        start, wall_start = time.process_time(), self.clock()
        self._cut_short = False
        inputs = plan_inputs(snapshot)
        if inputs is None:
            self._search = self._inputs = self.plan = None
            return None
        previous = self._inputs if self._search is not None and self._order is not None else None
        reason = "first" if previous is None else previous.change(inputs)
        made_at = now
        if reason:
            self._shown = None
            publisher = self._publisher(snapshot, inputs, now, reason, start, wall_start)
            try:
                search = self._full(snapshot, inputs, start, wall_start, publisher)
            finally:
                self._refresh, self._refresh_at = None, float("inf")
            settled_at = self._made_at(now, wall_start)
            if self.publish is not None and (settled := self._settle(search, inputs)) is not None:
                (search, snapshot, inputs), made_at = settled, settled_at
        else:
            assert self._search is not None
            search = repair(self._search, self._canonical(inputs.problem), self.settings.repair_passes)
        self._search, self._inputs = search, inputs
        self.plan = self._plan_of(search, snapshot, inputs, made_at, reason, start)
        return self.plan

    def _made_at(self, now: float, wall_started: float) -> float:
        """The caller's time of a plan repaired against the newest snapshot, read now, during an update that
        began at ``now`` (:attr:`clock` time ``wall_started``): ``now`` plus the time since, with
        :attr:`PlanSettings.refresh_seconds`; else ``now`` (the update's view), without reading the clock."""
        return now + (self.clock() - wall_started) if self.settings.refresh_seconds > 0 else now

    def _plan_of(
        self,
        search: CountSearch,
        snapshot: Snapshot,
        inputs: PlanInputs,
        made_at: float,
        reason: str,
        started: float,
        provisional: bool = False,
        refreshed: bool = False,
    ) -> Plan:
        assert self._order is not None
        total = np.empty_like(search.x)
        total[:, self._order] = search.p.fixed + search.x
        return Plan(
            inputs.keys,
            inputs.nodes,
            total,
            made_at,
            not reason,
            time.process_time() - started,
            search.pair_cost(),
            plan_signature(snapshot.rulebook),
            reason,
            provisional,
            self._cut_short and not provisional,
            refreshed,
        )

    def _publisher(
        self, snapshot: Snapshot, inputs: PlanInputs, now: float, reason: str, started: float, wall_started: float
    ) -> Callable[[CountSearch], None] | None:
        """What :meth:`~augur.placement.plan_search.FullSearch.solve` calls with the best search so far:
        :attr:`publish` of it as a provisional plan, chosen and repaired by :meth:`_settle` when :attr:`latest` is
        given. The search itself is not changed.
        With :attr:`PlanSettings.refresh_seconds` a plan repaired against the newest snapshot is as old as that
        snapshot, and :attr:`_refresh` is set up to hand the plan handed over last over again, repaired anew,
        once it is that many seconds old, while the search goes on."""
        publish = self.publish
        if publish is None:
            return None
        every = self.settings.refresh_seconds

        def hand_over(search: CountSearch) -> None:
            read = self.clock() if every > 0 else wall_started  # when the newest snapshot is read
            settled = self._settle(search, inputs)
            if settled is None:
                read = wall_started  # made from the update's own snapshot
            publish(
                self._plan_of(
                    *(settled or (search, snapshot, inputs)), now + read - wall_started, reason, started, True
                )
            )
            if every > 0:
                self._refresh_at = read + every

        def refresh() -> None:
            read = self.clock()
            self._refresh_at = read + every  # before the repair, whose pauses come back here
            if self._shown is not None and (settled := self._settle(self._shown, inputs)) is not None:
                publish(self._plan_of(*settled, now + read - wall_started, reason, started, True, refreshed=True))

        self._refresh = refresh if every > 0 and self.latest is not None else None
        return hand_over

    def _settle(self, search: CountSearch, inputs: PlanInputs) -> tuple[CountSearch, Snapshot, PlanInputs] | None:
        """With :attr:`latest`: ``search`` and the search handed over last (:attr:`_shown`), both repaired
        against the newest snapshot, the cheaper kept (``search`` on ties), with that snapshot and its inputs:
        a better search from the full plan's view can be the worse plan once the pods that followed the
        previous one are counted. ``None`` without a newest snapshot that ``search`` can be repaired for (then
        ``search`` is the one handed over, as it is)."""
        newest = self._newest(inputs)
        if newest is None:
            self._shown = search
            return None
        problem = self._canonical(newest[1].problem)
        chosen, repaired = search, self._repaired(search, problem)
        if self._shown is not None and self._shown is not search:
            previous = self._repaired(self._shown, problem)
            if cheaper(previous.quick_value(), repaired.quick_value()):
                chosen, repaired = self._shown, previous
        self._shown = chosen
        return repaired, *newest

    def _repaired(self, search: CountSearch, p: CountProblem) -> CountSearch:
        """A repaired copy of ``search`` (with its own generator: the search's draws stay its own)."""
        return repair(search.copy_with(np.random.default_rng(self.settings.seed)), p, self.settings.repair_passes)

    def _newest(self, inputs: PlanInputs) -> tuple[Snapshot, PlanInputs] | None:
        """:attr:`latest` and its plan inputs, when a search made from ``inputs`` can be repaired for it."""
        snapshot = self.latest() if self.latest is not None else None
        newer = plan_inputs(snapshot) if snapshot is not None else None
        if snapshot is None or newer is None or inputs.change(newer):
            return None
        return snapshot, newer

    def _full(
        self,
        snapshot: Snapshot,
        inputs: PlanInputs,
        started: float,
        wall_started: float,
        publish: Callable[[CountSearch], None] | None = None,
    ) -> CountSearch:
        """A full plan's search (``started``: CPU time, ``wall_started``: :attr:`clock` time of the update's
        start); when abandoned (:class:`PlanSuperseded`) the previous node order is kept, so that the previous
        search stays repairable."""
        if self._codes is None or self._codes.distances is not inputs.problem.distances:
            self._codes = distance_codes(inputs.problem.distances, distance_values(snapshot.table))
        if self.pause is not None:
            self.pause()
        previous, self._order = self._order, inputs.problem.canonical(self.settings.seed, self._codes, self.pause)
        rank = inverse(self._order)
        starts = anchors(snapshot, inputs.problem, self.settings.starts, rank)
        full = FullSearch(self.settings, self.clock, self._pause_or_abandon, self.pause)
        try:
            search = full.solve(
                self._canonical(inputs.problem),
                [None if a is None else int(rank[a]) for a in starts],
                publish,
                wall_started + self.settings.search_seconds if self.settings.search_seconds > 0 else float("inf"),
            )
        except PlanSuperseded:
            self._order = previous
            raise PlanSuperseded(time.process_time() - started) from None
        search.pause = self.pause  # repairs run to the end
        self._cut_short = full.cut_short
        return search

    def _pause_or_abandon(self) -> None:
        if self.pause is not None:
            self.pause()
        if self.superseded is not None and self.superseded():
            raise PlanSuperseded
        if self._refresh is not None and self._refresh_at < float("inf") and self.clock() >= self._refresh_at:
            self._refresh()

    def _canonical(self, p: CountProblem) -> CountProblem:
        """``p`` in the canonical node order (the permuted distance matrix is reused while it is the same)."""
        assert self._order is not None
        cached = self._distances
        if cached is None or cached[0] is not p.distances or cached[1] is not self._order:
            cached = self._distances = (p.distances, self._order, p.distances[np.ix_(self._order, self._order)])
        return p.permuted(self._order, cached[2])


def plan_pending(snapshot: Snapshot, settings: PlanSettings | None = None) -> Plan | None:
    """A fresh plan for ``snapshot`` (no previous plan to repair)."""
    return Planner(settings).update(snapshot)


__all__ = [
    "FULL_PLAN_REASONS",
    "Plan",
    "PlanSettings",
    "PlanSuperseded",
    "Planner",
    "needs_new_plan",
    "plan_pending",
    "plan_signature",
]
