"""The pending-pod planner's search settings (:class:`~augur.placement.plan.Planner`), with why each default
is what it is; the ``plan`` component's arguments (:mod:`augur.placement.components.plan`) default to them."""

from __future__ import annotations

from dataclasses import dataclass

from augur.placement.iterated import RUIN_SIZE

REFRESH_AT_AGE = 0.8
"""With the extender's ``plan.refreshProvisionalPlans``: :attr:`PlanSettings.refresh_seconds` as a share of
``maxAgeSeconds`` (8 s of 10): a plan is handed over again, repaired, shortly before it would go stale. Half
(refreshed at 5 s) failed its rule at seed 90 on one scenario whose bursts end before their plan expires (its
views lagged more behind the binds; the mechanism is not verified), and 0.8 failed its rule at seed 91 on one
run of the same scenario, and at seed 95 again (under a 25 % worst-run margin set from an A/A run; it passed at
seed 94), and with eight runs per variant at seed 96 on that scenario's mean cost (1.82x the best against
1.47x; a rerun of that scenario showed no refresh fired there, the two variants behaving the same). Judged
only where it can act (``refresh_mechanism``, seed 97, the rule written before the run) it passed, so the
extender turns it on by default since session 49 (``bench/replay_burst.py --compare refresh``, ``refresh_late``,
``same``, ``refresh_calibrated``, ``refresh_eight``, ``refresh_mechanism``)."""


@dataclass(frozen=True)
class PlanSettings:
    passes: int = 20
    """Descent passes after insertion and after annealing (a repair uses :attr:`repair_passes`)."""
    anneal_steps: int = 300_000
    """Most annealing steps of a full plan (0: none)."""
    anneal_steps_per_pod: int = 250
    """Annealing steps per pending pod, up to :attr:`anneal_steps` (1,500 until 2026-12-03: on the development
    scenarios the same CPU buys more in ruin-and-recreate rounds and restarts; ``docs/placement-results.md``,
    "The planner's search")."""
    anneal_node_budget: int = 60_000_000
    """Bounds the annealing steps by the cost of one (an accepted move updates ``O(nodes)`` entries): at most
    this / nodes steps (300,000 up to 200 nodes, 60,000 at 1,000). At 1,000 nodes a first plan took 4.3 s of CPU
    with 300,000 steps, 1.9 s with 60,000 and 1.1 s without annealing, for the same cost (``bench/planner_anneal.py``;
    ``docs/placement-results.md``, "Planner CPU")."""
    seed: int = 0
    repair_passes: int = 2
    starts: int = 8
    """Greedy starts of a full plan: one anchored in each of the zones with most room, up to this many (after
    descent, the best ones are annealed in turn: :attr:`restarts`). 1: a single start from the node with most
    room."""
    spread_starts: int = 0
    """Greedy starts of a full plan placed blind to traffic, each pod on the node with most room
    (:meth:`~augur.placement.search.CountSearch.spread`), beside the anchored ones. Experimental (session 53):
    on the development scenarios it lowered the median plan seed's cost (``groups`` 1.036x the lowest against
    1.050x, ``fanin`` 1.014x against 1.024x) but left 23 of 28 scenarios within 1.10x in every plan seed against
    24, failing the rule written before it was decided (``bench/planner_search.py``;
    ``docs/placement-results.md``, "A start spread blind to traffic")."""
    kicks: int = 300
    """After annealing, rounds of iterated local search (ruin and recreate: up to
    :data:`~augur.placement.iterated.RUIN_SIZE` related workloads taken off and inserted again, then descent with
    node swaps; the best kept), at most this many and at most :attr:`kick_node_budget` / nodes (0: none)."""
    kick_node_budget: int = 5_000
    """Bounds the kick rounds by the cost of one (a descent is ``O(pods x nodes)``): 300 rounds up to 16
    nodes, 100 at 50, 5 at 1,000."""
    ruin: int = RUIN_SIZE
    """Most related workloads a kick round takes off and inserts again (:func:`~augur.placement.iterated.kicked`);
    0: a few random moves instead (the kicks before 2026-12-03)."""
    recreate_anywhere: float = 1.0
    """Share of ruin-and-recreate rounds that place the first pod they put back at a random node rather than the one
    with most room (:func:`~augur.placement.iterated.kicked`), so an application taken off whole can grow elsewhere. 1
    (every round): on the development scenarios the scenarios within 1.10x of the lowest cost in every plan seed went
    from 33 to 38 of 42 against 0, for a slightly higher median (``bench/planner_search.py``;
    ``docs/placement-results.md``, "Recreating anywhere"); 0: unanchored, as first shipped. 0.5 was tried and not
    adopted: a lower median on the development ``groups`` scenarios, a higher worst case, and worse on the held-out
    ones."""
    recreate_pinned: bool = False
    """An anchored recreate puts the first workload it inserts at the anchor even when that workload has traffic to the
    pods that stay (:meth:`~augur.placement.search.CountSearch.insert` ``pin``); off: the anchor only breaks ties, so an
    application with a little traffic to what stays goes back beside it (diagnosed on ``groups`` 50 pods seed 24;
    ``docs/placement-results.md``, "Recreating anywhere"). Tried 2026-12-04 and not adopted: better plans on the
    development and held-out scenarios, but 1.4-1.6x the CPU per first plan against a limit of 1.25x set beforehand;
    with 6 restarts instead of 8 (the same CPU) much better on ``groups`` and 0.01-0.15 % worse on ``fanin``, which the
    rule set beforehand did not allow (``bench/planner_search.py``; ``docs/placement-results.md``, "Recreating pinned at
    the anchor")."""
    first_kicks: int = 25
    """Rounds of kicks (as in a run: ruin and recreate, then descent) on the best greedy start before the first
    plan is handed over (:attr:`~augur.placement.plan.Planner.publish`), bounded as a run's are (by
    :attr:`kick_node_budget` / nodes and :attr:`kicks_per_pod` per pending pod); the final plan is the better of
    it and the runs, which are the same with or without it. 0: the first plan is the best start itself (the
    default until session 44). In a burst on the real kube-scheduler the pods follow the first plan handed over,
    and the best start cost 1.345x the full plan in process (geometric mean of 18 generated scenarios, ``chain``,
    ``fanin`` and ``groups`` at 50-200 pods, development seeds 80-81) against 1.134x after 25 rounds (10: 1.182x,
    50: 1.090x), for about 0.1 s more of the planner's CPU (25 was chosen there); on held-out seeds 90-91 1.229x
    against 1.077x (``bench/first_plan_kicks.py``). On the rule written before the
    bursts (``bench/replay_burst.py --compare first_kicks``, seeds 76 and 77), the mean burst cost was 0.710x
    and 0.901x that with 0 rounds, no scenario's worst run over 10 % worse (``docs/placement-results.md``,
    "Bursts: kicks before the first plan")."""
    start_before_first_kicks: bool = False
    """With :attr:`first_kicks`, also hand the best start itself over before its first kicks, so that pods
    scored during those kicks follow a plan rather than none (the kicked start is handed over next, when
    cheaper). Experimental (session 45): in the bursts of seed 83 (``bench/replay_burst.py --compare
    first_kicks_more``) 100 first kicks made three of four ``groups`` 200 runs 1.54x the best against 1.91x
    with 25, and the fourth 5.33x, 16 of its pods scored with no current plan. Not the default: with 100 first
    kicks (``--compare start_before_kicks``, the rule written before its runs) it passed at seed 84 (mean cost
    0.960x the defaults') and failed at seed 85 (0.980x, but one ``fanin`` 100 run 1.56x the best against at most
    1.06x: its pods followed the start handed over early), and the rule needed both (``docs/placement-results.md``,
    "Bursts: more kicks before the first plan")."""
    kicks_per_pod: int = 3
    """Bounds the kick rounds by the pods to place too: a small plan converges in fewer (60 for 20 pending pods)."""
    restarts: int = 8
    """Independent runs of annealing and kicks, run ``i`` from the ``i``-th best greedy start (cycling), each
    with its own generator derived from :attr:`seed` (the best plan kept): fewer plans that depend on a lucky
    seed or on the basin of one start. At most
    :attr:`restart_budget` / (nodes x pending pods) runs, at least one (eight up to 50 nodes x 500 pods, one at
    1,000 nodes and 500 pods)."""
    provisional_updates: bool = True
    """With a ``publish`` hook (:attr:`~augur.placement.plan.Planner.publish`), also hand over each better annealing
    run, not only the first plan (the greedy starts after descent). Each better run is another placement, searched from
    the view the full plan started with, and pods bound in between following the earlier one hold room it gives to other
    workloads (diagnosed in a burst on the real kube-scheduler: ``bench/replay_burst.py``,
    ``docs/placement-results.md``, "Bursts: repaired provisional plans"), so the extender turns it on together with
    repairing each plan against the newest view and keeping the cheaper (:attr:`~augur.placement.plan.Planner.latest`,
    ``repairProvisionalPlans``). Off: pods that arrive during a full plan follow one provisional plan (the default from
    the morning of 2026-12-04 until session 35)."""
    provisional_before_kicks: bool = False
    """With :attr:`provisional_updates`, also hand over each annealing run's plan after its annealing and
    descent, before its rounds of kicks (which take most of a run's CPU on small clusters), when it is better
    than every plan handed over; off: a run's plan is handed over when the run ends. Experimental (session 36):
    in bursts on the real kube-scheduler every pod of the ``fanin`` scenarios was scored against the first
    provisional plan, none against a later one. Not the default: on the rule written before its runs it
    failed at seed 59 (mean cost 0.909x, one ``fanin`` 100 run 1.34 against 1.14) and passed at seed 60
    (0.900x), and the rule needed both (``bench/replay_burst.py --compare before_kicks``)."""
    provisional_during_kicks: bool = False
    """With :attr:`provisional_updates`, also hand over the best plan of a run's kicks each time a round of
    kicks improves it, when it is better than every plan handed over; off: a run's kicks are handed over when
    the run ends. Experimental (session 43): in the bursts of seed 72 the greedy first plan decided the
    ``fanin`` bursts' cost in every run (1.197x and 1.065x the best, the greedy plan's own cost), while the
    first run's kicks found the best plan after 0.6-1.3 s of the planner's CPU, too late for the burst. Not the
    default: on the rule written before its runs it failed at seed 74 (mean cost 0.909x, one ``fanin`` 50 run
    1.38 against 1.25) and passed at seed 75 (0.958x), and the rule needed both (``bench/replay_burst.py
    --compare during_kicks``)."""
    search_seconds: float = 0.0
    """Longest wall time of a full plan, from the start of the update, after which its annealing runs stop and
    the best plan found so far is the plan (the run under way is dropped; the greedy starts and the first kicks
    always finish): a search that outlasts the plan's age limit is stale when done, and in a burst the
    provisional plan requests follow expires meanwhile. Checked at the search's pauses; 0: no limit (the
    default here, so that the simulator and the benchmarks are independent of timing; the extender's
    ``plan.searchSeconds``). :attr:`~augur.placement.plan.Plan.cut_short` tells a plan that met it.
    Experimental (session 46), off in the extender too: in bursts on the real kube-scheduler, with no limit every
    200-pod burst had 45-90 pods scored with no plan (the provisional plan went stale while the full plan
    searched), and a limit of 5 s (seed 86) or 8 s (seed 88) brought those bursts from 1.41-11.66x the best to
    1.03-1.72x, but made ``fanin`` 100 worse (worst runs 1.41 against 1.04, 2.39 against 1.52), so it failed the
    rule written before the runs (``bench/replay_burst.py --compare search_seconds``, ``search_seconds_8``)."""
    refresh_seconds: float = 0.0
    """With a ``publish`` hook and the newest snapshot (:attr:`~augur.placement.plan.Planner.latest`): while a
    full plan searches, hand the plan handed over last over again, repaired against the newest snapshot, once
    it is this many seconds old (the planner's wall clock, read at the search's pauses); and date a plan
    repaired against the newest snapshot (provisional, or the update's result) by when that snapshot was read
    rather than by the update's start. A full plan can search for longer than the plan's age limit, and in a
    burst the provisional plan requests follow would expire meanwhile, its pods then scored without a plan
    (diagnosed in session 46: ``docs/placement-results.md``). 0: neither (the default here; the extender's
    ``plan.refreshProvisionalPlans`` sets :data:`REFRESH_AT_AGE` of ``maxAgeSeconds``)."""
    restart_budget: int = 200_000
    """Bounds :attr:`restarts` by the size of the problem (an annealing run and its kicks cost about
    ``O(nodes x pending pods)``), so the first plan stays within its CPU budget at extender scale."""

    def __post_init__(self) -> None:
        if self.search_seconds < 0:
            raise ValueError(f"search_seconds is 0 (no limit) or more: got {self.search_seconds}")
        if self.refresh_seconds < 0:
            raise ValueError(f"refresh_seconds is 0 (never) or more: got {self.refresh_seconds}")
        if not 0 <= self.recreate_anywhere <= 1:
            raise ValueError(f"recreate_anywhere is a share of rounds, from 0 to 1: got {self.recreate_anywhere}")

    def restarts_for(self, nodes: int, pending: int) -> int:
        """Annealing runs of a full plan: :attr:`restarts`, bounded by :attr:`restart_budget`."""
        return max(1, min(self.restarts, self.restart_budget // max(nodes * pending, 1)))

    def anneal_steps_for(self, nodes: int, pending: int) -> int:
        """Annealing steps of one run: :attr:`anneal_steps_per_pod` per pending pod, at most
        :attr:`anneal_steps` and :attr:`anneal_node_budget` / nodes."""
        return min(self.anneal_steps, self.anneal_steps_per_pod * pending, self.anneal_node_budget // max(nodes, 1))

    def first_kick_rounds_for(self, nodes: int, pending: int) -> int:
        """Kick rounds on the best start before the first plan is handed over: :attr:`first_kicks`, bounded as
        :meth:`kick_rounds_for` bounds a run's."""
        return self._bounded_kicks(self.first_kicks, nodes, pending)

    def kick_rounds_for(self, nodes: int, pending: int) -> int:
        """Kick rounds of one run: :attr:`kicks`, at most :attr:`kick_node_budget` / nodes and
        :attr:`kicks_per_pod` per pending pod."""
        return self._bounded_kicks(self.kicks, nodes, pending)

    def _bounded_kicks(self, rounds: int, nodes: int, pending: int) -> int:
        return min(rounds, self.kick_node_budget // max(nodes, 1), self.kicks_per_pod * pending)
