"""A TCP balancer on loopback that hands each new connection to the next backend, as a Service does through
kube-proxy: per connection, not per request, so a client that keeps its connection open (kube-scheduler's
extender client does) talks to one backend until it reconnects. TLS passes through untouched.

Runs an asyncio loop on a daemon thread; :meth:`TcpBalancer.connections` counts what each backend was given.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence


class TcpBalancer:
    def __init__(self, backends: Sequence[tuple[str, int]], first: int = 0) -> None:
        """``first``: index of the backend the first connection goes to (then round-robin)."""
        if not backends:
            raise ValueError("a balancer needs at least one backend")
        self.backends = list(backends)
        self.connections = [0] * len(self.backends)
        self._next = first % len(self.backends)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-balancer", daemon=True)
        self.port = 0

    def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop)
        self._server = future.result(timeout=10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def stop(self) -> None:
        """Close the listener and every connection, then the loop."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self._next
        self._next = (self._next + 1) % len(self.backends)
        self.connections[index] += 1
        host, port = self.backends[index]
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:  # the backend is down: the client sees the connection closed, as with a dead endpoint
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except asyncio.CancelledError:  # stopping: the connection ends with the balancer, not an error
            pass
        finally:
            for end in (writer, up_writer):
                end.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()
