"""augur.kube.events.post_event: the Event's namespace and involved object, and failures only logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from kubernetes import client

from augur.kube.events import namespace_terminating, post_event


class FakeCore:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.posted: list[tuple[str, dict[str, Any]]] = []

    def create_namespaced_event(self, namespace: str, body: dict[str, Any], **_: Any) -> None:
        if self.fail:
            raise client.ApiException(status=403, reason="Forbidden")
        self.posted.append((namespace, body))


def test_a_namespaced_object_gets_its_event_in_its_namespace() -> None:
    core = FakeCore()
    post_event(core, "Migration", "move-1", "u1", "Normal", "Evicting", "x" * 2000, namespace="shop")  # type: ignore[arg-type]
    ((namespace, body),) = core.posted
    assert namespace == "shop" and body["metadata"] == {"generateName": "move-1.", "namespace": "shop"}
    assert body["involvedObject"] == {
        "apiVersion": "augur.dev/v1alpha1",
        "kind": "Migration",
        "name": "move-1",
        "uid": "u1",
        "namespace": "shop",
    }
    assert body["reason"] == "Evicting" and len(body["message"]) == 1024


def test_a_cluster_scoped_object_gets_its_event_in_default_and_failures_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = FakeCore()
    post_event(core, "RebalancePolicy", "default", "u2", "Warning", "RebalanceFailed", "boom")  # type: ignore[arg-type]
    ((namespace, body),) = core.posted
    assert namespace == "default" and "namespace" not in body["involvedObject"]
    post_event(FakeCore(fail=True), "RebalancePolicy", "p", "u3", "Normal", "Planned", "m")  # type: ignore[arg-type]
    assert "Event Planned on RebalancePolicy p not posted" in caplog.text


TERMINATING = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'events "shop." is forbidden: unable to create new content in namespace shop because it is being '
    "terminated",
    "reason": "Forbidden",
    "details": {
        "name": "shop.",
        "kind": "events",
        "causes": [{"reason": "NamespaceTerminating", "message": "namespace shop is being terminated"}],
    },
    "code": 403,
}


class RefusingCore:
    """An API that answers every create with one fixed error, and counts the attempts."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body, self.calls = status, body, 0

    def create_namespaced_event(self, namespace: str, body: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        error = client.ApiException(status=self.status, reason="Forbidden")
        error.body = json.dumps(self.body)
        raise error


def test_an_event_into_a_namespace_being_deleted_is_dropped_with_one_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = RefusingCore(403, TERMINATING)
    with caplog.at_level(logging.DEBUG, logger="augur.kube.events"):
        post_event(core, "WorkloadProfile", "web", "u4", "Warning", "TargetNotFound", "m", namespace="shop")  # type: ignore[arg-type]
    assert core.calls == 1  # not retried
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    assert (
        record.getMessage()
        == "Event TargetNotFound on WorkloadProfile shop/web dropped: namespace shop is being deleted"
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, {"kind": "Status", "reason": "Forbidden", "message": "RBAC: no create on events", "code": 403}),
        (403, {"details": {"causes": [{"reason": "FieldValueInvalid"}]}}),
        (500, TERMINATING),  # only a 403 says the namespace refuses new content
    ],
)
def test_other_refusals_stay_warnings(status: int, body: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    core = RefusingCore(status, body)
    post_event(core, "WorkloadProfile", "web", "u5", "Normal", "Scaled", "m", namespace="shop")  # type: ignore[arg-type]
    (record,) = caplog.records
    assert (
        record.levelno == logging.WARNING
        and "Event Scaled on WorkloadProfile shop/web not posted" in record.getMessage()
    )


@pytest.mark.parametrize(
    ("status", "body", "terminating"),
    [(403, TERMINATING, True), (403, {}, False), (404, TERMINATING, False), (403, "not json", False)],
)
def test_namespace_terminating(status: int, body: object, terminating: bool) -> None:
    error = client.ApiException(status=status, reason="x")
    error.body = body if isinstance(body, str) else json.dumps(body)
    assert namespace_terminating(error) is terminating
