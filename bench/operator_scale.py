"""The operator at scale: N WorkloadProfiles with backfilled history at a 30 s cadence on the local
control plane, first on one replica, then sharded over two (``AUGUR_SHARD_SELECTOR``).

    .venv/bin/python bench/operator_scale.py [--profiles 1000] [--minutes 15] [--shard-minutes 8]
        [--shard-state cold|restore]

The two shards start cold by default (the saved state is deleted: each reads and fits its profiles again,
so its fit worker runs and is measured); ``restore`` starts them from what the single replica saved.

Every profile has its own demand series ``augur_bench_demand{profile=...}``: a daily shape with a
per-profile level and phase plus deterministic noise, backfilled with promtool for ``--history-hours``
and served live afterwards by an exporter in this process (the same function, so history and live data
join; ``bench/scale_workload.py``). Targets are ``BenchTarget`` custom resources with a ``/scale``
subresource (no pods: the bench measures the operator, not kwok). Policies run ``ForecastOnly``: every
cycle reads, forecasts and decides, only the final ``/scale`` write is skipped (server-side apply to a
custom resource's ``/scale`` is refused by the API server with a 500 "request to convert CR to an invalid
group/version: autoscaling/v1", so ``Auto`` on these targets would measure failing writes and kopf
retries instead).

Measured over a steady window that starts one cadence after every profile's history was read (warm-up,
reported separately):
- operator CPU (cores, process tree incl. fit workers), RSS (main process and tree) and PSS (tree; shared
  pages counted once, as a memory cgroup counts them),
- decision latency p50/p99 (``augur_decision_duration_seconds``, interpolated within buckets),
- cadences missed and cadence lag (``augur_cadence_missed_total``, ``augur_cadence_lag_seconds``); the
  cadences missed before the window (during warm-up, when first reads compete with running profiles) are
  reported beside them as ``cadences_missed_before_window``,
- refit backlog (``augur_refit_backlog``, sampled),
- Prometheus query load (range/instant queries per second and Prometheus CPU, from its own metrics).
Targets: one core or less, under 500 MiB, no cadence missed. Writes bench/results/operator_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write
from procstat import cpu_seconds, pss_mib, rss_mib, tree
from scale_workload import (
    BENCH_CRD,
    NAMESPACES,
    STEP_SECONDS,
    apply_all,
    backfill_history,
    manifests,
    name_of,
    profile_params,
    start_exporter,
)
from scrape import by_label, histogram_quantile, increase, parse, total

from augur.devcluster import prometheus
from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until

REPO = Path(__file__).resolve().parents[1]
CADENCE_SECONDS = 30.0
CPU_TARGET_CORES, RSS_TARGET_MIB = 1.0, 500.0


# -- measuring -----------------------------------------------------------------------------------------------
def _cluster_pids(cluster_dir: str) -> dict[str, list[int]]:
    """The local control plane's processes (their command lines name the cluster directory), by name."""
    out: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if cluster_dir in cmdline and "augur" not in comm and "python" not in comm:
            out.setdefault(comm, []).append(int(entry.name))
    return out


class Sampler:
    """Samples the operators' process trees and /metrics and Prometheus' own metrics every ``period``."""

    def __init__(
        self, ops: list[tuple[ManagedProcess, str]], prom_url: str, cluster_dir: str = "", period: float = 5.0
    ) -> None:
        self.ops, self.prom_url, self.period = ops, prom_url, period
        self.cluster = _cluster_pids(cluster_dir) if cluster_dir else {}
        """The control plane's processes, found once: their CPU share of the same window is reported too."""
        self.rows: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def snapshot(self) -> dict[str, Any]:
        row: dict[str, Any] = {"t": time.monotonic(), "ops": []}
        row["cluster"] = {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.cluster.items()}
        for proc, url in self.ops:
            pids = tree(proc.pid)
            try:
                samples = parse(httpx.get(url, timeout=10).text)
            except httpx.HTTPError:
                samples = {}
            row["ops"].append(
                {
                    "cpu": sum(cpu_seconds(p) for p in pids),
                    "cpu_main": cpu_seconds(proc.pid),
                    "rss_main": rss_mib(proc.pid),
                    "rss_tree": sum(rss_mib(p) for p in pids),
                    "pss_tree": sum(pss_mib(p) for p in pids),
                    "metrics": samples,
                }
            )
        try:
            row["prom"] = parse(httpx.get(f"{self.prom_url}/metrics", timeout=10).text)
        except httpx.HTTPError:
            row["prom"] = {}
        return row

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.rows.append(self.snapshot())
            self._stop.wait(self.period)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.rows.append(self.snapshot())


def summarize(rows: list[dict[str, Any]], profiles_per_op: list[int], interval: float) -> dict[str, Any]:
    first, last = rows[0], rows[-1]
    seconds = last["t"] - first["t"]
    per_op = []
    for k, n in enumerate(profiles_per_op):
        a, b = first["ops"][k], last["ops"][k]
        ma, mb = a["metrics"], b["metrics"]
        decisions = increase(ma, mb, "augur_decisions_total")
        backlog = [total(r["ops"][k]["metrics"], "augur_refit_backlog") for r in rows]
        per_op.append(
            {
                "profiles": n,
                "cpu_cores": round((b["cpu"] - a["cpu"]) / seconds, 3),
                "cpu_main_cores": round((b["cpu_main"] - a["cpu_main"]) / seconds, 3),
                "rss_main_mib_max": round(max(r["ops"][k]["rss_main"] for r in rows), 1),
                "rss_tree_mib_max": round(max(r["ops"][k]["rss_tree"] for r in rows), 1),
                "pss_tree_mib_max": round(max(r["ops"][k]["pss_tree"] for r in rows), 1),
                "decisions": int(decisions),
                "decisions_expected": int(n * seconds / interval),
                "decision_latency_p50_s": _round(histogram_quantile(ma, mb, "augur_decision_duration_seconds", 0.5)),
                "decision_latency_p99_s": _round(histogram_quantile(ma, mb, "augur_decision_duration_seconds", 0.99)),
                "reconcile_p50_s": _round(histogram_quantile(ma, mb, "augur_reconcile_duration_seconds", 0.5)),
                "reconcile_p99_s": _round(histogram_quantile(ma, mb, "augur_reconcile_duration_seconds", 0.99)),
                "reconciles_in_flight_max": max(
                    total(r["ops"][k]["metrics"], "augur_reconciles_in_flight") for r in rows
                ),
                "cadence_lag_p99_s": _round(histogram_quantile(ma, mb, "augur_cadence_lag_seconds", 0.99)),
                "cadences_missed": int(increase(ma, mb, "augur_cadence_missed_total")),
                "cadences_missed_before_window": int(total(ma, "augur_cadence_missed_total")),
                "refit_backlog_max": max(backlog),
                "refit_backlog_mean": round(float(np.mean(backlog)), 1),
                "fits": int(increase(ma, mb, "augur_fit_duration_seconds_count")),
                "fit_p50_s": _round(histogram_quantile(ma, mb, "augur_fit_duration_seconds", 0.5)),
                "scale_writes": int(increase(ma, mb, "augur_scale_writes_total")),
                "query_errors": int(increase(ma, mb, "augur_query_errors_total")),
                "query_errors_by_reason": by_label(ma, mb, "augur_query_errors_total", "reason"),
                "decisions_by_kind": by_label(ma, mb, "augur_decisions_total", "kind"),
                "status_writes_by_result": by_label(ma, mb, "augur_status_writes_total", "result"),
                "warmup_deferred": int(increase(ma, mb, "augur_warmup_deferred_total")),
            }
        )
    pa, pb = first["prom"], last["prom"]
    cluster_cpu = {
        name: round((last["cluster"][name] - first["cluster"].get(name, 0.0)) / seconds, 3)
        for name in sorted(last.get("cluster") or {})
    }

    def prom_rate(handler: str) -> float:
        key = "prometheus_http_requests_total"
        return round(increase(pa, pb, key, handler=handler) / seconds, 2)

    return {
        "window_seconds": round(seconds, 1),
        "operators": per_op,
        "control_plane_cpu_cores": cluster_cpu,
        "timeline": [timeline(rows, k) for k in range(len(profiles_per_op))],
        "prometheus": {
            "query_range_per_s": prom_rate("/api/v1/query_range"),
            "query_per_s": prom_rate("/api/v1/query"),
            "cpu_cores": round(increase(pa, pb, "process_cpu_seconds_total") / seconds, 3),
        },
    }


def timeline(rows: list[dict[str, Any]], k: int, minutes: float = 1.0) -> list[dict[str, Any]]:
    """Per ``minutes`` of the window, for operator ``k``: decisions, cadences missed, the most reconciles
    in flight at a sample, the refit backlog and the main process's RSS at the end of the minute."""
    out, start = [], rows[0]
    for row in rows[1:]:
        if row["t"] - start["t"] < minutes * 60 and row is not rows[-1]:
            continue
        a, b = start["ops"][k], row["ops"][k]
        span = [r["ops"][k]["metrics"] for r in rows if start["t"] <= r["t"] <= row["t"]]
        out.append(
            {
                "minute": round((row["t"] - rows[0]["t"]) / 60, 1),
                "decisions": int(increase(a["metrics"], b["metrics"], "augur_decisions_total")),
                "missed": int(increase(a["metrics"], b["metrics"], "augur_cadence_missed_total")),
                "in_flight_max": max((total(m, "augur_reconciles_in_flight") for m in span), default=0.0),
                "reconcile_p99_s": _round(
                    histogram_quantile(a["metrics"], b["metrics"], "augur_reconcile_duration_seconds", 0.99)
                ),
                "refit_backlog": total(b["metrics"], "augur_refit_backlog"),
                "rss_main_mib": round(b["rss_main"], 1),
            }
        )
        start = row
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def verdict(summary: dict[str, Any]) -> dict[str, bool]:
    ops = summary["operators"]
    return {
        "cpu_at_most_one_core": all(o["cpu_cores"] <= CPU_TARGET_CORES for o in ops),
        "rss_under_500_mib": all(o["rss_tree_mib_max"] < RSS_TARGET_MIB for o in ops),
        "pss_under_500_mib": all(o["pss_tree_mib_max"] < RSS_TARGET_MIB for o in ops),
        "no_cadence_missed": all(o["cadences_missed"] == 0 for o in ops),
    }


# -- running -------------------------------------------------------------------------------------------------
def _defaults() -> dict[str, Any]:
    """The operator's defaults in this checkout (``--operator-env`` overrides some)."""
    from augur.operator.settings import OperatorSettings

    d = OperatorSettings()
    return {
        "AUGUR_HANDLER_THREADS": d.handler_threads,
        "AUGUR_WARMUP_CONCURRENCY": d.warmup_concurrency,
        "AUGUR_STATUS_REFRESH_SECONDS": d.status_refresh_seconds,
        "AUGUR_STATE_SAVE_SECONDS": d.state_save_seconds,
        "AUGUR_FIT_NICE": d.fit_nice,
        "connections": d.connections,
    }


def start_operators(
    cluster: LocalCluster,
    kubeconfig: Path,
    selectors: list[str],
    workers: int,
    extra_env: dict[str, str],
    python: str = sys.executable,
) -> list[tuple[ManagedProcess, str]]:
    ops = []
    for k, selector in enumerate(selectors):
        health_port, metrics_port = free_ports(2)
        health, metrics = f"http://127.0.0.1:{health_port}/healthz", f"127.0.0.1:{metrics_port}"
        env = {
            "KUBECONFIG": str(kubeconfig),
            "AUGUR_PROMETHEUS_URL": cluster.prometheus_url,
            "AUGUR_METRICS": metrics,
            "AUGUR_LOG_FORMAT": "plain",
            "AUGUR_SHARD_SELECTOR": selector,
            "AUGUR_FIT_WORKERS": str(workers),
            **extra_env,
        }
        argv = [python, "-m", "augur", "operator", "run", f"--liveness={health}", "--resync-seconds=30"]
        proc = cluster.spawn(f"augur-operator-{len(selectors)}-{k}", argv, env=env)
        wait_until(lambda url=health: httpx.get(url, timeout=5).status_code == 200, 180, "operator liveness", proc)
        ops.append((proc, f"http://{metrics}/metrics"))
    return ops


def warm_up(ops: list[tuple[ManagedProcess, str]], profiles: list[int], timeout: float) -> tuple[float, bool]:
    """Seconds until every operator has read the history of all its profiles (``augur_profiles_learned``
    reaches its share, ``augur_warmup_queue`` is empty), and whether that happened within ``timeout``.
    The steady window starts one cadence later, when each of them has decided at least once."""
    started = time.monotonic()

    def done() -> bool:
        for (proc, url), n in zip(ops, profiles, strict=True):
            if not proc.running():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
            samples = parse(httpx.get(url, timeout=10).text)
            if total(samples, "augur_profiles_learned") < n or total(samples, "augur_warmup_queue") > 0:
                return False
        return True

    try:
        wait_until(done, timeout, "every profile's history read")
    except TimeoutError:
        return round(time.monotonic() - started, 1), False
    return round(time.monotonic() - started, 1), True


def sample_status(cluster: LocalCluster) -> dict[str, Any]:
    """Conditions and last decision of the first profile, to show what the operator reported."""
    out = cluster.kubectl("get", "wp", name_of(0), "-n", "bench-0", "-o", "json", check=False)
    if out.returncode != 0:
        return {}
    status = json.loads(out.stdout).get("status") or {}
    return {k: status.get(k) for k in ("conditions", "lastDecision", "desiredReplicas", "leadTimeSeconds")}


def api_requests(cluster: LocalCluster) -> dict[tuple[str, str, str], float]:
    """The API server's ``apiserver_request_total`` summed by verb, resource and code."""
    text = cluster.kubectl("get", "--raw", "/metrics", check=False).stdout
    counts: dict[tuple[str, str, str], float] = {}
    for (name, labels), value in parse(text).items():
        if name == "apiserver_request_total":
            verb, resource, code = (dict(labels).get(k, "") for k in ("verb", "resource", "code"))
            counts[verb, resource, code] = counts.get((verb, resource, code), 0.0) + value
    return counts


def api_request_rates(before: dict[tuple[str, str, str], float], after: dict[tuple[str, str, str], float],
                      seconds: float, top: int = 15) -> list[dict[str, Any]]:  # fmt: skip
    """The busiest ``verb resource code`` groups of the window, per second."""
    rates = [(k, (v - before.get(k, 0.0)) / seconds) for k, v in after.items()]
    rates = sorted((r for r in rates if r[1] > 0), key=lambda r: -r[1])[:top]
    return [{"verb": v, "resource": r, "code": c, "per_s": round(rate, 2)} for (v, r, c), rate in rates]


def phase(
    cluster: LocalCluster,
    kubeconfig: Path,
    selectors: list[str],
    profiles: list[int],
    minutes: float,
    workers: int,
    args_warmup_timeout: float = 360.0,
    extra_env: dict[str, str] | None = None,
    python: str = sys.executable,
) -> dict[str, Any]:
    ops = start_operators(cluster, kubeconfig, selectors, workers, extra_env or {}, python)
    try:
        warm, complete = warm_up(ops, profiles, timeout=args_warmup_timeout)
        time.sleep(CADENCE_SECONDS + 5)  # every profile decides once before the window opens
        sampler = Sampler(ops, cluster.prometheus_url, str(cluster.dir))
        requests_before, opened = api_requests(cluster), time.monotonic()
        sampler.start()
        time.sleep(minutes * 60)
        sampler.stop()
        requests = api_request_rates(requests_before, api_requests(cluster), time.monotonic() - opened)
        summary = summarize(sampler.rows, profiles, CADENCE_SECONDS)
        return {
            "selectors": selectors,
            "warm_up_seconds": warm,
            "warm_up_complete": complete,
            **summary,
            "api_requests_per_s": requests,
            "targets_met": verdict(summary),
            "sample_profile_status": sample_status(cluster),
        }
    finally:
        for proc, _ in ops:
            proc.stop(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=15.0, help="steady window, one replica")
    parser.add_argument("--shard-minutes", type=float, default=8.0, help="steady window, two shards (0: skip)")
    parser.add_argument(
        "--history-hours", type=float, default=72.0, help="demand backfilled, and the policies' spec.history"
    )
    parser.add_argument("--workers", type=int, default=1, help="AUGUR_FIT_WORKERS per operator")
    parser.add_argument("--warmup-minutes", type=float, default=10.0, help="longest wait for every first decision")
    parser.add_argument("--output", default="operator_scale.json", help="file name under bench/results")
    parser.add_argument(
        "--operator-python",
        default=sys.executable,
        help="interpreter of the operator: a venv with `pip install .` only (what the image installs) measures "
        "the operator without the dev extras (statsforecast pulls in pyarrow, which pandas then imports)",
    )
    parser.add_argument(
        "--operator-env", action="append", default=[], metavar="NAME=VALUE", help="extra operator setting"
    )
    parser.add_argument("--workdir", default=None, help="keep the cluster directory (logs) here")
    parser.add_argument(
        "--shard-state",
        choices=("restore", "cold"),
        default="cold",
        help="sharded phase: restore what the single replica saved (no fit is due, so no fit worker starts), "
        "or start cold (saved state deleted: every profile is read and fitted again, as on a first install)",
    )
    args = parser.parse_args()
    if args.history_hours * 3600 < 2 * STEP_SECONDS:
        parser.error(f"--history-hours must cover at least two demand steps ({2 * STEP_SECONDS / 3600:g} h)")
    extra_env = dict(item.split("=", 1) for item in args.operator_env)
    host = machine()
    levels, phases = profile_params(args.profiles)
    result: dict[str, Any] = {
        "benchmark": "operator_scale",
        "machine": host,
        "config": {
            "profiles": args.profiles,
            "cadence_seconds": 30,
            "demand_step_seconds": STEP_SECONDS,
            "history_hours": args.history_hours,
            "fit_workers_per_operator": args.workers,
            "namespaces": NAMESPACES,
            "targets": "BenchTarget custom resources with /scale (no pods), mode ForecastOnly",
            "steady_minutes_single": args.minutes,
            "steady_minutes_sharded": args.shard_minutes,
            "sharded_start": args.shard_state,
            "warm_up_cap_minutes": args.warmup_minutes,
            "operator_settings": _defaults(),
            "operator_env": extra_env,
            "operator_python": args.operator_python,
        },
        **code_version(),
    }
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="augur-opscale-"))
    with LocalCluster.create(workdir, ClusterConfig(nodes=())) as cluster:
        cluster.kubectl("apply", "-f", str(REPO / "crds"))
        cluster.kubectl("apply", "-f", str(REPO / "deploy" / "rbac.yaml"))
        cluster.kubectl("apply", "-f", "-", stdin=BENCH_CRD)
        cluster.wait_established("crd", "benchtargets.bench.augur.dev")
        result["backfill_seconds"] = round(backfill_history(cluster, levels, phases, args.history_hours), 1)
        server, address = start_exporter(levels, phases)
        prometheus.add_target(cluster.prometheus_dir, "bench", address)
        created = time.monotonic()
        apply_all(cluster, manifests(args.profiles, args.history_hours))
        result["create_seconds"] = round(time.monotonic() - created, 1)
        kubeconfig = cluster.service_account_kubeconfig("augur-system", "augur-operator", hours=8)
        print(f"{args.profiles} profiles created; one replica for {args.minutes} min", flush=True)
        warmup = args.warmup_minutes * 60
        result["single"] = phase(
            cluster, kubeconfig, [""], [args.profiles], args.minutes, args.workers, warmup, extra_env,
            args.operator_python,
        )  # fmt: skip
        print(result["single"], flush=True)
        write(args.output, result)  # partial results, in case the sharded phase does not finish
        if args.shard_minutes > 0:
            half = [len(range(k, args.profiles, 2)) for k in (0, 1)]
            selectors = ["augur.dev/shard=0", "augur.dev/shard=1"]
            if args.shard_state == "cold":
                for ns in range(NAMESPACES):
                    cluster.kubectl(
                        "delete", "configmap", "-n", f"bench-{ns}", "-l", "app.kubernetes.io/managed-by=augur", "--wait"
                    )
            result["sharded"] = phase(
                cluster, kubeconfig, selectors, half, args.shard_minutes, args.workers, warmup, extra_env,
                args.operator_python,
            )  # fmt: skip
            print(result["sharded"], flush=True)
        server.shutdown()
    result["load_average_at_end"] = list(os.getloadavg())
    print(write(args.output, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
