"""A real Prometheus server (Debian's ``prometheus`` package) scraping loopback targets.

Scrape targets are read from ``file_sd/*.json`` in the cluster directory, so tests and the operator
can register loopback endpoints without restarting Prometheus. ``promtool`` is used for backfilling.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

SCRAPE_INTERVAL = "5s"
SCRAPE_INTERVAL_SECONDS = 5.0
RETENTION = "60d"
"""``--storage.tsdb.retention.time``: longer than any history the tests, demo and benchmarks backfill."""
RETENTION_SECONDS = 60 * 86400.0


class PrometheusMissingError(RuntimeError):
    """Prometheus is not installed; ``hack/setup.sh`` installs it."""


def binaries() -> tuple[str, str]:
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    if not prom or not tool:
        raise PrometheusMissingError(
            "prometheus/promtool not found on PATH; run hack/setup.sh (installs Debian's prometheus package)"
        )
    return prom, tool


def write_config(directory: Path, self_address: str, apiserver: str, pki_dir: Path) -> Path:
    """Write ``prometheus.yml`` scraping Prometheus itself, the API server and every file_sd target."""
    (directory / "file_sd").mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [self_address]}]},
            {
                "job_name": "kube-apiserver",
                "scheme": "https",
                "tls_config": {
                    "ca_file": str(pki_dir / "ca.crt"),
                    "cert_file": str(pki_dir / "admin.crt"),
                    "key_file": str(pki_dir / "admin.key"),
                },
                "static_configs": [{"targets": [apiserver]}],
            },
            {
                "job_name": "loopback",
                "file_sd_configs": [{"files": [str(directory / "file_sd" / "*.json")], "refresh_interval": "5s"}],
            },
        ],
    }
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def add_target(directory: Path, name: str, address: str, labels: dict[str, str] | None = None) -> Path:
    """Register ``address`` (host:port on 127.0.0.1) for scraping under ``job=<name>``."""
    if not address.startswith(("127.", "localhost:", "[::1]:")):
        raise ValueError(f"only loopback targets are allowed, got {address!r}")
    path = directory / "file_sd" / f"{name}.json"
    path.write_text(json.dumps([{"targets": [address], "labels": {"job": name, **(labels or {})}}]))
    return path
