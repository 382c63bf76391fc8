"""A full plan's search schedule (:class:`FullSearch`): greedy starts from anchors, kicks on the best start
before the first plan is handed over, then annealing runs with kicks from the best starts in turn, the best
kept; the hand-overs of the best search so far (:class:`_Offer`) and the wall-time limit
(:attr:`~augur.placement.plan_settings.PlanSettings.search_seconds`). Budgets come from
:class:`~augur.placement.plan_settings.PlanSettings` (``restarts_for`` and the like). The
:class:`~augur.placement.plan.Planner` runs one per full plan; repairs are not searched here."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from augur.placement.iterated import kicked
from augur.placement.plan_settings import PlanSettings
from augur.placement.problem import CountProblem
from augur.placement.search import CountSearch, cheaper

FIRST_KICKS_STREAM = (0, 1)
"""Entropy of the first kicks' generator, ahead of the seed: a stream that no run's ``[seed, run]`` draws from."""


class _OutOfTime(Exception):  # noqa: N818 -- a signal within the search, never raised out of it
    """The full plan's runs met :attr:`PlanSettings.search_seconds`."""


class FullSearch:
    """One full plan's search (not thread-safe). ``pause`` is called at the search's pauses (every few hundred
    steps; it may raise to abandon the search), ``clock`` is the wall clock the time limit is read on."""

    def __init__(
        self,
        settings: PlanSettings,
        clock: Callable[[], float],
        pause: Callable[[], None],
        step_aside: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.outer_pause = pause
        self.step_aside = step_aside
        """Called before each greedy start (its set-up is ``O(workloads x nodes²)``): only to let requests go
        first, never to abandon or cut the search short, so where a plan is abandoned stays as it was."""
        self.cut_short = False
        """The runs met the time limit: the result is the best search before it."""
        self._stop_at = float("inf")
        """:attr:`clock` time at which the annealing run under way stops (``inf``: outside a run)."""

    def _pause(self) -> None:
        self.outer_pause()
        if self._stop_at < float("inf") and self.clock() >= self._stop_at:
            raise _OutOfTime

    def solve(
        self,
        p: CountProblem,
        anchors: list[int | None],
        publish: Callable[[CountSearch], None] | None = None,
        stop_at: float = float("inf"),
    ) -> CountSearch:
        """Greedy insertion from each anchor and descent, then :meth:`~PlanSettings.first_kick_rounds_for` kicks on
        the best start (on a copy, with a generator of its own); then :meth:`~PlanSettings.restarts_for` runs of
        annealing, descent and kicks, run ``i`` from the ``i``-th best start (cycling), each with a generator
        derived from the seed (the same runs with or without the first kicks); the best kept. Where the first
        pod goes decides where the application grows, and a single-pod search rarely moves a whole application
        later, so the starts cover every zone that could host it, and the runs improve different ones rather
        than one start's basin only. ``publish`` is called with the best start (after its first kicks; with
        :attr:`PlanSettings.start_before_first_kicks` before them too) and, with
        :attr:`PlanSettings.provisional_updates`, with each better run but the last (the search is not changed
        by it); with :attr:`PlanSettings.provisional_before_kicks` as well, with each run's annealed search
        before its kicks too, and with :attr:`PlanSettings.provisional_during_kicks`, with each improvement of a
        run's kicks, when better than every search handed over. The runs stop at ``stop_at`` (wall clock): the
        run under way is dropped, and the best search so far is the result."""
        s = self.settings
        starts = [self._start(p, partial(CountSearch.insert, anchor=anchor)) for anchor in anchors]
        starts += [self._start(p, CountSearch.spread) for _ in range(s.spread_starts)]
        starts.sort(key=lambda vs: vs[0])  # stable: equal starts keep the anchors' order
        search = starts[0][1]
        pending = int(search.x.sum())
        if pending <= 1:
            return search
        best, best_value = search, search.quick_value()
        shown = _Offer(publish)
        if (first := s.first_kick_rounds_for(len(p.room_cpu), pending)) > 0:
            if s.start_before_first_kicks:
                shown(search)
            quick = self._kicked(search.copy_with(np.random.default_rng((*FIRST_KICKS_STREAM, s.seed))), first)
            if cheaper(value := quick.quick_value(), best_value):
                best, best_value = quick, value
        runs = s.restarts_for(len(p.room_cpu), pending)
        shown(best)
        annealed = shown if s.provisional_updates and s.provisional_before_kicks else None
        kicks = shown if s.provisional_updates and s.provisional_during_kicks else None
        for run in range(runs):
            if (candidate := self._run(starts[run % len(starts)][1], run, pending, stop_at, annealed, kicks)) is None:
                break
            if cheaper(value := candidate.quick_value(), best_value):
                best, best_value = candidate, value
                if run < runs - 1 and s.provisional_updates:
                    shown(best)
        return best

    def _start(self, p: CountProblem, place: Callable[[CountSearch], None]) -> tuple[float, CountSearch]:
        """A greedy start: ``place`` puts the pods, then descent; with its cost."""
        if self.step_aside is not None:
            self.step_aside()
        start = CountSearch(p, np.random.default_rng(self.settings.seed))
        start.pause = self._pause
        place(start)
        start.descend(self.settings.passes)
        return start.value(), start

    def _run(
        self,
        base: CountSearch,
        run: int,
        pending: int,
        stop_at: float,
        annealed: Callable[[CountSearch], None] | None,
        kicks: Callable[[CountSearch], None] | None,
    ) -> CountSearch | None:
        """Annealing run ``run`` from ``base`` (:meth:`_improve`; run 0 with ``base``'s generator, the others
        with one derived from the seed); ``None`` when the run meets ``stop_at`` (:attr:`cut_short`)."""
        if self.clock() >= stop_at:
            self.cut_short = True
            return None
        start = base.copy() if run == 0 else base.copy_with(np.random.default_rng([self.settings.seed, run]))
        self._stop_at = stop_at
        try:
            return self._improve(start, pending, annealed, kicks)
        except _OutOfTime:
            self.cut_short = True
            return None
        finally:
            self._stop_at = float("inf")

    def _kicked(
        self, search: CountSearch, rounds: int, on_better: Callable[[CountSearch], None] | None = None
    ) -> CountSearch:
        """:func:`~augur.placement.iterated.kicked` from ``search`` with the settings' ruin and recreate."""
        s = self.settings
        return kicked(search, rounds, s.passes, s.ruin, s.recreate_anywhere, s.recreate_pinned, on_better)

    def _improve(
        self,
        search: CountSearch,
        pending: int,
        annealed: Callable[[CountSearch], None] | None = None,
        kicks: Callable[[CountSearch], None] | None = None,
    ) -> CountSearch:
        """Annealing (steps per pending pod, bounded, also by nodes), descent, then rounds of kicks (bounded by
        nodes and by pending pods). ``annealed`` is called with the search after annealing and descent when
        kicks follow (which leave that search as it is: they perturb copies); ``kicks`` with each better
        search the kicks find."""
        s = self.settings
        nodes = max(len(search.p.room_cpu), 1)
        steps = s.anneal_steps_for(nodes, pending)
        rounds = s.kick_rounds_for(nodes, pending)
        if steps > 0:
            search.anneal(steps)
            search.descend(s.passes)
            if annealed is not None and rounds > 0:
                annealed(search)
        return self._kicked(search, rounds, kicks) if rounds > 0 else search


class _Offer:
    """Hands a search over to ``publish`` only if it is better than every search handed over before, so that
    an annealed plan handed over before its kicks is not handed over again when they find nothing better."""

    def __init__(self, publish: Callable[[CountSearch], None] | None) -> None:
        self.publish = publish
        self.value: float | None = None
        """The value of the search handed over last (``None``: none yet)."""

    def __call__(self, search: CountSearch) -> None:
        if self.publish is None:
            return
        value = search.quick_value()
        if self.value is None or cheaper(value, self.value):
            self.value = value
            self.publish(search)
