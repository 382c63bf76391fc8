"""A Deployment or StatefulSet target is read with one GET of the object; other kinds through /scale."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from augur.kube.resources import OBJECT_READ_KINDS, Resources, ScaleInfo, format_selector
from augur.kube.workload import NO_READY_RECHECK_SECONDS, Workloads


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (None, ""),
        ({}, ""),
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": {"tier": "fe", "app": "web"}}, "app=web,tier=fe"),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["b", "a"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "env", "operator": "NotIn", "values": ["dev"]},
                    {"key": "owned", "operator": "Exists"},
                ],
            },
            "app=web,!canary,env notin (dev),owned,zone in (a,b)",
        ),
    ],
)
def test_format_selector_writes_what_scale_reports(selector: dict[str, Any] | None, text: str) -> None:
    assert format_selector(selector) == text


class _Obj:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def to_dict(self) -> dict[str, Any]:
        return self.body


class _Resource:
    def __init__(self, kind: str, scale: Any) -> None:
        self.kind = kind
        self.subresources = {"scale": scale}


class _Scale:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def get(self, name: str, namespace: str) -> _Obj:
        self.calls.append(f"scale {namespace}/{name}")
        return _Obj({"spec": {"replicas": 4}, "status": {"replicas": 3, "selector": "app=web"}})


class _Dynamic:
    def __init__(self, calls: list[str], forbidden: bool = False) -> None:
        self.calls, self.forbidden = calls, forbidden
        self.status: dict[str, Any] = {"replicas": 3, "readyReplicas": 2}
        self.template: dict[str, Any] = {}

    def get(self, resource: _Resource, name: str, namespace: str) -> _Obj:
        self.calls.append(f"get {resource.kind} {namespace}/{name}")
        if self.forbidden:
            raise client.ApiException(status=403, reason="Forbidden")
        spec = {"replicas": 4, "selector": {"matchLabels": {"app": "web"}}, **self.template}
        return _Obj({"spec": spec, "status": self.status})


def _resources(calls: list[str], forbidden: bool = False) -> Resources:
    resources = Resources.__new__(Resources)
    resources._dynamic = _Dynamic(calls, forbidden)  # type: ignore[assignment]
    resources._scale_only = set()
    scale = _Scale(calls)
    resources._resource = lambda api_version, kind: _Resource(kind, scale)  # type: ignore[method-assign]
    return resources


def test_a_deployment_is_one_get_of_the_object_with_its_ready_count() -> None:
    calls: list[str] = []
    workloads = Workloads(_resources(calls))
    assert ("apps/v1", "Deployment") in OBJECT_READ_KINDS
    target = workloads.read("apps/v1", "Deployment", "web", "shop")
    assert (target.spec, target.current, target.ready, target.selector) == (4, 3, 2, "app=web")
    assert calls == ["get Deployment shop/web"]


def test_the_object_read_gives_the_requests_of_one_pod_of_its_template() -> None:
    resources = _resources([])
    assert resources.get_scale("apps/v1", "Deployment", "web", "shop").pod_requests is None  # requests nothing
    containers = [{"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]
    resources._dynamic.template = {"template": {"spec": {"containers": containers}}}  # type: ignore[attr-defined]
    info = resources.get_scale("apps/v1", "StatefulSet", "web", "shop")
    assert info.pod_requests == (0.25, 0.5)
    # Kinds read through /scale have no template to read.
    assert resources.get_scale("example.com/v1", "Worker", "w", "shop").pod_requests is None


def test_a_known_object_read_is_not_repeated() -> None:
    calls: list[str] = []
    workloads = Workloads(_resources(calls))
    target = workloads.read("apps/v1", "StatefulSet", "db", "shop", ScaleInfo("StatefulSet", 2, 2, "app=db", 1))
    assert (target.spec, target.ready) == (2, 1)
    assert calls == []


def test_without_rbac_on_the_object_the_kind_is_read_through_scale_from_then_on() -> None:
    calls: list[str] = []
    resources = _resources(calls, forbidden=True)
    first = resources.get_scale("apps/v1", "Deployment", "web", "shop")
    second = resources.get_scale("apps/v1", "Deployment", "web", "shop")
    assert first == second == ScaleInfo("Deployment", 4, 3, "app=web")
    assert calls == ["get Deployment shop/web", "scale shop/web", "scale shop/web"]


def test_other_kinds_are_read_through_scale() -> None:
    calls: list[str] = []
    info = _resources(calls).get_scale("bench.augur.dev/v1", "BenchTarget", "t", "ns")
    assert info == ScaleInfo("BenchTarget", 4, 3, "app=web")
    assert calls == ["scale ns/t"]


def test_a_custom_resource_with_a_ready_count_is_read_through_scale_and_its_object() -> None:
    calls: list[str] = []
    workloads = Workloads(_resources(calls))
    target = workloads.read("example.com/v1", "Worker", "w", "ns")
    assert (target.spec, target.current, target.ready) == (4, 3, 2)
    assert calls == ["scale ns/w", "get Worker ns/w"]


@pytest.mark.parametrize("status", [{}, {"replicas": 3}], ids=["no status yet", "replicas only"])
def test_a_kind_without_a_ready_count_is_read_through_scale_alone_for_a_while(status: dict[str, Any]) -> None:
    calls: list[str] = []
    resources = _resources(calls)
    resources._dynamic.status = status  # type: ignore[attr-defined]
    now = [1000.0]
    workloads = Workloads(resources, clock=lambda: now[0])
    first = workloads.read("example.com/v1", "Worker", "w", "ns")
    assert (first.current, first.ready) == (3, 3)  # /scale's count stands in: never 0 for lack of a field
    assert calls == ["scale ns/w", "get Worker ns/w"]
    calls.clear()
    now[0] += NO_READY_RECHECK_SECONDS - 1
    assert workloads.read("example.com/v1", "Worker", "w", "ns").ready == 3
    assert calls == ["scale ns/w"]  # one GET a cycle, not two
    # its controller has written a ready count since: looked at again after the re-check period
    resources._dynamic.status = {"replicas": 3, "readyReplicas": 1}  # type: ignore[attr-defined]
    calls.clear()
    now[0] += 2
    assert workloads.read("example.com/v1", "Worker", "w", "ns").ready == 1
    assert calls == ["scale ns/w", "get Worker ns/w"]


def test_once_a_kind_has_shown_a_ready_count_a_missing_one_means_none_ready() -> None:
    # Go controllers leave a zero readyReplicas out (omitempty): an Argo Rollout with no pod ready yet
    calls: list[str] = []
    resources = _resources(calls)
    workloads = Workloads(resources, clock=lambda: 0.0)
    assert workloads.read("argoproj.io/v1alpha1", "Rollout", "r", "ns").ready == 2
    resources._dynamic.status = {"replicas": 3}  # type: ignore[attr-defined]
    calls.clear()
    assert workloads.read("argoproj.io/v1alpha1", "Rollout", "r", "ns").ready == 0
    assert workloads.read("argoproj.io/v1alpha1", "Rollout", "r", "ns").ready == 0
    assert calls == ["scale ns/r", "get Rollout ns/r"] * 2  # still read: the count comes back with the pods
