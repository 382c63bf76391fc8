"""The replay's extender replicas: the per-connection balancer in front of them, their metrics merged into one
pass report, and the option's validation."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from augur.devcluster.balancer import TcpBalancer
from augur.devcluster.extender_metrics import PassReport, merge_reports
from augur.devcluster.replay_options import ReplayOptions


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        tag = self.server.tag  # type: ignore[attr-defined]
        while data := self.request.recv(1024):
            self.request.sendall(tag + data)


@contextmanager
def echo_server(tag: bytes) -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    server.tag = tag  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def ask(port: int, payloads: list[bytes]) -> list[bytes]:
    """Several requests over one connection."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        for payload in payloads:
            conn.sendall(payload)
            answers.append(conn.recv(1024))
    return answers


def test_each_connection_goes_to_the_next_backend_and_keeps_it() -> None:
    with echo_server(b"a:") as a, echo_server(b"b:") as b:
        balancer = TcpBalancer([("127.0.0.1", a), ("127.0.0.1", b)], first=1)
        port = balancer.start()
        try:
            assert ask(port, [b"x", b"y", b"z"]) == [b"b:x", b"b:y", b"b:z"]  # one connection, one backend
            assert ask(port, [b"x"]) == [b"a:x"]
            assert ask(port, [b"x"]) == [b"b:x"]
            assert balancer.connections == [1, 2]
            held = socket.create_connection(("127.0.0.1", port), timeout=5)  # open while the balancer stops
            assert ask(port, [b"x"]) == [b"b:x"]
        finally:
            balancer.stop()
        assert held.recv(1024) == b""  # closed by the stop, nothing left pending
        held.close()


def test_a_dead_backend_closes_the_connection() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = unused.getsockname()[1]
    balancer = TcpBalancer([("127.0.0.1", dead)])
    port = balancer.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"x")
            assert conn.recv(1024) == b""
    finally:
        balancer.stop()
    with pytest.raises(ValueError, match="at least one backend"):
        TcpBalancer([])


def test_replicas_reports_merge_into_one() -> None:
    a = PassReport(
        {"current": 10, "absent": 2},
        {"calls": 12, "mean": 1.0, "at_most": {"0": 4, "1": 12}},
        {"full": 1, "incremental": 3},
        {"planned": 6.0, "mean_wait_seconds": 2.0},
    )
    b = PassReport({"current": 1}, {"calls": 4, "mean": 3.0, "at_most": {"0": 0, "1": 1}}, {"full": 1}, {})
    c = PassReport({}, {}, {}, {"planned": 2.0, "deadline": 2.0, "mean_wait_seconds": 10.0})
    merged = merge_reports([a, b, c])
    assert merged.plan_use == {"current": 11, "absent": 2}
    assert merged.unseen_binds == {"calls": 16, "mean": 1.5, "at_most": {"0": 4, "1": 13}}
    assert merged.plans == {"full": 2, "incremental": 3}
    assert merged.gate == {"planned": 8.0, "deadline": 2.0, "mean_wait_seconds": 5.2}  # (6*2 + 4*10) / 10
    assert merge_reports([b]).gate == {} and merge_reports([c]).unseen_binds == {}


def test_replicas_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ReplayOptions(extender_replicas=0)
    assert ReplayOptions(extender_replicas=2).extender_replicas == 2
