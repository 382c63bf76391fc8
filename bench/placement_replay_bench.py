"""Network cost on the real kube-scheduler: generated scenarios replayed with ``augur placement replay``'s
machinery (kwok nodes, the shipped extender entry and the extender with its defaults, one pod at a time),
with the extender (``augur``) and without it (``default``), in three node orders each (the scenario's,
reversed, seeded shuffle), against the best placement found offline. Also records the simulator's
prediction for the same scenario (``augur placement simulate``'s ``augur`` and ``default`` rows) so the
replay can be compared with it, and the simulator's prediction in each node order with the nodes named as
the replay names them (``simulated_by_order``). Writes bench/results/placement_replay.json.

Scenarios come from bench/placement_scenarios.py (the ``report`` seeds, never the ``tune`` ones).

``--planner-process-too`` adds, in each node order, a pass of the extender with ``--planner-process`` (its
planner's search in a child process), reported as ``augur_process`` beside ``augur`` (the shipped thread):
the two in the same run, on the same scenarios and cluster. Rule, written down before its first run (seed
62, never run; ``groups,fanin`` at 20-200 pods; session 38): together with ``bench/replay_burst.py --compare
planner_process`` (seed 61) passing its rule, the child becomes the shipped default only if here
``augur_process`` is within 10 % of the best in every order on at least as many scenarios as ``augur`` and
the geometric mean over scenarios of (its worst order's ratio ÷ ``augur``'s) is at most 1.02.

Usage: .venv/bin/python bench/placement_replay_bench.py [--sizes 20,50,100,200] [--families chain]
       [--seed 0] [--orders scenario,reversed,shuffled] [--default-orders 3] [--rounds 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, ratio_to_best, write
from placement_scenarios import generate

from augur.cli.placement_replay import node_order
from augur.devcluster.placement_replay import SHIPPED_EXTENDER, ReplayOptions, ReplaySession, replay_cluster
from augur.placement.components.plan import PlanArgs
from augur.sim.placement import Outcome, find_best, node_distances, parse_scenario, simulate, simulate_deployed

TARGET_AUGUR, TARGET_DEFAULT = 1.10, 1.5


def predicted_by_order(raw: dict[str, Any], orders: list[str]) -> dict[str, float]:
    """The simulator's as-deployed cost in each node order, with the nodes named as the replay names them
    (``replay-<run>-<k>-<name>``, ``k`` the position in the order): renaming permutes the node table's
    canonical (sorted) positions, which the planner's search starts from."""
    out: dict[str, float] = {}
    for how in orders:
        order = node_order(len(raw["nodes"]), how, int(raw.get("seed", 0)))
        nodes = [dict(n) for n in raw["nodes"]]
        rename = {nodes[i]["name"]: f"replay-000000-{k:04d}-{nodes[i]['name']}" for k, i in enumerate(order)}
        for n in nodes:
            n["name"] = rename[n["name"]]
        sc = parse_scenario({**raw, "nodes": nodes})
        out[how] = round(simulate_deployed(sc).report(sc, node_distances(sc))["network_cost"], 6)
    return out


def run_scenario(
    raw: dict[str, Any],
    kubeconfig: Path,
    work: Path,
    tools: Any,
    orders: list[str],
    default_orders: int,
    rounds: int,
    plan_timeout: float = ReplayOptions.plan_timeout,
    extra: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """``extra``: more extender passes in each order, name -> the extender's extra flags."""
    sc = parse_scenario(raw)
    started = time.monotonic()
    predicted = simulate(sc, search_rounds=rounds)
    sim_seconds = time.monotonic() - started
    runs: list[dict[str, Any]] = []
    outcomes: list[Outcome] = []
    for k, how in enumerate(orders):
        variants = ("augur", "default") if k < default_orders else ("augur",)
        order = node_order(len(sc.nodes), how, sc.seed)
        options = ReplayOptions(variants=variants, node_order=order, plan_timeout=plan_timeout)
        t = time.monotonic()
        with ReplaySession(sc, kubeconfig, work, tools, options, lambda m: print(m, file=sys.stderr)) as s:
            got = {v: s.run_pass(v) for v in variants}
        for name, flags in (extra or {}).items():
            more = ReplayOptions(variants=("augur",), node_order=order, plan_timeout=plan_timeout, extender_args=flags)
            with ReplaySession(sc, kubeconfig, work, tools, more, lambda m: print(m, file=sys.stderr)) as s:
                got[name] = s.run_pass("augur")
        outcomes += got.values()
        runs.append({"order": how, "seconds": round(time.monotonic() - t, 1), "outcomes": got})
    distances = node_distances(sc)
    best_sim = Outcome(predicted["best"]["assignment"], predicted["best"]["unplaced"])
    best, exact = find_best(sc, [best_sim, *outcomes], distances, rounds)
    best_report = best.report(sc, distances)
    if best_report["network_cost"] > predicted["best"]["network_cost"]:
        best_report, exact = predicted["best"], predicted["best"]["exact"]
    best_cost = best_report["network_cost"]
    row: dict[str, Any] = {
        "pods": sum(w.replicas for w in sc.workloads),
        "nodes": len(sc.nodes),
        "workloads": len(sc.workloads),
        "best_cost": best_cost,
        "best_exact": exact,
        "simulated": {name: predicted[name]["network_cost"] for name in ("augur", "augur_alone", "default")},
        "simulation_seconds": round(sim_seconds, 1),
        "simulated_by_order": predicted_by_order(raw, orders),
        "orders": [],
    }
    for run in runs:
        entry: dict[str, Any] = {"order": run["order"], "seconds": run["seconds"]}
        for variant, outcome in run["outcomes"].items():
            report = outcome.report(sc, distances)
            entry[variant] = {
                "cost": report["network_cost"],
                "vs_best": ratio_to_best(report["network_cost"], best_cost),
                "unplaced": report["unplaced"],
                "load_stddev": report["load_stddev"],
            }
        row["orders"].append(entry)
    for variant in ("augur", "default", *(extra or {})):
        ratios = [o[variant]["vs_best"] for o in row["orders"] if variant in o and o[variant]["vs_best"] is not None]
        row[f"{variant}_vs_best_worst"] = max(ratios, default=None)
        row[f"{variant}_vs_best_best"] = min(ratios, default=None)
    sim = ratio_to_best(row["simulated"]["augur"], best_cost)
    row["simulated_augur_vs_best"] = sim
    return row


def summarize(rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    counted = [r for r in rows if r["best_cost"] > 0]
    default_ok = [
        r for r in counted if r["default_vs_best_best"] is not None and r["default_vs_best_best"] >= TARGET_DEFAULT
    ]
    out: dict[str, Any] = {"scenarios": len(rows)}
    for name in ("augur", *extra):
        worst = [r[f"{name}_vs_best_worst"] for r in counted if r[f"{name}_vs_best_worst"] is not None]
        ok = [w for w in worst if w <= TARGET_AUGUR]
        out[f"{name}_within_10pct_in_every_order"] = f"{len(ok)} of {len(counted)}"
        out[f"{name}_vs_best_worst_order"] = {
            "median": statistics.median(worst) if worst else None,
            "max": max(worst, default=None),
        }
    out["default_at_least_1_5x_in_every_order"] = f"{len(default_ok)} of {len(counted)}"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20,50,100,200")
    ap.add_argument("--families", default="chain")
    ap.add_argument("--seed", type=int, default=0, help="report-set seed of the generated scenarios")
    ap.add_argument("--orders", default="scenario,reversed,shuffled")
    ap.add_argument("--default-orders", type=int, default=3, help="node orders that also run without the extender")
    ap.add_argument("--rounds", type=int, default=100, help="local-search kicks of the offline best")
    ap.add_argument(
        "--plan-timeout",
        type=float,
        default=ReplayOptions.plan_timeout,
        help="seconds each pod waits at its gate for a plan slot before it goes on without one",
    )
    ap.add_argument(
        "--planner-process-too",
        action="store_true",
        help="also an extender pass with --planner-process in each order (augur_process)",
    )
    ap.add_argument("--out", default="placement_replay.json")
    args = ap.parse_args()
    extra = {"augur_process": ("--planner-process",)} if args.planner_process_too else {}
    started = machine()
    rows = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="replay-bench-") as tmp, replay_cluster(None, Path(tmp)) as (kc, tools):
        for family in args.families.split(","):
            for size in [int(s) for s in args.sizes.split(",")]:
                raw = generate(family, size, args.seed)
                orders = args.orders.split(",")
                row = run_scenario(
                    raw, kc, Path(tmp), tools, orders, args.default_orders, args.rounds, args.plan_timeout, extra
                )
                row.update(family=family, seed=args.seed)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    result = {
        "benchmark": "placement_replay",
        "definition": "facts.md section 5; pods placed one at a time by the real kube-scheduler v1.36.3, kwok nodes",
        "machine": {**started, "load_average_at_end": list(os.getloadavg())},
        "extender": {
            "entry": SHIPPED_EXTENDER,
            "scoring": "the extender's defaults (background plan on)",
            "plan": asdict(PlanArgs()),
            "plan_timeout_seconds": args.plan_timeout,
            "extra_passes": {name: list(flags) for name, flags in extra.items()},
        },
        **code_version(),
        "targets": {"augur_vs_best": f"<= {TARGET_AUGUR} in each order", "default_vs_best": f">= {TARGET_DEFAULT}"},
        "seconds": round(time.monotonic() - t0, 1),
        "summary": summarize(rows, tuple(extra)),
        "rows": rows,
    }
    print(json.dumps(result["summary"], indent=2))
    print(f"-> {write(args.out, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
