"""The extender's HTTP protocol: a response's writes leave as one, nothing is held past the loop's turn, and
HTTP still works end to end (keep-alive, HEAD, ``Expect: 100-continue``) through uvicorn."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from augur.devcluster.ports import free_port
from augur_extender.coalesce import CoalescedWrites, CoalescingHttpToolsProtocol


class Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = self.eof = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def test_writes_of_one_turn_leave_as_one_in_order() -> None:
    async def run() -> tuple[list[bytes], list[bytes], int]:
        real = Recorder()
        t = CoalescedWrites(real, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(b"")
        t.writelines([b"[1,", bytearray(b"2]")])
        during = list(real.writes)
        held = t.get_write_buffer_size()
        await asyncio.sleep(0)  # the end of the turn
        return during, real.writes, held

    during, after, held = asyncio.run(run())
    assert during == []
    assert held == len(b"HTTP/1.1 200 OK\r\n\r\n[1,2]")
    assert after == [b"HTTP/1.1 200 OK\r\n\r\n[1,2]"]


def test_close_and_eof_write_what_is_held_first_abort_drops_it() -> None:
    async def run() -> tuple[Recorder, Recorder, Recorder]:
        loop = asyncio.get_running_loop()
        closed, eof, aborted = Recorder(), Recorder(), Recorder()
        for real, end in ((closed, "close"), (eof, "write_eof"), (aborted, "abort")):
            t = CoalescedWrites(real, loop)
            t.write(b"reply")
            getattr(t, end)()
        await asyncio.sleep(0)  # the scheduled flush finds nothing more to write
        return closed, eof, aborted

    closed, eof, aborted = asyncio.run(run())
    assert (closed.writes, closed.closed) == ([b"reply"], True)
    assert (eof.writes, eof.eof) == ([b"reply"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


def test_nothing_is_written_to_a_closing_transport() -> None:
    async def run() -> Recorder:
        real = Recorder()
        t = CoalescedWrites(real, asyncio.get_running_loop())
        t.write(b"late")
        real.closed = True  # the peer went away within the turn
        await asyncio.sleep(0)
        return real

    assert asyncio.run(run()).writes == []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    reply = b"echo:" + body
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(reply))]})
    await send({"type": "http.response.body", "body": reply})


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=CoalescingHttpToolsProtocol, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield port
    srv.should_exit = True
    thread.join(timeout=5)


def test_http_through_uvicorn_keep_alive_head_and_continue(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[bytes] = []
    flush = CoalescedWrites.flush

    def recorded(self: CoalescedWrites) -> None:
        written.extend(self._held[:1] and [b"".join(self._held)])
        flush(self)

    monkeypatch.setattr(CoalescedWrites, "flush", recorded)
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    for i in range(3):  # one connection, kept alive
        conn.request("POST", "/prioritize", body=b"x" * (i * 20_000))
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"echo:" + b"x" * (i * 20_000))
    conn.request("HEAD", "/")
    resp = conn.getresponse()
    assert (resp.status, resp.getheader("content-length"), resp.read()) == (200, "5", b"")
    conn.request("POST", "/filter", body=b"{}", headers={"Expect": "100-continue"})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"echo:{}")
    conn.close()
    # One write per response, status line and body together. The client sent its body without waiting for
    # "100 Continue", so uvicorn's interim reply and the response were written in the same turn: one write.
    assert len(written) == 5
    assert all(w.startswith(b"HTTP/1.1 200 OK") and b"\r\n\r\n" in w for w in written[:4])
    assert written[2].endswith(b"echo:" + b"x" * 40_000)
    assert written[4].startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK") and written[4].endswith(b"echo:{}")
