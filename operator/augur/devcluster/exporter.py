"""A Prometheus exporter on a loopback port, scraped by the local cluster's Prometheus: how e2e tests put
numbers of their choosing (zone latency, CPU use) into the real Prometheus."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from augur.devcluster import prometheus

if TYPE_CHECKING:
    from augur.devcluster.cluster import LocalCluster


class LoopbackExporter:
    """Serves :attr:`text` (Prometheus text format; it may be changed while it runs) on 127.0.0.1 at a
    free port, from a daemon thread, until :meth:`close`."""

    def __init__(self, text: str = "# EOF\n") -> None:
        self.text = text
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def scraped_exporter(cluster: LocalCluster, job: str, text: str = "# EOF\n") -> Iterator[LoopbackExporter]:
    """A :class:`LoopbackExporter` that ``cluster``'s Prometheus scrapes as ``job=<job>``; closed on exit."""
    exporter = LoopbackExporter(text)
    try:
        prometheus.add_target(cluster.prometheus_dir, job, exporter.address)
        yield exporter
    finally:
        exporter.close()
