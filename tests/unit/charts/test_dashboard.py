"""The Grafana dashboard is generated (hack/dashboard.py), fresh, and names only metrics the code defines."""

from __future__ import annotations

import json
import subprocess
import sys

from prometheus_client import REGISTRY, generate_latest

import augur.operator.metrics  # noqa: F401  (registers the operator's metrics in the default registry)
from augur_extender.metrics import Metrics
from tests.observability import DASHBOARD, ROOT, exposed, referenced


def test_committed_dashboard_matches_its_generator() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "dashboard.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_dashboard_is_valid_grafana_json_with_unique_ids() -> None:
    board = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    titles = {p["title"] for p in board["panels"] if p["type"] == "row"}
    assert {"Operator health", "Scheduler extender"} <= titles
    variables = {v["name"] for v in board["templating"]["list"]}
    assert {"datasource", "namespace", "profile"} <= variables


def test_every_referenced_metric_is_defined_by_the_code() -> None:
    """Offline version of the e2e scrape: the metric definitions themselves, rendered by prometheus-client."""
    operator_text = generate_latest(REGISTRY).decode()
    extender = Metrics()
    extender_text = generate_latest(extender.registry).decode()
    process = {"up", "process_cpu_seconds_total", "process_resident_memory_bytes"}
    missing_operator = referenced("augur-operator") - exposed(operator_text) - process
    missing_extender = referenced("augur-extender") - exposed(extender_text) - {"up"}
    assert not missing_operator, f"dashboard/rules name operator metrics the code does not define: {missing_operator}"
    assert not missing_extender, f"dashboard/rules name extender metrics the code does not define: {missing_extender}"
