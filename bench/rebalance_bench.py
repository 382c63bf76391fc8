"""Rebalancing on the local control plane: the real descheduler (v0.36.0, built from the Go module proxy)
and Augur's rebalancer on the same generated scenarios, before and after.

Scenarios (``augur.devcluster.rebalance_scenarios``): ``load`` (all pods started on 3 of 8 kwok nodes),
``mixed`` (the same with pods of 0.1-1 core), ``network`` (chatty front/back-end pairs split across two
regions, load already even) and ``usage`` (requests even, CPU use skewed onto 3 nodes), several seeds.
Each rebalancer gets a fresh copy of the scenario (new nodes, new namespace) on one cluster. A watcher
records pods, PodDisruptionBudgets and Deployments through the whole run. Figures per run
(``augur.sim.rebalance_metrics``): node-load standard deviation and network cost before and after (the
simulator's functions), evictions, availability violations, ping-pong moves, time to converge (last pod
event after the start; a run ends after ``--quiet`` seconds without one, or at ``--max-seconds``).

The descheduler runs its documented example policy: ``LowNodeUtilization`` with thresholds 20 % and
target thresholds 50 % (cpu, memory, pods) and ``RemovePodsViolatingTopologySpreadConstraint`` (hard and
soft constraints), every ``--interval`` seconds. Seeds: development 100-102 (choices made on them),
held out 200-202 (run once, after every choice; ``SEED_ROLES``); 0-2 were the held-out seeds of earlier
rounds and have been looked at since; ``usage`` was first tried on 100 (to get its harness working; no
rebalancer setting was changed after it) and reported on 200-202. ``balance_bound_by_evictions`` is a
lower bound on the balance any rebalancer can reach with k evictions from the same start (the targets
compare with it).

``usage`` is measured on CPU use, read by both rebalancers from the real Prometheus: the cluster runs one,
scraping ``augur.devcluster.usage_exporter`` (cAdvisor's and kube-state-metrics' series, made up from the
scenario's per-pod use as pods come and go); a run starts once Prometheus shows every node's use. The
descheduler's ``LowNodeUtilization`` then reads ``usage_exporter.DESCHEDULER_QUERY`` (its Prometheus
``metricsUtilization``; thresholds 20 % and 50 % of a node used), Augur's policy ``load.source:
Prometheus`` with its default queries and settle time. Both use the same 2-minute ``rate()`` window. The
operator gets the Prometheus URL only when ``usage`` is among the families; run ``usage`` on its own.

Every new pod is Ready 1-2 s after it is bound (``--pod-ready-delay``; kwok's own default is
instantaneous, no real pod starts that fast).

Augur runs as ``augur operator run`` with a ``RebalancePolicy`` in mode ``Auto`` scoped to the run, every
default but ``schedulingInterval`` (``--augur-interval``, 5 s). Results and targets: docs/migration.md,
"Compared with the descheduler".

Usage: .venv/bin/python bench/rebalance_bench.py [--families load,network,mixed] [--seeds 200,201,202]
       [--rebalancers descheduler,augur] [--interval 5] [--quiet 50] [--max-seconds 300] [--out rebalance.json]
       ``descheduler:SECONDS`` among the rebalancers runs the descheduler at that interval too (its own row;
       the targets pair Augur with ``descheduler``)
       .venv/bin/python bench/rebalance_bench.py --rescore bench/results/rebalance.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write

from augur.devcluster.augur_rebalancer import AugurRebalancer, start_operator
from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.descheduler import DeschedulerRebalancer, PolicyOptions, PrometheusSource
from augur.devcluster.rebalance_run import MeasureOptions, Rebalancer, ScenarioRun, measure
from augur.devcluster.rebalance_scenarios import RUN_LABEL, RebalanceScenario, generate
from augur.devcluster.replay_kube import KubeSession
from augur.devcluster.tools import Tools
from augur.devcluster.usage_exporter import DESCHEDULER_QUERY, measure_on_use
from augur.sim.rebalance_metrics import bound_fields, evictions_to_reach, placement_pairs, summarize

DESCHEDULER_VERSION = "v0.36.0"
DEVELOPMENT, HELD_OUT = {"100", "101", "102"}, {"200", "201", "202"}
SEED_ROLES = {
    "development": "100, 101, 102: the rebalancer's choices were made on these (limits, directional cool-down, "
    "target tier and network waiver on 100 in an earlier round; in this round network moves waiting for "
    "load moves and the canonical tie-break, checked on 100-102 with the pure rebalancer and on the cluster)",
    "held_out": "200, 201, 202: first run after every choice was made; nothing was changed after it",
    "earlier_report": "0, 1, 2: the held-out report seeds of earlier rounds; their results were seen before this "
    "round's changes, so they are no longer held out",
}


def seed_role(seeds: str) -> str:
    chosen = set(seeds.split(","))
    if chosen <= DEVELOPMENT:
        return "development"
    if chosen <= HELD_OUT:
        return "held out"
    return "mixed (see the keys below)"


FIGURES = (
    "before.load_stddev",
    "after.load_stddev",
    "before.network_cost",
    "after.network_cost",
    "load_stddev_change",
    "network_cost_change",
    "evictions",
    "pod_deletions",
    "churn_pods",
    "availability_violations",
    "ping_pong",
    "converge_seconds",
)


def make_rebalancer(
    kind: str, run: ScenarioRun, cluster: LocalCluster, work: Path, args: argparse.Namespace
) -> Rebalancer:
    measured = bool(run.rs.usage)
    base, every = parse_rebalancer(kind)
    if base == "descheduler":
        interval = every or args.interval
        source = PrometheusSource(cluster.prometheus_url, DESCHEDULER_QUERY) if measured else None
        options = PolicyOptions(
            node_selector=f"{RUN_LABEL}={run.names.run}", namespaces=(run.names.namespace,), prometheus=source
        )
        ca = cluster.pki.ca.cert if cluster.pki is not None else None
        descheduler = DeschedulerRebalancer(cluster.tools, cluster.kubeconfig, work, options, interval, ca)
        descheduler.name = kind
        return descheduler
    load = {"load": {"source": "Prometheus"}} if measured else {}
    return AugurRebalancer(run, {"schedulingInterval": args.augur_interval, **load, **json.loads(args.augur_policy)})


def parse_rebalancer(kind: str) -> tuple[str, float | None]:
    """``descheduler``, ``descheduler:SECONDS`` (its own interval, > 0) or ``augur`` as ``(name, seconds)``;
    anything else ends the benchmark with a one-line error before any cluster starts."""
    base, colon, every = kind.partition(":")
    if base == "descheduler" and colon:
        try:
            seconds = float(every)
        except ValueError:
            seconds = 0.0
        if not seconds > 0 or seconds == float("inf"):
            raise SystemExit(f"rebalancer {kind!r}: SECONDS in descheduler:SECONDS must be a positive number")
        return base, seconds
    if kind in ("descheduler", "augur"):
        return kind, None
    raise SystemExit(f"unknown rebalancer {kind!r}: descheduler, descheduler:SECONDS or augur")


def compare(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per family and rebalancer: the spread over seeds of every figure."""
    out: dict[str, Any] = {}
    for family in sorted({r["family"] for r in rows}):
        for kind in sorted({r["rebalancer"] for r in rows}):
            sel = [r for r in rows if r["family"] == family and r["rebalancer"] == kind]
            if sel:
                out[f"{family}/{kind}"] = {key: summarize(sel, key) for key in FIGURES}
    return out


def targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, paired by scenario and seed (Augur against the descheduler on the same seed)."""
    pairs = []
    for r in rows:
        if r["rebalancer"] != "augur":
            continue
        d = next(
            (
                x
                for x in rows
                if x["rebalancer"] == "descheduler" and (x["family"], x["seed"]) == (r["family"], r["seed"])
            ),
            None,
        )
        if d is not None:
            pairs.append((r, d))
    out: dict[str, Any] = {}
    for family in sorted({r["family"] for r, _ in pairs}):
        sel = [(a, d) for a, d in pairs if a["family"] == family]
        out[family] = {
            "balance_at_least_as_good": _count(
                a["after"]["load_stddev"] <= d["after"]["load_stddev"] + 1e-9 for a, d in sel
            ),
            "evictions_at_most_half": _count(a["evictions"] <= 0.5 * d["evictions"] for a, d in sel),
            "pod_deletions_at_most_half_of_evictions": _count(
                a["pod_deletions"] <= 0.5 * d["evictions"] for a, d in sel
            ),
            "balance_of_the_descheduler_with_at_most_half_its_evictions": _count(_half(a, d) for a, d in sel),
            "evictions_to_match_the_descheduler_balance": {
                str(a["seed"]): {"augur": _to_match(a, d), "descheduler": d["evictions"]} for a, d in sel
            },
            "half_the_descheduler_evictions_can_reach_its_balance": _count(
                (k := _bound_to_match(d, d)) is not None and k <= 0.5 * d["evictions"] for _, d in sel
            ),
            "at_half_the_descheduler_evictions": {str(a["seed"]): _at_half(a, d) for a, d in sel},
            "network_cost_down_30pct": _count(
                a["network_cost_change"] is not None and a["network_cost_change"] <= -0.3 for a, _ in sel
            ),
            "zero_availability_violations": _count(a["availability_violations"] == 0 for a, _ in sel),
            "no_ping_pong": _count(a["ping_pong"] == 0 for a, _ in sel),
        }
    return out


def _to_match(a: dict[str, Any], d: dict[str, Any]) -> int | None:
    """Evictions Augur needed to reach the descheduler's final balance on the same seed."""
    if "balance_by_evictions" not in a:
        return None
    return evictions_to_reach(a["balance_by_evictions"], d["after"]["load_stddev"])


def _bound_to_match(start: dict[str, Any], d: dict[str, Any]) -> int | None:
    """Fewest evictions with which *any* rebalancer could reach the descheduler's final balance from the
    placement ``start``'s run began with (its ``balance_bound_by_evictions``, the curve of ``augur.sim.
    rebalance_metrics.balance_bound``; each rebalancer's copy of a scenario is placed by the real scheduler)."""
    bound = start.get("balance_bound_by_evictions")
    return None if not bound else evictions_to_reach(bound, d["after"]["load_stddev"])


def _at_half(a: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """Balance reached with half the descheduler's evictions (rounded down): Augur's, the bound's, and the
    fewest evictions the bound allows for the descheduler's balance."""
    k = int(d["evictions"] // 2)
    curve, bound = a.get("balance_by_evictions") or [], a.get("balance_bound_by_evictions") or []
    return {
        "evictions": k,
        "augur_load_stddev": min(curve[: k + 1]) if curve else None,
        "bound_load_stddev": bound[k] if k < len(bound) else None,
        "descheduler_load_stddev": d["after"]["load_stddev"],
        "fewest_evictions_possible_for_the_descheduler_balance": {
            "from_augur_start": _bound_to_match(a, d),
            "from_descheduler_start": _bound_to_match(d, d),
        },
    }


def _half(a: dict[str, Any], d: dict[str, Any]) -> bool:
    k = _to_match(a, d)
    return k is not None and k <= 0.5 * d["evictions"]


def _count(flags: Any) -> str:
    values = list(flags)
    return f"{sum(values)} of {len(values)}"


def rebound(row: dict[str, Any]) -> None:
    """Recompute a row's ``balance_bound_by_evictions`` and ``balance_bound_kind`` from its recorded start
    (``placement_before``, in rows written since it was recorded), after a change of the bound."""
    start = row.get("placement_before")
    if start:
        row.update(bound_fields(generate(row["family"], row["seed"]).measured, placement_pairs(start)))


def rescore(path: Path) -> int:
    """Recompute the summary and targets of a results file from its rows (after a change of summaries),
    and each row's bound where the row records its start."""
    result = json.loads(path.read_text())
    for row in result["rows"]:
        rebound(row)
    result["summary"], result["targets"] = compare(result["rows"]), targets(result["rows"])
    print(json.dumps(result["targets"], indent=2))
    print(f"-> {write(path.name, result)}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="load,network")
    ap.add_argument("--seeds", default="200,201,202")
    ap.add_argument("--rebalancers", default="descheduler,augur")
    ap.add_argument("--interval", type=float, default=5.0, help="descheduling interval, seconds")
    ap.add_argument("--augur-interval", default="5s", help="RebalancePolicy schedulingInterval (default 30s)")
    ap.add_argument("--augur-policy", default="{}", help="more RebalancePolicy spec fields (JSON), e.g. limits")
    ap.add_argument("--pod-ready-delay", default="1,2", help="kwok: pods Ready LOW..HIGH s after binding")
    ap.add_argument("--quiet", type=float, default=50.0)
    ap.add_argument("--min-seconds", type=float, default=20.0)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--out", default="rebalance.json")
    ap.add_argument("--workdir", default="", help="keep logs here (default: a temporary directory)")
    ap.add_argument("--rescore", default="", help="only recompute summary and targets of this results file")
    args = ap.parse_args()
    if args.rescore:
        return rescore(Path(args.rescore))
    for kind in args.rebalancers.split(","):
        parse_rebalancer(kind)
    started = machine()
    t0 = time.monotonic()
    rows: list[dict[str, Any]] = []
    opts = MeasureOptions(quiet=args.quiet, min_seconds=args.min_seconds, max_seconds=args.max_seconds)
    with tempfile.TemporaryDirectory(prefix="rebalance-bench-") as tmp:
        base = Path(args.workdir or tmp)
        low, high = (float(x) for x in args.pod_ready_delay.split(","))
        measured = "usage" in args.families.split(",")
        config = ClusterConfig(nodes=(), prometheus=measured, pod_ready_delay=(low, high))
        with LocalCluster.create(base / "cluster", config) as cluster:
            tools: Tools = cluster.tools
            if "augur" in args.rebalancers.split(","):
                KubeSession(cluster.kubeconfig).ensure_crds()
                start_operator(cluster, prometheus=measured)
            for family in args.families.split(","):
                for seed in [int(s) for s in args.seeds.split(",")]:
                    rs = generate(family, seed)
                    for kind in args.rebalancers.split(","):
                        with ScenarioRun(rs, cluster.kubeconfig) as run:
                            work = base / f"{rs.name}-{kind.replace(':', '-')}"
                            row = run_one(run, cluster, make_rebalancer(kind, run, cluster, work, args), opts)
                        row.update(family=family, seed=seed, scenario=_describe(rs))
                        rows.append(row)
                        print(
                            json.dumps({k: v for k, v in row.items() if k != "rebalancer_report"}),
                            file=sys.stderr,
                            flush=True,
                        )
    result = {
        "benchmark": "rebalance",
        "definition": "bench/rebalance_bench.py docstring; figures from augur.sim.rebalance_metrics",
        "machine": {**started, "load_average_at_end": list(os.getloadavg())},
        **code_version(),
        "descheduler": {"version": DESCHEDULER_VERSION, "built": "from the Go module proxy (build-tools.sh)"},
        "control_plane": {"kubernetes": tools.bin_dir.parent.name, "nodes": "kwok"},
        "seeds": {"report": args.seeds, "role": seed_role(args.seeds), **SEED_ROLES},
        "settings": {
            k: getattr(args, k)
            for k in (
                "interval",
                "augur_interval",
                "augur_policy",
                "pod_ready_delay",
                "quiet",
                "min_seconds",
                "max_seconds",
            )
        },
        "seconds": round(time.monotonic() - t0, 1),
        "summary": compare(rows),
        "targets": targets(rows),
        "rows": rows,
    }
    print(json.dumps(result["summary"], indent=2))
    print(f"-> {write(args.out, result)}")
    return 0


def run_one(run: ScenarioRun, cluster: LocalCluster, rebalancer: Rebalancer, opts: MeasureOptions) -> dict[str, Any]:
    """:func:`measure`; for a scenario measured on use, with its exporter running from before the start
    (once Prometheus shows every node's use) to the end."""
    if not run.rs.usage:
        return measure(run, rebalancer, opts)
    return measure_on_use(run, rebalancer, opts, cluster.prometheus_dir, cluster.prometheus_url)


def _describe(rs: RebalanceScenario) -> dict[str, Any]:
    sc = rs.scenario
    return {
        "nodes": len(sc.nodes),
        "workloads": len(sc.workloads),
        "pods": sum(w.replicas for w in sc.workloads),
        "cpu_requested": round(sum(w.replicas * w.cpu for w in sc.workloads), 2),
        "cpu_used": round(sum(w.replicas * w.cpu for w in rs.measured.workloads), 2),
        "cpu_allocatable": round(sum(n.cpu for n in sc.nodes), 2),
        "initial_nodes": [list(p.nodes) for p in rs.phases],
        "zone_spread": rs.spread,
    }


if __name__ == "__main__":
    sys.exit(main())
