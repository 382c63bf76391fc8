"""How Eviction API answers are read: budget refusals are retried, never forced; throttling is transient."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from augur.kube.client import KubeError
from augur.kube.eviction import _refusal
from augur.migration.decision import EvictionResult


def answer(code: int, message: str = "", causes: list[dict[str, str]] | None = None) -> client.ApiException:
    exc = client.ApiException(status=code, reason="x")
    exc.body = json.dumps({"message": message, "details": {"causes": causes or []}})
    return exc


def test_a_budget_refusal_is_blocked_with_the_budgets_words() -> None:
    cause = {"reason": "DisruptionBudget", "message": "The disruption budget web needs 4 healthy pods and has 4"}
    result, message = _refusal(answer(429, "Cannot evict pod", [cause]), "evicting")
    assert result is EvictionResult.BLOCKED and "needs 4 healthy pods" in message


def test_gone_or_replaced_pods_count_as_gone() -> None:
    assert _refusal(answer(404), "evicting")[0] is EvictionResult.GONE
    assert _refusal(answer(409, "Precondition failed: UID"), "evicting")[0] is EvictionResult.GONE


def test_several_budgets_and_forbidden_are_refused_not_retried() -> None:
    several = answer(
        500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    )
    assert _refusal(several, "evicting")[0] is EvictionResult.REFUSED
    assert _refusal(answer(403, "forbidden"), "evicting")[0] is EvictionResult.REFUSED


def test_throttling_and_server_errors_are_transient() -> None:
    for code in (429, 503):
        with pytest.raises(KubeError) as info:
            _refusal(answer(code, "slow down"), "evicting")
        assert info.value.status.transient
