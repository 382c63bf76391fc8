"""remove_finalizers: the JSON patch it sends, and what each answer of the API server means."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from augur.kube.client import KubeError
from augur.kube.finalizers import remove_finalizers


class Answer:
    def drain_conn(self) -> None: ...

    def release_conn(self) -> None: ...


def patched(monkeypatch: pytest.MonkeyPatch, status: int | None) -> list[tuple[str, tuple[Any, ...]]]:
    """Route both patch calls to a recorder that answers ``status`` (None: success)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def call(kind: str) -> Any:
        def patch(self: Any, *args: Any, **kwargs: Any) -> Answer:
            calls.append((kind, args))
            assert kwargs["_content_type"] == "application/json-patch+json"
            if status is not None:
                raise client.ApiException(status=status, reason="refused")
            return Answer()

        return patch

    monkeypatch.setattr(client.CustomObjectsApi, "patch_namespaced_custom_object", call("namespaced"))
    monkeypatch.setattr(client.CustomObjectsApi, "patch_cluster_custom_object", call("cluster"))
    return calls


def test_the_patch_tests_the_current_list_and_keeps_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = patched(monkeypatch, None)
    current = ["example.com/keep", "kopf.zalando.org/KopfFinalizerMarker"]
    assert remove_finalizers(
        client.ApiClient(), "workloadprofiles", "ns", "p", current, ["kopf.zalando.org/KopfFinalizerMarker"]
    )
    kind, args = calls[0]
    assert kind == "namespaced" and args[2:5] == ("ns", "workloadprofiles", "p")
    assert args[5] == [
        {"op": "test", "path": "/metadata/finalizers", "value": current},
        {"op": "replace", "path": "/metadata/finalizers", "value": ["example.com/keep"]},
    ]
    assert remove_finalizers(client.ApiClient(), "networktopologies", None, "t", ["a/b"], ["a/b"])
    assert calls[1][0] == "cluster" and calls[1][1][2:4] == ("networktopologies", "t")


@pytest.mark.parametrize("status", [404, 422])
def test_gone_or_changed_meanwhile_is_no_error(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    patched(monkeypatch, status)
    assert remove_finalizers(client.ApiClient(), "workloadprofiles", "ns", "p", ["a/b"], ["a/b"]) is False


def test_other_refusals_raise_with_the_object_named(monkeypatch: pytest.MonkeyPatch) -> None:
    patched(monkeypatch, 403)
    with pytest.raises(KubeError, match=r"removing finalizers \['a/b'\] of workloadprofiles ns/p: 403") as err:
        remove_finalizers(client.ApiClient(), "workloadprofiles", "ns", "p", ["a/b"], ["a/b"])
    assert not err.value.status.transient
    patched(monkeypatch, 503)
    with pytest.raises(KubeError, match="of networktopologies t: 503") as err:
        remove_finalizers(client.ApiClient(), "networktopologies", None, "t", ["a/b"], ["a/b"])
    assert err.value.status.transient
