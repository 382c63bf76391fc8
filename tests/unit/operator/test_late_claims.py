"""ScaledObjects read by a periodic list (a KEDA installed after the operator, which kopf may never watch)."""

from __future__ import annotations

from typing import Any

import pytest

from augur.kube.autoscalers import SCALED_OBJECT, WORKLOAD_PROFILE, TargetKey
from augur.kube.client import ApiStatus, KubeError
from augur.operator.conflicts import POLLED, conflict_for_profile, indexed_claims
from augur.operator.late_claims import ScaledObjectPoll, index_claims

WEB = TargetKey("shop", "apps", "Deployment", "web")


def scaled_object(name: str, target: str = "web", namespace: str = "shop", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": "2026-01-01T00:00:00Z", **meta},
        "spec": {"scaleTargetRef": {"name": target}},
    }


class Lister:
    """Answers each call with the next item of ``answers`` (a list of bodies, or a KubeError to raise)."""

    def __init__(self, *answers: list[dict[str, Any]] | KubeError) -> None:
        self.answers = list(answers)

    def __call__(self) -> list[dict[str, Any]]:
        answer = self.answers.pop(0)
        if isinstance(answer, KubeError):
            raise answer
        return answer


def error(code: int) -> KubeError:
    return KubeError("listing ScaledObjects", ApiStatus(code, "Reason", "message"))


def test_index_claims_groups_scaled_objects_by_target_and_skips_deleted_ones() -> None:
    claims = index_claims(
        [scaled_object("a"), scaled_object("b"), scaled_object("c", "api"), scaled_object("d", deletionTimestamp="x")]
    )
    assert sorted(c.name for c in claims[WEB]) == ["a", "b"]
    assert [c.name for c in claims[TargetKey("shop", "apps", "Deployment", "api")]] == ["c"]
    assert all(c.kind == SCALED_OBJECT for cs in claims.values() for c in cs)


def test_refresh_keeps_the_last_list_on_failures_and_empties_it_when_keda_is_gone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    poll = ScaledObjectPoll(Lister([scaled_object("a")], error(503), error(0), error(403), error(403), error(404)), 30)
    poll.refresh()
    assert [c.name for c in poll.claims[WEB]] == ["a"]
    poll.refresh()  # server error: a blip must not clear a conflict
    poll.refresh()  # connection error
    assert [c.name for c in poll.claims[WEB]] == ["a"]
    poll.refresh()
    poll.refresh()  # no RBAC to list: warned once, last list kept
    assert [c.name for c in poll.claims[WEB]] == ["a"]
    assert sum("cannot list ScaledObjects" in r.getMessage() for r in caplog.records) == 1
    poll.refresh()  # 404: keda.sh is not served, so no ScaledObject exists
    assert poll.claims == {}


def test_a_polled_scaled_object_makes_a_conflict_without_the_kopf_index() -> None:
    profile = {
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
    }
    poll = ScaledObjectPoll(Lister([scaled_object("web-so")]), 30)
    poll.refresh()
    found = conflict_for_profile(profile, {POLLED: poll.claims})
    assert found is not None and found[1] is not None
    assert found[1].reason == SCALED_OBJECT and found[1].owner == "ScaledObject shop/web-so"
    assert conflict_for_profile(profile, {}) == (WEB, None)


def test_a_scaled_object_in_the_index_and_the_poll_counts_once() -> None:
    watched, polled = index_claims([scaled_object("web-so")]), index_claims([scaled_object("web-so")])
    merged = indexed_claims({"augur_scaledobject_claims": watched, POLLED: polled}, WEB)
    assert [(c.kind, c.name) for c in merged] == [(SCALED_OBJECT, "web-so")]
    assert WORKLOAD_PROFILE not in {c.kind for c in merged}


def test_run_refreshes_until_stopped() -> None:
    calls: list[int] = []

    def lister() -> list[dict[str, Any]]:
        calls.append(1)
        if len(calls) == 3:
            poll.stop()
        if len(calls) == 2:
            raise RuntimeError("unexpected")  # logged; the thread goes on
        return [scaled_object("a")]

    poll = ScaledObjectPoll(lister, 0.01)
    poll.run()
    assert len(calls) == 3 and [c.name for c in poll.claims[WEB]] == ["a"]
