"""The real descheduler (built by build-tools.sh) on the local control plane: one load-skew scenario,
LowNodeUtilization evicts through the Eviction API, the watcher sees no budget violated."""

from __future__ import annotations

import subprocess
from pathlib import Path

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.descheduler import DeschedulerRebalancer, PolicyOptions
from augur.devcluster.rebalance_run import MeasureOptions, ScenarioRun, measure
from augur.devcluster.rebalance_scenarios import RUN_LABEL, generate


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
