"""augur.kube.events.post_event: the Event's namespace and involved object, and failures only logged."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from augur.kube.events import post_event


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
