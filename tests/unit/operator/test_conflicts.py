"""Conflict rules: who else scales a profile's workload, and who wins."""

from __future__ import annotations

from typing import Any

import pytest

from augur.kube.autoscalers import (
    HPA,
    SCALED_OBJECT,
    WORKLOAD_PROFILE,
    ScaleClaim,
    TargetKey,
    claim_from_body,
    group_of,
)
from augur.operator.conflicts import condition, conflict_for_profile, find_conflict

WEB = TargetKey("shop", "apps", "Deployment", "web")


T0 = "2026-01-01T00:00:00Z"


def body(kind: str, name: str, target: dict[str, Any], created: str = T0, **meta: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": created, **meta},
        "spec": {"scaleTargetRef": target},
    }


DEPLOY_WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def claim(kind: str, name: str, target: dict[str, Any] = DEPLOY_WEB, created: str = T0, **meta: Any) -> ScaleClaim:
    c = claim_from_body(kind, body(kind, name, target, created, **meta))
    assert c is not None
    return c


def test_group_of() -> None:
    assert group_of("apps/v1") == "apps" and group_of("v1") == "" and group_of("argoproj.io/v1alpha1") == "argoproj.io"


def test_hpa_on_the_same_deployment_conflicts() -> None:
    me = claim(WORKLOAD_PROFILE, "web")
    found = find_conflict(me, [me, claim(HPA, "web-hpa")])
    assert found is not None and found.reason == HPA and found.owner == "HorizontalPodAutoscaler shop/web-hpa"
    assert "Deployment shop/web" in found.message
    cond = condition(found, me.target)
    assert (cond.type, cond.status, cond.reason) == ("Conflict", "True", HPA)


def test_targets_match_by_group_kind_and_name_not_version() -> None:
    me = claim(WORKLOAD_PROFILE, "web")
    others = [
        claim(HPA, "other-name", {**DEPLOY_WEB, "name": "api"}),
        claim(HPA, "other-kind", {**DEPLOY_WEB, "kind": "StatefulSet"}),
        claim(HPA, "other-group", {"apiVersion": "argoproj.io/v1alpha1", "kind": "Deployment", "name": "web"}),
    ]
    assert find_conflict(me, others) is None
    assert find_conflict(me, [claim(HPA, "old-version", {**DEPLOY_WEB, "apiVersion": "apps/v1beta2"})]) is not None
    assert condition(None, me.target).status == "False"


def test_other_namespace_does_not_conflict() -> None:
    me = claim(WORKLOAD_PROFILE, "web")
    other = claim_from_body(HPA, {**body(HPA, "h", DEPLOY_WEB), "metadata": {"name": "h", "namespace": "other"}})
    assert other is not None and find_conflict(me, [other]) is None


def test_scaled_object_defaults_to_a_deployment_and_its_hpa_is_reported_as_the_scaled_object() -> None:
    me = claim(WORKLOAD_PROFILE, "web")
    so = claim(SCALED_OBJECT, "web-so", {"name": "web"})
    assert so.target == WEB
    keda_hpa = claim(HPA, "keda-hpa-web-so", ownerReferences=[{"kind": "ScaledObject", "name": "web-so"}])
    for others in ([keda_hpa], [so], [keda_hpa, so], [so, keda_hpa]):
        found = find_conflict(me, others)
        assert found is not None and found.reason == SCALED_OBJECT and found.owner == "ScaledObject shop/web-so"


def test_oldest_profile_wins_then_name() -> None:
    old = claim(WORKLOAD_PROFILE, "b-old", created="2026-01-01T00:00:00Z")
    new = claim(WORKLOAD_PROFILE, "a-new", created="2026-01-02T00:00:00Z")
    assert find_conflict(old, [old, new]) is None
    found = find_conflict(new, [old, new])
    assert found is not None and found.reason == WORKLOAD_PROFILE and found.owner == "WorkloadProfile shop/b-old"
    same_a = claim(WORKLOAD_PROFILE, "a", created="2026-01-01T00:00:00Z")
    same_b = claim(WORKLOAD_PROFILE, "b", created="2026-01-01T00:00:00Z")
    assert find_conflict(same_a, [same_a, same_b]) is None
    assert find_conflict(same_b, [same_b, same_a]) is not None


def test_an_hpa_beats_even_the_oldest_profile_and_is_named_first() -> None:
    me = claim(WORKLOAD_PROFILE, "web", created="2025-01-01T00:00:00Z")
    younger = claim(WORKLOAD_PROFILE, "web2", created="2026-01-01T00:00:00Z")
    found = find_conflict(me, [younger, claim(HPA, "h")])
    assert found is not None and found.reason == HPA


@pytest.mark.parametrize(
    "raw",
    [
        {"metadata": {"name": "x", "namespace": "shop"}, "spec": {}},
        {"metadata": {"name": "x", "namespace": "shop"}, "spec": {"scaleTargetRef": {"kind": "Deployment"}}},
        {**body(HPA, "x", DEPLOY_WEB), "metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}},
    ],
)
def test_bodies_without_a_target_or_being_deleted_claim_nothing(raw: dict[str, Any]) -> None:
    assert claim_from_body(HPA, raw) is None


def test_conflict_for_profile_reads_the_kopf_indexes() -> None:
    profile = body(WORKLOAD_PROFILE, "web", DEPLOY_WEB)
    hpa = claim(HPA, "web-hpa")
    result = conflict_for_profile(profile, {"augur_hpa_claims": {WEB: [hpa]}, "unrelated": 1})
    assert result is not None and result[0] == WEB and result[1] is not None and result[1].reason == HPA
    result = conflict_for_profile(profile, {})  # no indexes (e.g. KEDA absent) means no claims
    assert result == (WEB, None)
    assert conflict_for_profile({"metadata": {}, "spec": {}}, {}) is None
