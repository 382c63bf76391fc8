"""Explainability: the per-node score breakdown for a pod."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from augur_extender.deps import Args, State
from augur_extender.kubeobjects import pod_facts
from augur_extender.responses import OrjsonResponse

router = APIRouter(prefix="/debug", tags=["debug"], default_response_class=OrjsonResponse)


class ComponentValue(BaseModel):
    raw: float
    weight: float
    contribution: float


class NodeBreakdown(BaseModel):
    node: str
    score: int
    total: float
    components: dict[str, ComponentValue]
    filteredOut: str | None = None  # noqa: N815 - wire name
    planSlots: int | None = None  # noqa: N815 - wire name
    """Free slots the pending-pod plan has for the pod's workload on this node (``None``: no current plan)."""
    planAgeSeconds: float | None = None  # noqa: N815 - wire name
    """Age of the plan behind ``planSlots`` and the ``plan`` component's contribution (``None``: no current
    plan, the component is neutral)."""


class PlanState(BaseModel):
    """The pending-pod plan as the request saw it: ``current`` (used), ``stale`` or ``absent`` (the ``plan``
    component is neutral), ``off`` (no planner)."""

    state: str
    staleReason: str | None = None  # noqa: N815 - wire name
    """Why a ``stale`` plan is not used (node set changed, workloads changed, too old)."""
    ageSeconds: float | None = None  # noqa: N815 - wire name
    incremental: bool | None = None
    provisional: bool | None = None
    """The best plan so far of a full plan still under way (``provisionalPlans``)."""
    cpuSeconds: float | None = None  # noqa: N815 - wire name
    networkCost: float | None = None  # noqa: N815 - wire name
    failures: int | None = None
    lastError: str | None = None  # noqa: N815 - wire name


class Explanation(BaseModel):
    pod: str
    workload: str | None
    neutral: bool
    hardRules: Literal["filtered", "steered"] | None = None  # noqa: N815 - wire name
    """How the workload's hard rules act (``None``: it has none): ``filtered`` once kube-scheduler has called
    the filter verb (failing nodes are removed), ``steered`` before that (failing nodes score 0)."""
    unknownNodes: list[str]  # noqa: N815 - wire name
    plan: PlanState
    nodes: list[NodeBreakdown]


@router.get("/pods/{namespace}/{name}", response_model=Explanation, responses={404: {"description": "unknown pod"}})
async def explain_cached_pod(namespace: str, name: str, state: State) -> dict[str, Any]:
    """Breakdown over every cached node for a pod the cache knows."""
    pod = state.cache.find_pod(namespace, name)
    if pod is None:
        raise HTTPException(status_code=404, detail=f"pod {namespace}/{name} is not in the cache")
    return state.scheduler.explain(pod)


@router.post("/explain", response_model=Explanation)
async def explain_pod(args: Args, state: State) -> dict[str, Any]:
    """Breakdown for the ``ExtenderArgs`` a scheduler would send (the same body as ``/prioritize``)."""
    return state.scheduler.explain(pod_facts(args.pod), args.names())
