"""HTTP JSON feeds against a real loopback HTTP server (stdlib, 127.0.0.1), and the schema rules."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from pydantic import ValidationError

from augur.api.crdgen import crd
from augur.api.v1alpha1 import WORKLOAD_PROFILE
from augur.api.v1alpha1.feeds import ExternalFeed, HttpFeed
from augur.feeds.http import FeedError, HttpFeeds
from augur.forecast.demand import validate_range

STEP = 60.0
START = 1_700_000_000.0 // STEP * STEP
END = START + 4 * STEP


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append(query)  # type: ignore[attr-defined]
        if url.path == "/good":
            start, end, step = float(query["start"]), float(query["end"]), float(query["step"])
            pairs = [[t, str(t - start)] if t % 120 else [t, t - start] for t in np.arange(start, end + 1, step)]
            self._send(200, json.dumps({"values": pairs}).encode())
        elif url.path == "/slow":
            time.sleep(1.0)
            self._send(200, b'{"values": []}')
        elif url.path == "/large":
            self._send(200, b'{"values": [' + b"[1, 1]," * 100_000 + b"[1, 1]]}")
        elif url.path == "/notjson":
            self._send(200, b"<html>hello</html>")
        elif url.path == "/badshape":
            self._send(200, b'{"values": [[1, "x"]]}')
        else:
            self._send(503, b"down")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client stopped reading (too large, timed out)
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def feed(server: ThreadingHTTPServer, path: str, **extra: Any) -> HttpFeed:
    return HttpFeed.model_validate({"url": f"http://127.0.0.1:{server.server_port}{path}", **extra})


def test_good_feed_is_aligned_like_a_promql_feed(server: ThreadingHTTPServer) -> None:
    answer = HttpFeeds().read(feed(server, "/good?city=x"), START, END, STEP)
    window = validate_range(answer, START, END, STEP)
    assert window.values.tolist() == [0.0, 60.0, 120.0, 180.0, 240.0]  # numbers and numeric strings
    seen = server.seen[-1]  # type: ignore[attr-defined]
    assert seen["city"] == "x" and float(seen["start"]) == START and float(seen["step"]) == STEP


def test_timeout_is_feed_unavailable(server: ThreadingHTTPServer) -> None:
    began = time.monotonic()
    with pytest.raises(FeedError) as err:
        HttpFeeds().read(feed(server, "/slow", timeout="200ms"), START, END, STEP)
    assert err.value.reason == "FeedUnavailable" and "within 200ms" in str(err.value)
    assert time.monotonic() - began < 0.9


def test_too_large_body_is_refused(server: ThreadingHTTPServer) -> None:
    with pytest.raises(FeedError) as err:
        HttpFeeds().read(feed(server, "/large", maxBytes=10_000), START, END, STEP)
    assert err.value.reason == "FeedTooLarge" and "maxBytes=10000" in str(err.value)


@pytest.mark.parametrize("path", ["/notjson", "/badshape"])
def test_bad_body_is_feed_invalid(server: ThreadingHTTPServer, path: str) -> None:
    with pytest.raises(FeedError) as err:
        HttpFeeds().read(feed(server, path), START, END, STEP)
    assert err.value.reason == "FeedInvalid"


def test_non_200_and_refused_connection_are_feed_unavailable(server: ThreadingHTTPServer) -> None:
    with pytest.raises(FeedError) as err:
        HttpFeeds().read(feed(server, "/missing"), START, END, STEP)
    assert err.value.reason == "FeedUnavailable" and "HTTP 503" in str(err.value)
    closed = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = closed.server_port
    closed.server_close()
    with pytest.raises(FeedError) as err:
        HttpFeeds().read(HttpFeed(url=f"http://127.0.0.1:{port}/x"), START, END, STEP)
    assert err.value.reason == "FeedUnavailable"


def test_exactly_one_source_and_bounds_are_enforced() -> None:
    http = {"url": "https://feeds.example/price"}
    assert ExternalFeed.model_validate({"name": "p", "http": http}).http == HttpFeed(url=http["url"])
    for bad in ({"name": "p"}, {"name": "p", "query": "x", "http": http}):
        with pytest.raises(ValidationError, match="exactly one of query or http"):
            ExternalFeed.model_validate(bad)
    for bad_http in (
        {"url": "ftp://x/y"},
        {**http, "timeout": "2m"},
        {**http, "timeout": "0s"},
        {**http, "maxBytes": 0},
    ):
        with pytest.raises(ValidationError):
            HttpFeed.model_validate(bad_http)


def test_crd_carries_the_cel_rules() -> None:
    schema = crd(WORKLOAD_PROFILE)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    item = schema["properties"]["spec"]["properties"]["feeds"]["items"]
    assert {"rule": "has(self.query) != has(self.http)", "message": "set exactly one of query or http"} in item[
        "x-kubernetes-validations"
    ]
    assert item["required"] == ["name"]
    http = item["properties"]["http"]
    assert any("duration(self.timeout)" in r["rule"] for r in http["x-kubernetes-validations"])
    assert http["properties"]["maxBytes"]["maximum"] == 16 * 1024 * 1024
