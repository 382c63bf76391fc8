"""Range reads: failures classified into condition reasons, matrices parsed, long ranges chunked."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest
import requests
from prometheus_api_client.exceptions import PrometheusApiClientException

from augur.prom.client import PromError
from augur.prom.ranges import MAX_POINTS, RangeReader, aligned, classify, parse_matrix

BAD = b'{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \\"}\\""}'


def test_classify_maps_transport_and_http_failures() -> None:
    url = "http://prom:9090"
    assert classify(requests.ConnectionError("refused"), "q", url).reason == "PrometheusUnavailable"
    assert classify(requests.ReadTimeout("slow"), "q", url).reason == "PrometheusUnavailable"
    invalid = classify(PrometheusApiClientException(f"HTTP Status Code 400 ({BAD!r})"), "sum(", url)
    assert invalid.reason == "QueryInvalid" and "parse error" in str(invalid) and "sum(" in str(invalid)
    assert classify(PrometheusApiClientException("HTTP Status Code 422 (b'{}')"), "q", url).reason == "QueryFailed"
    assert classify(PrometheusApiClientException("HTTP Status Code 503 (b'')"), "q", url).reason == (
        "PrometheusUnavailable"
    )


def test_parse_matrix_keeps_nan_and_inf_for_validation() -> None:
    raw = [{"metric": {"job": "a"}, "values": [[60, "1.5"], [120, "NaN"], [180, "+Inf"]]}]
    (series,) = parse_matrix(raw, "q")
    assert series.labels == {"job": "a"} and series.timestamps == (60.0, 120.0, 180.0)
    assert series.values[0] == 1.5 and math.isnan(series.values[1]) and series.values[2] == math.inf
    with pytest.raises(PromError) as err:
        parse_matrix([{"metric": {}, "values": [[60]]}], "q")
    assert err.value.reason == "BadResponse"


class FakeConnect:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[float, float, str]] = []
        self.fail = fail

    def custom_query_range(self, query: str, start_time: datetime, end_time: datetime, step: str) -> list[Any]:
        if self.fail:
            raise self.fail
        start, end = start_time.timestamp(), end_time.timestamp()
        self.calls.append((start, end, step))
        size = float(step.rstrip("s"))
        points = [[start + i * size, "2"] for i in range(int((end - start) / size) + 1)]
        return [{"metric": {}, "values": points}]


def test_long_ranges_are_read_in_chunks_and_merged() -> None:
    fake = FakeConnect()
    reader = RangeReader(fake, "http://prom")  # type: ignore[arg-type]
    start = aligned(1_700_000_000, 60)
    end = start + (2 * MAX_POINTS + 5) * 60
    (series,) = reader.query_range("q", start, end, 60)
    assert len(fake.calls) == 3 and all(c[2] == "60s" for c in fake.calls)
    assert len(series.timestamps) == 2 * MAX_POINTS + 6 == len(set(series.timestamps))
    assert series.timestamps[0] == start and series.timestamps[-1] == end


def test_check_is_one_short_range_query_and_raises_classified_errors() -> None:
    fake = FakeConnect()
    RangeReader(fake, "u").check("q", 6000.0, 60.0)  # type: ignore[arg-type]
    assert fake.calls == [(5940.0, 6000.0, "60s")]
    failing = RangeReader(FakeConnect(requests.ConnectionError("down")), "u")  # type: ignore[arg-type]
    with pytest.raises(PromError) as err:
        failing.check("q", 6000.0, 60.0)
    assert err.value.reason == "PrometheusUnavailable"


def test_the_operator_s_reader_reports_an_outage_within_a_second() -> None:
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    reader = RangeReader.connect(f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(PromError) as err:
        reader.query_range("up", 6000.0, 6060.0, 60.0)
    assert err.value.reason == "PrometheusUnavailable" and time.monotonic() - started < 2.0


def test_concurrent_readers_reuse_their_connections(caplog: pytest.LogCaptureFixture) -> None:
    """One connection per querying thread: with the pool as large as the threads, no request opens a
    connection that is dropped afterwards (requests' default pool of 10 did that with 16 handler threads)."""
    import json as _json
    import logging
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    peers: set[tuple[str, int]] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            peers.add(self.client_address)
            time.sleep(0.05)  # every thread has a request in flight at once
            body = _json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threads = 16
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    try:
        reader = RangeReader.connect(f"http://127.0.0.1:{server.server_address[1]}", connections=threads)

        def work() -> None:
            for _ in range(5):
                reader.query_range("up", 6000.0, 6060.0, 60.0)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        server.shutdown()
    dropped = [r for r in caplog.records if "Connection pool is full" in r.getMessage()]
    assert peers and not dropped  # 80 requests, no connection opened only to be dropped
