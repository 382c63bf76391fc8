"""The usage exporter's counters and text (pure parts; the exporter itself runs in the benchmark)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from augur.api.v1alpha1.rebalancepolicy import DEFAULT_NODE_QUERY, DEFAULT_POD_QUERY
from augur.devcluster.usage_exporter import DESCHEDULER_QUERY, advance, render


def test_counters_grow_by_use_and_follow_the_pods() -> None:
    a, b = ("ns", "a", "n1"), ("ns", "b", "n2")
    counters = advance({}, {a: 0.5, b: 2.0}, 2.0)
    assert counters == {a: 1.0, b: 4.0}
    # b moved: its old series is gone, the replacement starts from zero on the new node
    moved = ("ns", "b2", "n1")
    counters = advance(counters, {a: 0.5, moved: 2.0}, 1.0)
    assert counters == {a: pytest.approx(1.5), moved: pytest.approx(2.0)}


def test_text_is_cadvisor_and_kube_state_metrics_series() -> None:
    text = render({("ns", "a", "n1"): 1.25, ("kube-system", "usage-agent-n1", "n1"): 0.5}, {"n1": 4.0})
    lines = text.splitlines()
    assert lines[0] == "# TYPE container_cpu_usage_seconds_total counter"
    assert 'container_cpu_usage_seconds_total{namespace="ns",pod="a",container="app",node="n1"} 1.250' in lines
    assert any('pod="usage-agent-n1",container="agent"' in line for line in lines)
    assert 'kube_node_status_allocatable{node="n1",resource="cpu"} 4' in lines
    assert text.endswith("\n")


def test_descheduler_query_is_a_fraction_per_instance_over_the_default_window() -> None:
    assert DESCHEDULER_QUERY.startswith("sum by (instance)") and "[2m]" in DESCHEDULER_QUERY
    assert DESCHEDULER_QUERY.count('"instance", "$1", "node"') == 2


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (make setup installs prometheus)")
def test_both_rebalancers_queries_read_the_exported_series(tmp_path: Path) -> None:
    """Prometheus's own evaluator (``promtool test rules``) on the exporter's series scraped every 15 s (uses
    chosen exact in binary floating point): the descheduler's query gives the fraction of each node used
    (idle nodes too, through their agent), Augur's default node and pod queries the cores."""
    scrape = 15.0
    uses = {("ns", "a", "n1"): 1.5, ("ns", "b", "n1"): 0.5, ("kube-system", "usage-agent-n2", "n2"): 0.0625}
    counters: dict[tuple[str, str, str], float] = {}
    samples: dict[str, list[str]] = {}
    for _ in range(20):
        counters = advance(counters, uses, scrape)
        for line in render(counters, {"n1": 4.0, "n2": 4.0}).splitlines():
            if not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                samples.setdefault(series, []).append(value)
    test = {
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [{"series": s, "values": " ".join(v)} for s, v in samples.items()],
                "promql_expr_test": [
                    {
                        "eval_time": "4m",
                        "expr": DESCHEDULER_QUERY,
                        "exp_samples": [
                            {"labels": '{instance="n1"}', "value": 0.5},
                            {"labels": '{instance="n2"}', "value": 0.015625},
                        ],
                    },
                    {
                        "eval_time": "4m",
                        "expr": DEFAULT_NODE_QUERY,
                        "exp_samples": [
                            {"labels": '{node="n1"}', "value": 2.0},
                            {"labels": '{node="n2"}', "value": 0.0625},
                        ],
                    },
                    {
                        "eval_time": "4m",
                        "expr": DEFAULT_POD_QUERY,
                        "exp_samples": [
                            {"labels": '{namespace="ns",pod="a"}', "value": 1.5},
                            {"labels": '{namespace="ns",pod="b"}', "value": 0.5},
                            {"labels": '{namespace="kube-system",pod="usage-agent-n2"}', "value": 0.0625},
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "usage.test.yaml"
    path.write_text(yaml.safe_dump(test))
    done = subprocess.run(
        [str(PROMTOOL), "test", "rules", str(path)], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
