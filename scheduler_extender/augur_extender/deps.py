"""Typed FastAPI dependencies: the app state and the parsed extender arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from augur.placement.gate import Lift
from augur.placement.plan import Plan
from augur_extender.gatekeeper import GateKeeper
from augur_extender.leadership import GateLeadership
from augur_extender.metrics import Metrics
from augur_extender.planner_child import PRIORITIES
from augur_extender.planning import BackgroundPlanner
from augur_extender.service import Scheduler
from augur_extender.settings import Settings
from augur_extender.view import ClusterCache
from augur_extender.wire import BadRequestError, ExtenderArgs, parse_extender_args


@dataclass
class ExtenderState:
    """Everything the routes share; built by the caller of :func:`augur_extender.app.create_app`."""

    cache: ClusterCache
    scheduler: Scheduler
    metrics: Metrics
    planner: BackgroundPlanner | None = None
    gatekeeper: GateKeeper | None = None
    leadership: GateLeadership | None = None

    @classmethod
    def build(
        cls,
        cache: ClusterCache,
        settings: Settings,
        lift: Callable[[str, str], None] | None = None,
        leadership: GateLeadership | None = None,
    ) -> ExtenderState:
        """The state; with ``settings.planner`` and a ``plan`` weight above 0, a background planner too
        (started and stopped with the app); with ``lift`` (removes the plan gate from a pod), a gate keeper,
        which lets pods through only while ``leadership`` (when given) says this replica leads."""
        metrics = Metrics()
        planner = None
        if settings.planner and settings.scoring.plan.weight > 0:
            planner = BackgroundPlanner(
                cache,
                settings.scoring.plan,
                settings.plan_interval_seconds,
                process=settings.planner_process,
                priority=settings.planner_priority,
            )

            def observe(plan: Plan) -> None:
                if planner.priority_in_effect is not None:
                    for policy in PRIORITIES:
                        metrics.planner_priority.labels(policy).set(policy == planner.priority_in_effect)
                if plan.provisional:
                    metrics.plans.labels("provisional").inc()
                    if plan.refreshed:
                        metrics.plans.labels("refreshed").inc()
                    return
                metrics.plans.labels("incremental" if plan.incremental else "full").inc()
                if plan.cut_short:
                    metrics.plans.labels("cut_short").inc()
                if not plan.incremental:
                    metrics.full_plans.labels(plan.reason or "first").inc()
                metrics.plan_cpu.observe(plan.cpu_seconds)

            planner.on_plan = observe
            planner.on_failure = metrics.plans.labels("failed").inc
            planner.on_superseded = metrics.plans.labels("superseded").inc
        scheduler = Scheduler(cache, settings.scoring, planner)
        scheduler.on_unfiltered = lambda workload: metrics.hard_rules_unfiltered.labels(workload).inc()
        scheduler.on_unseen_binds = metrics.unseen_binds.observe
        gatekeeper = None
        if lift is not None:
            plan = settings.scoring.plan
            leads = None if leadership is None else leadership.leads
            gatekeeper = GateKeeper(
                cache, planner, plan.gate_seconds, lift, in_flight_limit=plan.gate_in_flight, leads=leads
            )

            def lifted(done: Lift) -> None:
                metrics.gate_lifts.labels(done.reason).inc()
                metrics.gate_wait.observe(done.pod.waited)

            gatekeeper.on_lift = lifted
            metrics.gate_leader.set(1 if leadership is None else 0)
            if leadership is not None:
                leadership.on_change = metrics.gate_leader.set
        else:
            leadership = None  # nothing to lead
        return cls(cache, scheduler, metrics, planner, gatekeeper, leadership)


async def get_state(request: Request) -> ExtenderState:
    state: ExtenderState = request.app.state.extender
    return state


async def get_extender_args(request: Request) -> ExtenderArgs:
    body = await request.body()
    try:
        return parse_extender_args(body)
    except BadRequestError as exc:
        verb = request.url.path.rsplit("/", 1)[-1]
        request.app.state.extender.metrics.requests.labels(verb, "bad_request").inc()
        raise HTTPException(status_code=400, detail=str(exc)) from exc


State = Annotated[ExtenderState, Depends(get_state)]
Args = Annotated[ExtenderArgs, Depends(get_extender_args)]
