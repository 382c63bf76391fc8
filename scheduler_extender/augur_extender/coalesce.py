"""One write per response: the HTTP protocol the extender serves with (uvicorn's httptools protocol, its
writes coalesced).

uvicorn writes a response in two system calls: the status line and headers when the app sends
``http.response.start``, the body when it sends ``http.response.body``. kube-scheduler waits for each
``filter`` and ``prioritize`` reply inside its scheduling cycle, so each reply is on its critical path, and the
first write wakes its reader for headers alone. On a saturated machine the extender's thread may then wait
for a core before it writes the body, and with uvloop it holds the GIL through each write (profiled with
``py-spy --gil`` during the 1,000-pod burst of ``bench/scheduler_throughput.py``, 2026-12-07: uvicorn's two
writes held the GIL about as long as the ``prioritize`` decisions themselves).

:class:`CoalescedWrites` holds what is written during one turn of the event loop and writes it at the end of
that turn as one buffer, so a reply the app sends in one step (as the verbs do) leaves in one system call.
Nothing is held longer than the current turn, the order of writes is kept, and ``close`` and
``write_eof`` write what is held first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescedWrites(asyncio.Transport):
    """A transport that passes everything to ``transport`` except writes, which it joins until the end of the
    event loop's current turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport, self._loop = transport, loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview[Any]) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Write what is held (the loop calls this at the end of the turn in which it was written)."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through :class:`CoalescedWrites` (``uvicorn.run(..., http=...)``)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescedWrites(transport, self.loop))
