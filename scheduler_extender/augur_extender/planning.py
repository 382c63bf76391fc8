"""The background planner: keeps the pending-pod plan (:mod:`augur.placement.plan`) off the request path.

It lives with the extender, driven by a daemon thread, because the plan must follow the very cache
the scores are computed from (pods bound a moment ago, pods created but not scheduled yet): the operator
does not watch pods at the scheduler's pace, and publishing plans through the API server would add a
write per re-plan, its latency and one more way to be out of date. A restarted extender re-plans from
its first synced view within seconds (see ``bench/planner_bench.py``).

By default the search runs on that thread, in the extender's interpreter (it holds the GIL in slices that
requests may wait for). With ``process=True`` (``--planner-process``) it runs in a child process
(:class:`~augur_extender.planner_process.PlannerProcess`) at a lower CPU priority; the thread only hands
over what changed and waits on a pipe. Either way the search steps aside while requests are in flight
(:class:`InFlight`; the child reads the count from shared memory).

The thread waits for the cache to change, updates the plan from the newest view (the pure
:class:`~augur.placement.plan.Planner` repairs it incrementally when it can), then sleeps
``interval`` seconds so that a burst of pod events costs one re-plan, not one per event, and longer after an
expensive update so that planning uses at most :data:`CPU_SHARE` of a core, but never past the time the plan
is due for a refresh: ``maxAgeSeconds / 2`` after the view it was made from, when it is repaired even if
nothing changed, so that a plan stays current while the planner is alive. Requests only
call :meth:`BackgroundPlanner.lookup`: the latest plan if it is *current* — over the view's node set, and
either made from this very view or younger than ``maxAgeSeconds`` — else ``None``, and scoring falls back
to the other components. A request never waits for the planner; a planner that fails or falls behind
only makes the plan stale.

A full plan that new workloads, pod sizes or traffic have overtaken is abandoned rather than finished
(:class:`~augur.placement.plan.PlanSuperseded`): a plan that does not cover the newest workloads is stale
the moment it is done, so finishing it would only delay the plan that does. The search asks at its pauses,
at most every :data:`SUPERSEDED_CHECK_SECONDS` (the child process every ``POLL_SECONDS``), and the thread
starts over from the newest view after the usual pause (the abandoned search's CPU counts in
:data:`CPU_SHARE`). While workloads keep arriving, no plan is finished until they stop, as none would be
current; changed replica counts never abandon a plan (they are repaired).

With ``provisionalPlans`` (on by default since 2026-12-04, with ``podRequestsFromStatus``: together they
lowered the cost of bursts on the real kube-scheduler; ``docs/placement-results.md``, "Bursts: one provisional
plan") the search hands over its best
plan so far while a full plan runs (:attr:`~augur.placement.plan.Planner.publish`: after the greedy starts,
and with ``provisionalUpdates`` after each better annealing run), and requests score against it until the
final plan replaces it. A provisional plan is current by the same rules as any plan (it was made from the
update's view); one from a plan that is then abandoned is stale as soon as the view shows the change that
abandoned it.

A full plan is searched from the view it started with. In a burst, pods are bound meanwhile (against the
previous or a provisional plan), and the finished plan may give their room to other pods; with
``repairAfterFullPlan`` (on by default since 2026-12-04) the thread repairs it against the newest view
right after (:meth:`BackgroundPlanner.repair_due`), before the pause, which counts both updates' CPU.
With ``repairProvisionalPlans`` each provisional plan is repaired against the newest view the same way
before requests use it (:attr:`~augur.placement.plan.Planner.latest`; in the planner process against the
newest view the thread has sent it, at most ``POLL_SECONDS`` old). With ``refreshProvisionalPlans`` (on by
default since session 49) such a plan is dated by the view it was repaired against, and while a full plan
searches, the plan handed over last is repaired and handed over again once it is 0.8 x ``maxAgeSeconds`` old
(:attr:`~augur.placement.plan.PlanSettings.refresh_seconds`), so that a search longer than ``maxAgeSeconds``
does not leave a burst's last pods without a plan.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

# The search's first plan would import these (np.random.default_rng, np.median's numpy.ma), holding the GIL
# and the import lock meanwhile. Imported here, at start, so that the first plan does not stall a request.
import numpy.ma
import numpy.random  # noqa: F401

from augur.placement.components.plan import PlanArgs
from augur.placement.context import Snapshot
from augur.placement.model import WorkloadRules
from augur.placement.plan import Plan, Planner, PlanSuperseded, needs_new_plan, plan_signature
from augur_extender.daemon import Daemon
from augur_extender.inflight import InFlight
from augur_extender.planner_process import PlannerProcess
from augur_extender.view import ClusterCache, ClusterView

log = logging.getLogger(__name__)

CPU_SHARE = 0.25
"""Largest share of one core the background planner uses on average: it shares the machine with
kube-scheduler, and the extender's requests are in the scheduler's cycle."""
SUPERSEDED_CHECK_SECONDS = 0.25
"""Least time between two checks, from the in-process search, whether a full plan has been overtaken."""


class _Engine(Protocol):
    def update(self, snapshot: Snapshot, now: float = 0.0) -> Plan | None: ...


@dataclass(frozen=True)
class _Latest:
    plan: Plan | None
    version: int
    """Cache version of the view the plan was made from."""


class BackgroundPlanner:
    def __init__(
        self,
        cache: ClusterCache,
        args: PlanArgs,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        process: bool = False,
        priority: str = "nice",
    ) -> None:
        self.cache, self.args, self.interval, self.clock = cache, args, interval, clock
        self.process, self.priority = process, priority
        """Search in a child process (:class:`PlannerProcess`) rather than on this object's thread, at this
        CPU priority (:data:`~augur_extender.planner_child.PRIORITIES`)."""
        self.in_flight = InFlight()
        """Requests being served (the app's middleware counts them): an in-process search steps aside while
        any are."""
        self._planner: _Engine | None = None
        self._latest: _Latest | None = None
        self._daemon = Daemon("planner", self._loop)
        self.counts = dict.fromkeys(
            ("full", "incremental", "provisional", "failed", "superseded", "cut_short", "refreshed"), 0
        )
        self.last_error = ""
        self.priority_in_effect: str | None = None
        """The planner process's CPU priority as the kernel has it (``idle``, ``nice``, ``normal``; read once
        after its first update): differs from :attr:`priority` where the platform refused it. ``None`` on a
        thread, or before the first update."""
        self.on_plan: Callable[[Plan], None] | None = None
        """Called after each plan, provisional ones included (metrics)."""
        self.on_failure: Callable[[], None] | None = None
        self.on_superseded: Callable[[], None] | None = None
        self._planning: tuple[WorkloadRules, ...] | None = None
        """The signature of the update in progress (what :meth:`superseded` compares the newest with)."""
        self._version = -1
        """Cache version of the view the update in progress was made from."""
        self._checked_at = float("-inf")
        self._spent = 0.0
        """CPU seconds of the last update, finished or abandoned (the pause after it)."""
        self._refresh_at = float("inf")
        """Clock time at which the latest plan is refreshed even if the cache has not changed: ``maxAgeSeconds /
        2`` after the view it was made from, so that a plan stays current while the planner is alive
        (``inf`` after a failed or abandoned update, or without a plan: those wait for a change)."""

    def _engine(self) -> _Engine:
        if self._planner is None:
            if self.process and multiprocessing.current_process().daemon:
                log.warning("a daemonic process cannot start the planner process; planning on a thread instead")
                self.process = False
            publish = self._provisional if self.args.provisional_plans else None
            latest = self._newest if self.args.repair_provisional_plans else None
            if self.process:
                engine = PlannerProcess(
                    self.args.settings(),
                    superseded=self.superseded,
                    publish=publish,
                    latest=latest,
                    priority=self.priority,
                )
                self.in_flight.shared = engine.busy
                self._planner = engine
            else:
                self._planner = Planner(
                    self.args.settings(),
                    pause=self.in_flight.wait_idle,
                    superseded=self._throttled,
                    publish=publish,
                    latest=latest,
                    clock=self.clock,  # plans are dated and aged on one clock
                )
        return self._planner

    def _drop_engine(self) -> None:
        engine, self._planner = self._planner, None
        self.priority_in_effect = None
        if isinstance(engine, PlannerProcess):
            self.in_flight.shared = None
            engine.close()

    # -- lifecycle --
    def start(self) -> None:
        """Start the planner's thread; with :attr:`process`, start the child at once too, so that it imports
        numpy and the placement package while the cache lists (a child started at the first plan kept the
        first pods of a burst that began right after the extender's start waiting without a plan:
        ``bench/results/replay_burst_planner_process_63.json``)."""
        if self.process:
            try:
                self._engine()
            except Exception:  # never keeps the extender from starting: the first update tries again
                log.exception("the planner process could not be started; trying again at the first plan")
        self._daemon.start()

    def stop(self) -> None:
        self._daemon.stop()
        self._drop_engine()

    def _loop(self) -> None:
        while not self._daemon.stopping.is_set():
            changed = self.cache.wait_for_change(timeout=min(1.0, max(0.0, self._refresh_at - self.clock())))
            # The first plan does not wait for a change: the last list that completed the sync may have
            # signalled its change before the cache counted as synced.
            if self.cache.synced() and (changed or self._latest is None or self.clock() >= self._refresh_at):
                plan = self.run_once()
                if self.repair_due(plan):
                    spent = self._spent
                    self.run_once()
                    self._spent += spent  # the pause after the repair counts the full plan's CPU too
                self._daemon.stopping.wait(self.pause())

    def repair_due(self, plan: Plan | None) -> bool:
        """Whether ``plan``, a full plan just made, is to be repaired at once (``repairAfterFullPlan``): the
        cache changed while it was searched (pods bound in a burst, following the previous or a provisional
        plan, hold room the full plan gives to other pods). Takes the cache's change signal."""
        return (
            plan is not None
            and not plan.incremental
            and self.args.repair_after_full_plan
            and self.cache.wait_for_change(timeout=0)
        )

    def pause_after(self, spent: float) -> float:
        """Seconds to wait after a plan update that used ``spent`` CPU seconds: ``interval``, and long enough
        that planning uses at most :data:`CPU_SHARE` of one core on average (a 1 s full plan is followed by 3 s
        without planning; the plan's age and the workloads decide meanwhile whether requests still use it), but
        at most half of ``maxAgeSeconds``; :meth:`pause` ends it sooner when the plan is due for a refresh."""
        return max(self.interval, min(spent * (1 / CPU_SHARE - 1), self.args.max_age_seconds / 2))

    def pause(self) -> float:
        """The pause after the update just made: :meth:`pause_after` its CPU, but ending by the time its plan
        is due for a refresh (:attr:`_refresh_at`), and at least ``interval``. A full plan takes wall time
        (more than its CPU while requests come first), and its age counts from the view it was made from: a
        pause after it of up to ``maxAgeSeconds / 2`` could let the plan pods are following expire before
        the first repair (measured in a replay: a 10 s-old plan about to go stale while pods bound against
        it)."""
        return max(self.interval, min(self.pause_after(self._spent), self._refresh_at - self.clock()))

    def superseded(self) -> bool:
        """Whether the workloads changed since the update in progress began so that its plan would be stale
        when done and a repair could not follow (:func:`~augur.placement.plan.needs_new_plan`)."""
        planning = self._planning
        return planning is not None and needs_new_plan(planning, plan_signature(self.cache.rulebook()))

    def _throttled(self) -> bool:
        now = self.clock()
        if now - self._checked_at < SUPERSEDED_CHECK_SECONDS:
            return False
        self._checked_at = now
        return self.superseded()

    def run_once(self) -> Plan | None:
        """Update the plan from the cache's newest view now (the thread's step; tests call it directly)."""
        self._spent, self._refresh_at = 0.0, float("inf")
        try:
            view = self.cache.view()
            self._planning, self._version = plan_signature(view.snapshot.rulebook), view.version
            plan = self._engine().update(view.snapshot, now=self.clock())
        except PlanSuperseded as exc:  # not a failure: the next update plans the newest workloads
            log.info("%s; planning again", exc)
            self.counts["superseded"] += 1
            self._spent = exc.cpu_seconds
            if self.on_superseded is not None:
                self.on_superseded()
            return None
        except Exception as exc:  # a failing planner must never take scoring down: the plan goes stale
            log.exception("planning failed; scores fall back to the other components until a plan succeeds")
            self.counts["failed"] += 1
            self.last_error = str(exc)
            self._drop_engine()
            if self.on_failure is not None:
                self.on_failure()
            return None
        finally:
            self._planning = None
        self._latest = _Latest(plan, view.version)
        self._note_priority()
        if plan is not None:
            self._spent = plan.cpu_seconds
            self._refresh_at = plan.made_at + self.args.max_age_seconds / 2
            self.counts["incremental" if plan.incremental else "full"] += 1
            self.counts["cut_short"] += plan.cut_short
            log.debug(
                "%s plan of %d workloads from view %d: cost %g, %.3f s CPU",
                "incremental" if plan.incremental else "full (cut short)" if plan.cut_short else "full",
                len(plan.workloads),
                view.version,
                plan.cost,
                plan.cpu_seconds,
            )
            if self.on_plan is not None:
                self.on_plan(plan)
        return plan

    def _note_priority(self) -> None:
        """Read the planner process's priority after its first update; warn when it is not the one asked for."""
        engine = self._planner
        if self.priority_in_effect is not None or not isinstance(engine, PlannerProcess):
            return
        self.priority_in_effect = engine.priority_in_effect()
        if self.priority_in_effect not in (None, self.priority):
            log.warning(
                "the planner process runs at CPU priority %s, not %s as asked (the platform refused it)",
                self.priority_in_effect,
                self.priority,
            )

    def _newest(self) -> Snapshot:
        """The cache's newest view, against which provisional plans are repaired (``repairProvisionalPlans``)."""
        return self.cache.view().snapshot

    def _provisional(self, plan: Plan) -> None:
        """The best plan so far of the full plan in progress (:attr:`Planner.publish`): requests use it until
        the update ends (its view is the update's; its age counts from the update's start, or with
        ``refreshProvisionalPlans`` from the newest view it was repaired against)."""
        self._latest = _Latest(plan, self._version)
        self.counts["provisional"] += 1
        self.counts["refreshed"] += plan.refreshed
        log.debug(
            "provisional plan of %d workloads from view %d: cost %g", len(plan.workloads), self._version, plan.cost
        )
        if self.on_plan is not None:
            self.on_plan(plan)

    # -- the request path --
    def published(self) -> bool:
        """Whether a plan has been published, current or not (a request that found none current tells
        ``stale`` from ``absent`` by it)."""
        latest = self._latest
        return latest is not None and latest.plan is not None

    def lookup(self, view: ClusterView) -> Plan | None:
        """The plan if it is current for ``view``, else ``None`` (``O(1)`` while the workloads do not change)."""
        latest = self._latest
        if latest is None or latest.plan is None:
            log.debug("no plan for view %d yet", view.version)
            return None
        if (why := self.staleness(latest, view)) is not None:
            log.debug("no current plan for view %d: %s", view.version, why)
            return None
        return latest.plan

    def staleness(self, latest: _Latest, view: ClusterView) -> str | None:
        """Why the latest plan does not hold for ``view`` (``None``: it is current). A plan made from an older
        view holds while the workloads it planned are unchanged and it is younger than ``maxAgeSeconds``: pods
        that started or stopped since are read against it (free slots). A new workload, another replica count
        or pod size, other traffic: the planner has not placed those pods yet, and a pod scored against that
        plan would be placed as if its peers were elsewhere (or absent)."""
        plan = latest.plan
        assert plan is not None
        if not plan.covers(view.snapshot):
            return "the node set changed since the plan was made"
        if latest.version == view.version:
            return None
        if not plan.planned_from(view.snapshot):
            return "workloads, replica counts, pod sizes or traffic changed since the plan was made"
        if plan.age(self.clock()) > self.args.max_age_seconds:
            return f"older than maxAgeSeconds ({self.args.max_age_seconds:g} s)"
        return None

    def describe(self, view: ClusterView) -> dict[str, Any]:
        """The plan's state for explanations: ``current``, ``stale`` (with the reason) or ``absent``, its age
        and how it was made."""
        latest = self._latest
        plan = latest.plan if latest else None
        if latest is None or plan is None:
            return {"state": "absent", "failures": self.counts["failed"], "lastError": self.last_error or None}
        reason = self.staleness(latest, view)
        return {
            "state": "current" if reason is None else "stale",
            "staleReason": reason,
            "ageSeconds": round(plan.age(self.clock()), 3),
            "incremental": plan.incremental,
            "provisional": plan.provisional,
            "cutShort": plan.cut_short,
            "cpuSeconds": round(plan.cpu_seconds, 4),
            "networkCost": round(plan.cost, 3),
            "failures": self.counts["failed"],
            "lastError": self.last_error or None,
        }
