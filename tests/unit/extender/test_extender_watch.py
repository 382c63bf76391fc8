"""The watch loop's parsing of the event stream (the e2e tests run it against the real kube-apiserver)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from augur_extender.watch import WATCH_TIMEOUT_SECONDS, KubeWatchCache


class _Response:
    """What the client returns with ``_preload_content=False``: chunks that split lines anywhere."""

    def __init__(self, lines: list[bytes]) -> None:
        data = b"\n".join(lines) + b"\n"
        self.chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
        self.closed = self.released = False

    def stream(self, amt: Any = None, decode_content: bool = False) -> Any:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        self.released = True


def _pod(name: str, version: str, node: str = "") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": name, "resourceVersion": version},
        "spec": {"nodeName": node, "containers": [{"resources": {"requests": {"cpu": "250m"}}}]},
    }


def test_a_watch_applies_each_event_and_resumes_from_the_last_version() -> None:
    cache = KubeWatchCache()
    lines = [
        orjson.dumps({"type": "ADDED", "object": _pod("a", "11")}),
        b"",
        orjson.dumps({"type": "MODIFIED", "object": _pod("a", "12", "n1")}),
        orjson.dumps({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}}),
        orjson.dumps({"type": "ADDED", "object": _pod("b", "16")}),
        orjson.dumps({"type": "DELETED", "object": _pod("b", "17")}),
    ]
    response = _Response(lines)
    calls: list[dict[str, Any]] = []

    def lister(**kwargs: Any) -> _Response:
        calls.append(kwargs)
        return response

    assert cache._watch_once("pods", lister, "10") == "17"
    assert calls == [
        {"watch": True, "resource_version": "10", "timeout_seconds": WATCH_TIMEOUT_SECONDS, "_preload_content": False}
    ]
    a, b = cache.find_pod("ns", "a"), cache.find_pod("ns", "b")
    assert a is not None and a.node == "n1" and a.cpu == pytest.approx(0.25) and b is None
    assert response.closed and response.released


def test_an_error_event_ends_the_watch_for_a_new_list_and_the_connection_is_released() -> None:
    cache = KubeWatchCache()
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version: 3"}}
    response = _Response([orjson.dumps(gone)])
    with pytest.raises(RuntimeError, match="too old resource version"):
        cache._watch_once("pods", lambda **_: response, "3")
    assert response.closed and response.released


def test_a_malformed_event_line_ends_the_watch_with_a_clear_error_and_keeps_what_came_before() -> None:
    """A line that is not JSON (a proxy cutting the stream) raises; the caller (``_run``) logs it and lists
    again. The events before it were applied; the connection is released."""
    cache = KubeWatchCache()
    response = _Response([orjson.dumps({"type": "ADDED", "object": _pod("a", "11")}), b'{"type": "MODIF'])
    with pytest.raises(orjson.JSONDecodeError):
        cache._watch_once("pods", lambda **_: response, "10")
    assert cache.find_pod("ns", "a") is not None
    assert response.closed and response.released
