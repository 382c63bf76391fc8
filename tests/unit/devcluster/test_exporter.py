"""The loopback exporter that e2e tests have Prometheus scrape."""

from __future__ import annotations

import httpx

from augur.devcluster.exporter import LoopbackExporter


def test_serves_its_current_text_in_prometheus_format() -> None:
    exporter = LoopbackExporter("# TYPE x gauge\nx 1\n")
    try:
        first = httpx.get(f"http://{exporter.address}/metrics", timeout=5)
        assert first.status_code == 200 and first.text == "# TYPE x gauge\nx 1\n"
        assert first.headers["content-type"] == "text/plain; version=0.0.4"
        exporter.text = "x 2\n"
        assert httpx.get(f"http://{exporter.address}/", timeout=5).text == "x 2\n"
    finally:
        exporter.close()
