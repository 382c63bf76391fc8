"""Follow the pending-pod plan (:mod:`augur.placement.plan`) that the planner keeps off the request path.

``score(n) = 100`` on a node where the plan still has a free slot for the pod's workload, else
``offPlan * (1 - d / 100)`` with ``d`` the distance to the nearest such node: the planned node stands
clearly above its neighbours, so that after the extender's 0..10 normalization kube-scheduler's own plugins
rarely outweigh it, while nodes near the plan still beat far ones when the planned node is full or filtered.
Neutral (100 everywhere) when the snapshot carries no plan (absent or stale: the other components decide
as they would without planning) or the plan has no slot left for the workload. Lookup only: ``O(nodes)``.

The other arguments configure the planner that produces the plan (the extender's background thread, the
simulator): ``passes``, ``annealSteps`` (at most; also at most 60,000,000 / nodes), ``annealStepsPerPod``
(per pending pod), ``seed``,
``starts`` (greedy starts of a full plan, one per zone with most room), ``kicks`` (rounds of iterated local
search after annealing, each a ruin and recreate of related workloads put back from a random node, at most
5,000 / nodes), ``restarts``
(independent runs of annealing and kicks, each from the next-best start, with seeds derived from ``seed``,
the best kept; at most 200,000 / (nodes x pending pods), at least one); ``firstKicks`` (default 25: rounds
of kicks on the best greedy start before the first plan is handed over, bounded as a run's kicks are;
with ``startBeforeFirstKicks``, default false, the start itself is handed over before them too);
``maxAgeSeconds``, past which
the extender treats a plan that could not be refreshed as stale (a plan made before the workloads, replica
counts, pod sizes or traffic changed is stale at once); ``provisionalPlans`` (default true): while a
full plan is under way, the extender scores against its first plan (the greedy starts after descent)
instead of none (:attr:`~augur.placement.plan.Planner.publish`), and with ``provisionalUpdates`` (default
true) against each better annealing run too (with ``provisionalBeforeKicks``, default false, also each
run's annealed plan before its kicks when better than every plan handed over; with
``provisionalDuringKicks``, default false, each improvement its kicks find, when better than every plan
handed over); and
``podRequestsFromStatus`` (default true): until one of a workload's pods is seen, size its expected pods
from its ``WorkloadProfile`` ``status.podRequests`` (what the operator reads from the scale target's pod
template), so the planner and the fallback components count them before they exist; and
``repairAfterFullPlan`` (default true): when pods were bound or deleted while a full plan was searched
(from the view it started with), the planner repairs it against the newest view at once instead of after
its usual pause, so that pods do not follow slots that those pods have taken; and
``repairProvisionalPlans`` (default true): each provisional plan is repaired the same way against the
newest view before requests use it, and a better search (the final one included) replaces the plan handed
over before only if it is still the cheaper once both are repaired (:attr:`~augur.placement.plan.Planner.latest`);
and ``searchSeconds`` (default 0: no limit): the longest wall time of a full plan in the extender, after which
its annealing runs stop and the best plan so far is the plan (:attr:`~augur.placement.plan.PlanSettings.search_seconds`;
the simulator ignores it, so that its results do not depend on the machine's speed); and
``refreshProvisionalPlans`` (default true since session 49, below): with ``repairProvisionalPlans``, a plan repaired
against the newest view is dated by that view rather than by the full plan's start, and while a full plan
searches, the plan handed over last is repaired against the newest view and handed over again once it is
0.8 x ``maxAgeSeconds`` old, so that requests in a long burst keep a current plan
(:attr:`~augur.placement.plan.PlanSettings.refresh_seconds`); and ``gateSeconds`` (default 30): the longest
a pod held at the plan gate (:data:`~augur.constants.PLAN_GATE` in its ``schedulingGates``) waits for a final
plan with a slot for it before the extender lets it through anyway (:mod:`augur.placement.gate`; 0: at once),
and ``gateInFlight`` (default 1): at most this many pods of a workload let through the gate and not bound yet
(0: every pod with a slot at once).

``provisionalPlans`` and ``podRequestsFromStatus`` both on by default since 2026-12-04: together, in bursts
on the real kube-scheduler, the mean cost was 0.63x and 0.30x that of neither (geometric mean over 4
scenarios each, seeds 44 and 45, no scenario's worst run worse), on the rule written before those runs; at
seed 43 0.92x, with two scenarios' worst runs over 10 % worse. Each alone did not help: provisional plans
alone 0.997x (seed 40), status sizes alone 1.38x (seed 43) (``bench/replay_burst.py``;
``docs/placement-results.md``, "Pod sizes from the profile's status"). ``provisionalUpdates`` off and
``repairAfterFullPlan`` on since 2026-12-04: in bursts at seed 48, 0.50x the mean cost of the previous
defaults (every better run published, no immediate repair), no scenario's worst run worse; checked at seed 49
after the choice, 1.06x, with ``groups`` 50 worse (``docs/placement-results.md``, "Bursts: one provisional plan").
``provisionalUpdates`` and ``repairProvisionalPlans`` both on since session 35 (2026-12-04): in bursts
against ``provisionalUpdates`` off, 0.54x (seed 55) and 0.70x (seed 56) the mean cost, no scenario's worst
run worse, on the rule written before those runs, with the bench's first variant rotating; before that
rotation it failed twice on one run each (seeds 51 and 53: 0.93x, 0.76x) and passed once (seed 54: 0.40x)
("Bursts: repaired provisional plans"). ``firstKicks`` 25 since session 44 (2026-12-05; 0 before): in bursts,
0.71x (seed 76) and 0.90x (seed 77) the mean cost with 0, no scenario's worst run over 10 % worse, on the rule
written before those runs ("Bursts: kicks before the first plan"). ``refreshProvisionalPlans`` since session 49
(2026-12-06; off before): in bursts, judged on the scenarios where it acts (a refresh fired, a plan went stale or
a full plan finished), 0.66x the mean cost without it (seed 97; ``groups`` 200 1.22x the best against 1.98x,
``fanin`` 200 1.06x against 1.51x), no mean or worst run worse, on the rule written before the run; it had failed
four earlier rules (seeds 90, 91, 95, 96), each on ``fanin`` 100, where a rerun of seed 96 showed it never acting
("Bursts: refreshed provisional plans judged where they act").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.api.validation import FieldError
from augur.constants import MAX_DISTANCE, FloatArray
from augur.placement.args import check_range
from augur.placement.constants import EPS
from augur.placement.context import ScoringContext
from augur.placement.distance import nearest
from augur.placement.plan import PlanSettings
from augur.placement.plan_settings import REFRESH_AT_AGE

NAME = "plan"


@dataclass(frozen=True)
class PlanArgs:
    weight: float = 30.0
    off_plan: float = 50.0
    # the planner's arguments default to the planner's own defaults (augur.placement.plan.PlanSettings)
    passes: int = PlanSettings.passes
    anneal_steps: int = PlanSettings.anneal_steps
    anneal_steps_per_pod: int = PlanSettings.anneal_steps_per_pod
    seed: int = PlanSettings.seed
    max_age_seconds: float = 10.0
    starts: int = PlanSettings.starts
    kicks: int = PlanSettings.kicks
    restarts: int = PlanSettings.restarts
    first_kicks: int = PlanSettings.first_kicks
    start_before_first_kicks: bool = PlanSettings.start_before_first_kicks
    provisional_plans: bool = True
    provisional_updates: bool = PlanSettings.provisional_updates
    provisional_before_kicks: bool = PlanSettings.provisional_before_kicks
    provisional_during_kicks: bool = PlanSettings.provisional_during_kicks
    pod_requests_from_status: bool = True
    repair_after_full_plan: bool = True
    repair_provisional_plans: bool = True
    search_seconds: float = PlanSettings.search_seconds
    refresh_provisional_plans: bool = True
    gate_seconds: float = 30.0
    gate_in_flight: int = 1

    def validate(self, prefix: str) -> list[FieldError]:
        errors = check_range(prefix, "weight", self.weight, 0) + check_range(prefix, "passes", self.passes, 0, 1000)
        errors += check_range(prefix, "offPlan", self.off_plan, 0, 100)
        errors += check_range(prefix, "seed", self.seed, 0, 2**32 - 1)
        errors += check_range(prefix, "maxAgeSeconds", self.max_age_seconds, 0)
        errors += check_range(prefix, "annealStepsPerPod", self.anneal_steps_per_pod, 0, 1_000_000)
        errors += check_range(prefix, "starts", self.starts, 1, 64)
        errors += check_range(prefix, "kicks", self.kicks, 0, 100_000)
        errors += check_range(prefix, "restarts", self.restarts, 1, 64)
        errors += check_range(prefix, "firstKicks", self.first_kicks, 0, 100_000)
        errors += check_range(prefix, "searchSeconds", self.search_seconds, 0, 3600)
        errors += check_range(prefix, "gateSeconds", self.gate_seconds, 0, 3600)
        errors += check_range(prefix, "gateInFlight", self.gate_in_flight, 0, 10_000)
        return errors + check_range(prefix, "annealSteps", self.anneal_steps, 0, 10_000_000)

    def settings(self) -> PlanSettings:
        return PlanSettings(
            passes=self.passes,
            anneal_steps=self.anneal_steps,
            anneal_steps_per_pod=self.anneal_steps_per_pod,
            seed=self.seed,
            starts=self.starts,
            kicks=self.kicks,
            restarts=self.restarts,
            first_kicks=self.first_kicks,
            start_before_first_kicks=self.start_before_first_kicks,
            provisional_updates=self.provisional_updates,
            provisional_before_kicks=self.provisional_before_kicks,
            provisional_during_kicks=self.provisional_during_kicks,
            search_seconds=self.search_seconds,
            refresh_seconds=self.max_age_seconds * REFRESH_AT_AGE if self.refresh_provisional_plans else 0.0,
        )


def score(ctx: ScoringContext, args: PlanArgs) -> FloatArray:
    plan = ctx.snapshot.plan
    if args.weight <= 0 or plan is None:
        return ctx.constant(float(MAX_DISTANCE))
    slots = plan.slots(ctx.pod.workload, ctx.snapshot)
    free = slots >= 1 - EPS if slots is not None else None
    if free is None or not free.any():
        return ctx.constant(float(MAX_DISTANCE))
    near = nearest(ctx.table, ctx.cand, np.flatnonzero(free).astype(np.int64))
    off: FloatArray = args.off_plan * (1 - near / MAX_DISTANCE)
    return np.where(free[ctx.cand], float(MAX_DISTANCE), off)
