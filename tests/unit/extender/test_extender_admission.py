"""The plan gate's admission webhook (``POST /admission/plan-gate``): new pods a ``WorkloadProfile`` selects get
the gate as a JSON patch; others, and every pod while nothing would let it through, are allowed unchanged."""

from __future__ import annotations

import base64
from typing import Any

import jsonpatch
import orjson
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from augur.constants import PLAN_GATE
from augur_extender.app import create_app
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.settings import Settings

from .extender_objects import pod
from .test_extender_gate import Lifter, web_cache


def review(obj: dict[str, Any] | None, operation: str = "CREATE", namespace: str = "shop") -> dict[str, Any]:
    request = {"uid": "7f0b", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": operation}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {**request, "namespace": namespace, "object": obj},
    }


def new_pod(app: str) -> dict[str, Any]:
    """A pod as a ReplicaSet creates it: ``generateName``, no name, no namespace in the object, not bound."""
    obj = pod("x", app)
    obj["metadata"] = {"generateName": f"{app}-", "labels": {"app": app}}
    obj["spec"].pop("nodeName")
    obj.pop("status")
    return obj


def client_for(cache: MemoryCache, lift: bool = True, planner: bool = True) -> TestClient:
    """The app without its lifespan: nothing runs, the state says what would."""
    settings = Settings(planner=planner, planner_process=False)
    return TestClient(create_app(settings, ExtenderState.build(cache, settings, Lifter(cache) if lift else None)))


def answer(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    reply = client.post("/admission/plan-gate", json=body)
    assert reply.status_code == 200, reply.text
    out: dict[str, Any] = reply.json()
    assert (out["apiVersion"], out["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    assert out["response"]["uid"] == "7f0b" and out["response"]["allowed"] is True
    return out["response"]


def test_a_pod_a_profile_selects_gets_the_gate_others_are_allowed_unchanged() -> None:
    cache = web_cache(3)
    client = client_for(cache)
    gated = answer(client, review(new_pod("web")))
    assert gated["patchType"] == "JSONPatch"
    patched = jsonpatch.apply_patch(new_pod("web"), orjson.loads(base64.b64decode(gated["patch"])))
    assert patched["spec"]["schedulingGates"] == [{"name": PLAN_GATE}]
    assert "patch" not in answer(client, review(new_pod("other")))  # no profile selects app=other
    assert "patch" not in answer(client, review(new_pod("web"), namespace="elsewhere"))  # the profile is in shop
    text = generate_latest(client.app.state.extender.metrics.registry).decode()  # type: ignore[attr-defined]
    assert 'augur_extender_plan_gate_admissions_total{outcome="gated"} 1.0' in text
    assert 'augur_extender_plan_gate_admissions_total{outcome="unprofiled"} 2.0' in text


def test_nothing_is_gated_before_the_cache_syncs_or_without_a_gate_keeper_or_planner() -> None:
    unsynced = MemoryCache()
    assert not unsynced.synced()
    assert "patch" not in answer(client_for(unsynced), review(new_pod("web")))
    assert "patch" not in answer(client_for(web_cache(3), lift=False), review(new_pod("web")))
    # without a planner the gate keeper would let the pod through at once: no gate
    client = client_for(web_cache(3), planner=False)
    assert "patch" not in answer(client, review(new_pod("web")))
    text = generate_latest(client.app.state.extender.metrics.registry).decode()  # type: ignore[attr-defined]
    assert 'augur_extender_plan_gate_admissions_total{outcome="no_gate_keeper"} 1.0' in text


def test_a_request_that_is_not_a_pod_create_is_refused_so_the_api_server_admits_the_pod_unchanged() -> None:
    client = client_for(web_cache(3))
    assert client.post("/admission/plan-gate", json=review(new_pod("web"), operation="UPDATE")).status_code == 400
    assert client.post("/admission/plan-gate", json=review(None)).status_code == 400
    assert client.post("/admission/plan-gate", content=b"{not json").status_code == 422
