"""The real descheduler (built by build-tools.sh) on the local control plane: one load-skew scenario,
LowNodeUtilization evicts through the Eviction API, the watcher sees no budget violated; and one scenario
measured on use, where it reads each node's use from the cluster's real Prometheus as the rebalance
benchmark's ``usage`` family has it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.descheduler import DeschedulerRebalancer, PolicyOptions, PrometheusSource, evictions_in_log
from augur.devcluster.rebalance_run import MeasureOptions, ScenarioRun, measure
from augur.devcluster.rebalance_scenarios import RUN_LABEL, generate
from augur.devcluster.usage_exporter import DESCHEDULER_QUERY, measure_on_use
from augur.sim.placement import Scenario, node_loads
from augur.sim.rebalance_metrics import counts, placement_pairs


def test_descheduler_binary_is_the_pinned_version(cluster: LocalCluster) -> None:
    out = subprocess.run([cluster.tools.descheduler, "version"], capture_output=True, text=True, timeout=30, check=True)
    assert "v0.36.0" in out.stdout + out.stderr


def test_descheduler_evaluates_load_skew_without_breaking_budgets(cluster: LocalCluster, tmp_path: Path) -> None:
    rs = generate("load", 0)
    with ScenarioRun(rs, cluster.kubeconfig, augur_objects=False) as run:
        options = PolicyOptions(node_selector=f"{RUN_LABEL}={run.names.run}", namespaces=(run.names.namespace,))
        rebalancer = DeschedulerRebalancer(cluster.tools, cluster.kubeconfig, tmp_path, options, interval=3)
        row = measure(run, rebalancer, MeasureOptions(quiet=12, min_seconds=10, max_seconds=90))
    report = row["rebalancer_report"]
    assert report["exited_early"] is None, Path(report["log"]).read_text()[-3000:]
    # every pod the watcher saw deleted is one the descheduler says it evicted, and there were some
    assert row["evictions"] > 0
    assert row["evictions"] == report["evictions_in_log"]
    assert row["pod_deletions"] == row["evictions"] and row["churn_pods"] == 0  # nothing deleted but evictions
    assert set(report["by_strategy"]) <= {"LowNodeUtilization", "RemovePodsViolatingTopologySpreadConstraint"}
    assert row["after"]["load_stddev"] < row["before"]["load_stddev"]
    assert row["after"]["max_node_load"] <= 0.5 + 1e-9 or row["after"]["max_node_load"] < row["before"]["max_node_load"]
    assert row["availability_violations"] == 0, row["violation_episodes"]
    assert row["after"]["pods"] == row["before"]["pods"]


def _node_fractions(sc: Scenario, table: dict[str, dict[str, int]]) -> dict[str, float]:
    """Fraction of each scenario node's CPU that ``sc``'s workloads take in a recorded placement table."""
    loads = node_loads(sc, counts(sc, placement_pairs(table)))
    return dict(zip(sc.table.names, loads.tolist(), strict=True))


def test_descheduler_reads_use_from_prometheus(cluster: LocalCluster, tmp_path: Path) -> None:
    """Requests even, use skewed: by requests no node is underused (every node is above the 20 % threshold),
    so whatever LowNodeUtilization evicts, it evicts because Prometheus shows a node above 50 % used and
    another under 20 %; the first pod it evicts for utilization comes from a node that used more than 50 % at
    the start (later ones may come from nodes that replacements made busy)."""
    assert cluster.pki is not None
    rs = generate("usage", 0)
    with ScenarioRun(rs, cluster.kubeconfig, augur_objects=False) as run:
        source = PrometheusSource(cluster.prometheus_url, DESCHEDULER_QUERY)
        options = PolicyOptions(
            node_selector=f"{RUN_LABEL}={run.names.run}", namespaces=(run.names.namespace,), prometheus=source
        )
        rebalancer = DeschedulerRebalancer(
            cluster.tools, cluster.kubeconfig, tmp_path, options, interval=10, ca=cluster.pki.ca.cert
        )
        opts = MeasureOptions(quiet=15, min_seconds=10, max_seconds=40)
        row = measure_on_use(run, rebalancer, opts, cluster.prometheus_dir, cluster.prometheus_url)
        log = Path(row["rebalancer_report"]["log"]).read_text()
        evicted_from = [
            run.names.scenario_node(e.node) for e in evictions_in_log(log) if e.strategy == "LowNodeUtilization"
        ]
    report = row["rebalancer_report"]
    assert report["exited_early"] is None, log[-3000:]
    requested = _node_fractions(rs.scenario, row["placement_before"])
    used = _node_fractions(rs.measured, row["placement_before"])
    assert min(requested.values()) > 0.20, requested  # by requests, nothing to move pods to
    assert min(used.values()) < 0.20 and max(used.values()) > 0.50, used
    assert row["evictions"] > 0 and row["evictions"] == report["evictions_in_log"]
    assert set(report["by_strategy"]) <= {"LowNodeUtilization", "RemovePodsViolatingTopologySpreadConstraint"}
    assert evicted_from and used[evicted_from[0]] > 0.50, (evicted_from, used)
    assert row["pod_deletions"] == row["evictions"] and row["churn_pods"] == 0
    assert row["availability_violations"] == 0, row["violation_episodes"]
    assert row["exporter_errors"] == 0
