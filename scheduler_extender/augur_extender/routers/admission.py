"""``POST /admission/plan-gate``: the mutating admission webhook that adds the plan gate to new pods.

kube-apiserver calls it on pod ``CREATE`` (the chart's ``MutatingWebhookConfiguration``, ``failurePolicy:
Ignore``): a pod that a ``WorkloadProfile`` selects gets :data:`~augur.constants.PLAN_GATE` in its
``spec.schedulingGates``, so it waits for the planner's final plan without its template carrying the gate.
:func:`augur.placement.gate.admit` decides; this route reads the ``AdmissionReview`` and answers it. The pod
is always allowed: the webhook only ever adds the gate, and an error or a timeout admits the pod unchanged.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from augur.constants import PLAN_GATE_WEBHOOK_PATH
from augur.placement.gate import admit
from augur_extender.deps import State
from augur_extender.kubeobjects import labels_of
from augur_extender.responses import OrjsonResponse

router = APIRouter(tags=["admission"], default_response_class=OrjsonResponse)


class AdmissionRequest(BaseModel):
    """The fields of ``admission.k8s.io/v1`` ``AdmissionRequest`` the webhook reads."""

    model_config = ConfigDict(extra="ignore")

    uid: str
    namespace: str = ""
    """The namespace of the object (kube-apiserver sets it for namespaced resources)."""
    operation: str = ""
    object: dict[str, Any] | None = None


class AdmissionReview(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    api_version: str = Field("admission.k8s.io/v1", alias="apiVersion")
    kind: str = "AdmissionReview"
    request: AdmissionRequest


@router.post(PLAN_GATE_WEBHOOK_PATH)
async def plan_gate(review: AdmissionReview, state: State) -> dict[str, Any]:
    """Allow the pod; with a ``JSONPatch`` that adds the plan gate when :func:`~augur.placement.gate.admit` says so."""
    req = review.request
    if req.operation != "CREATE" or req.object is None:
        raise HTTPException(status_code=400, detail="the plan gate webhook answers pod CREATE requests only")
    pod = req.object
    synced = state.cache.synced()
    # a ReplicaSet's new pod names no namespace in its metadata: the request does
    meta = pod.get("metadata")
    namespace = req.namespace or (str(meta.get("namespace") or "") if isinstance(meta, dict) else "")
    workload = state.cache.workload_of(namespace, labels_of(pod)) if synced else None
    # without a planner the gate keeper would let the pod through at once: gating it would only cost a patch
    waits_for_plan = state.gatekeeper is not None and state.planner is not None
    outcome, patch = admit(pod, workload, waits_for_plan, synced)
    state.metrics.gate_admissions.labels(outcome).inc()
    response: dict[str, Any] = {"uid": req.uid, "allowed": True}
    if patch is not None:
        response |= {"patchType": "JSONPatch", "patch": base64.b64encode(orjson.dumps(patch)).decode()}
    return {"apiVersion": review.api_version, "kind": "AdmissionReview", "response": response}
