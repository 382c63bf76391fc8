"""Network cost of the shipped configuration (kube-scheduler's default plugins plus Augur's extender with its
background plan, as simulated by ``augur placement simulate``), kube-scheduler alone and the best placement
found offline, on generated scenarios of several shapes from 20 to 200 pods, each in three node orders
(facts.md section 5). Writes bench/results/placement_quality.json.

Seed sets, kept apart (``--set``; the JSON says which role its set had):

- ``tune`` (seeds 100-102, family ``chain`` only): where the scoring defaults and the extender weight were
  checked and chosen.
- ``report`` (seeds 0-2, families chain, fanin, groups): development. The search's node swaps and kicks, and
  later the planner's restarts, were developed looking at these.
- ``dev2`` (seeds 10-13): development too, generated while adding the planner's restarts to check that a
  change helps beyond seeds 0-2.
- ``holdout`` (seeds 3-5): generated after the node swaps and kicks; held out then, and its misses were
  looked at (by scenario shape, never by tuning on them) to find the failure modes the restarts address,
  so it is no longer untouched.
- ``fresh`` (seeds 20-25): held out; no choice was made looking at it.

``--planner-seeds`` runs the shipped configuration with several plan seeds (the plan's ``seed``), in every
node order, and reports the spread.

Usage: .venv/bin/python bench/placement_quality.py [--set report|tune|holdout|dev2|fresh] [--sizes 20,50,100,200]
       [--families chain,fanin,groups] [--orders 3] [--rounds 100] [--extender-weight 5] [--scoring JSON]
       [--planner-seeds 0,1,2] [--rename-orders] [--seeds ...] [--out NAME.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, ratio_to_best, write
from placement_scenarios import FAMILIES
from placement_scenarios import chain as _chain
from placement_scenarios import generate as generate_family

from augur.placement import ScoringConfig
from augur.sim.placement import KubeModel, parse_scenario, simulate
from augur.sim.placement.metrics import node_distances
from augur.sim.placement.runs import simulate_deployed
from augur.sim.placement.simulate import reordered

SETS = {
    "tune": {"families": ("chain",), "seeds": (100, 101, 102)},
    "report": {"families": FAMILIES, "seeds": (0, 1, 2)},
    "holdout": {"families": FAMILIES, "seeds": (3, 4, 5)},
    "dev2": {"families": FAMILIES, "seeds": (10, 11, 12, 13)},
    "fresh": {"families": FAMILIES, "seeds": (20, 21, 22, 23, 24, 25)},
}
ROLES = {
    "tune": "tuning (scoring defaults, extender weight)",
    "report": "development (search and planner changes were made looking at it)",
    "dev2": "development (generated to check the planner's restarts beyond seeds 0-2)",
    "holdout": "held out until the planner's restarts; its misses were then looked at for diagnosis (not tuned on)",
    "fresh": "held out: no choice was made looking at it",
}
ROWS = ("augur", "augur_no_plan", "augur_alone", "default")


def generate(pods: int, seed: int) -> dict[str, Any]:
    """The ``chain`` family (kept for callers of the earlier benchmark)."""
    return _chain(pods, seed)


def run_one(
    raw: dict[str, Any],
    orders: int,
    rounds: int,
    model: KubeModel,
    rename: bool = False,
    planner_seeds: tuple[int, ...] = (),
) -> dict[str, Any]:
    """One scenario: the report of ``simulate`` (the scenario's planner seed), then the shipped configuration
    again in every node order with each of ``planner_seeds`` (the plan's ``seed``); ``best`` is the lowest cost
    found by the offline search or by any of these runs."""
    sc = parse_scenario(raw)
    no_plan = ScoringConfig.from_dict({**(raw.get("scoring") or {}), "plan": {"weight": 0}})
    start, cpu = time.perf_counter(), time.process_time()
    report = simulate(
        sc, search_rounds=rounds, variants={"augur_no_plan": no_plan}, model=model, orders=orders - 1, rename=rename
    )
    best = report["best"]["network_cost"]
    per_order = [{name: report[name]["network_cost"] for name in ("augur", "augur_alone", "default")}]
    per_order += report.get("orders", [])
    by_seed = {sc.scoring.plan.seed: [o["augur"] for o in per_order]}
    distances = node_distances(sc)
    for seed in (s for s in planner_seeds if s not in by_seed):
        scoring = replace(sc.scoring, plan=replace(sc.scoring.plan, seed=seed))
        variants = [(sc, None), *reordered(sc, orders - 1, rename)]
        costs = []
        for s, back in variants:
            outcome = simulate_deployed(replace(s, scoring=scoring), model)
            if back is not None:
                outcome = replace(outcome, assignment={pod: back[n] for pod, n in outcome.assignment.items()})
            costs.append(outcome.report(sc, distances)["network_cost"])
        by_seed[seed] = costs
    found = min((c for costs in by_seed.values() for c in costs), default=best)
    best_from_offline = found >= best - 1e-9
    best = min(best, found)
    row: dict[str, Any] = {
        "nodes": len(raw["nodes"]),
        "workloads": len(raw["workloads"]),
        "best_cost": best,
        "best_exact": report["best"]["exact"],
        "best_from_offline_search": best_from_offline,
        **{f"{k}_cost": report[k]["network_cost"] for k in ROWS},
        **{f"{k}_load_stddev": report[k]["load_stddev"] for k in (*ROWS, "best")},
        **{f"{k}_unplaced": report[k]["unplaced"] for k in (*ROWS, "best")},
    }
    for name in ("augur", "augur_alone", "default"):
        ratios = [ratio_to_best(o[name], best) for o in per_order]
        row[f"{name}_vs_best_by_order"] = ratios
        row[f"{name}_vs_best_worst"] = max((r for r in ratios if r is not None), default=None)
    row["augur_no_plan_vs_best"] = ratio_to_best(report["augur_no_plan"]["network_cost"], best)
    row["augur_vs_best_by_planner_seed"] = {str(k): [ratio_to_best(c, best) for c in v] for k, v in by_seed.items()}
    every = [r for v in row["augur_vs_best_by_planner_seed"].values() for r in v if r is not None]
    row["augur_vs_best_worst_any_seed"] = max(every, default=None)
    row["augur_vs_best_median_any_seed"] = round(statistics.median(every), 4) if every else None
    row["seconds"] = round(time.perf_counter() - start, 2)
    row["cpu_seconds"] = round(time.process_time() - cpu, 2)
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counted = [r for r in rows if r["best_cost"] > 0]

    def med(key: str) -> float | None:
        values = [r[key] for r in counted if r[key] is not None]
        return round(statistics.median(values), 4) if values else None

    def spread(name: str) -> float:
        return max(
            (max(r[f"{name}_vs_best_by_order"]) - min(r[f"{name}_vs_best_by_order"]) for r in counted), default=0
        )

    seeded = [r for r in counted if r.get("augur_vs_best_worst_any_seed") is not None]
    runs = [x for r in seeded for v in r["augur_vs_best_by_planner_seed"].values() for x in v if x is not None]
    return {
        "scenarios": len(rows),
        "scenarios_with_cost": len(counted),
        "augur_within_10pct_in_every_order": sum(1 for r in counted if r["augur_vs_best_worst"] <= 1.10),
        "augur_within_10pct_in_every_order_and_planner_seed": sum(
            1 for r in seeded if r["augur_vs_best_worst_any_seed"] <= 1.10
        ),
        "augur_runs_within_10pct": f"{sum(1 for x in runs if x <= 1.10)} of {len(runs)}",
        "worst_augur_vs_best_any_planner_seed": max((r["augur_vs_best_worst_any_seed"] for r in seeded), default=None),
        "largest_spread_across_planner_seeds": round(
            max((r["augur_vs_best_worst_any_seed"] - _min_seed(r) for r in seeded), default=0.0), 4
        ),
        "default_at_least_1_5x_in_every_order": sum(1 for r in counted if min(r["default_vs_best_by_order"]) >= 1.5),
        "median_augur_vs_best": med("augur_vs_best_worst"),
        "worst_augur_vs_best": max((r["augur_vs_best_worst"] for r in counted), default=None),
        "median_augur_no_plan_vs_best": med("augur_no_plan_vs_best"),
        "median_augur_alone_vs_best": med("augur_alone_vs_best_worst"),
        "median_default_vs_best": med("default_vs_best_worst"),
        "largest_spread_across_orders": {n: round(spread(n), 4) for n in ("augur", "augur_alone", "default")},
        "best_exact": sum(1 for r in rows if r["best_exact"]),
        "cpu_seconds": round(sum(r.get("cpu_seconds", 0.0) for r in rows), 1),
    }


def merged_header(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts' common fields; ``seeds`` is every part's seeds (the scenarios' own seeds), and a field
    the parts disagree on (another commit, ``code_modified``) lists each part's value."""
    skip = ("rows", "summary", "machine", "complete", "parts")
    header: dict[str, Any] = {}
    for key in [k for k in results[0] if k not in skip]:
        values = [r.get(key) for r in results]
        header[key] = values[0] if all(v == values[0] for v in values) else values
    header["seeds"] = ",".join(str(s) for s in sorted({r["seed"] for res in results for r in res["rows"]}))
    return header


def merge(parts: list[str], out: str) -> int:
    """One result from parts run separately (same set and settings): rows concatenated, summary recomputed,
    each part's machine, load and completeness kept."""
    results = [json.loads((Path(__file__).resolve().parent / "results" / p).read_text()) for p in parts]
    rows = [r for res in results for r in res["rows"]]
    merged = merged_header(results)
    merged.update(
        complete=all(r["complete"] for r in results),
        parts=[
            {"file": p, "complete": r["complete"], "scenarios": len(r["rows"]), "machine": r["machine"]}
            for p, r in zip(parts, results, strict=True)
        ],
        summary=summarize(rows),
        rows=rows,
        machine=machine(),
    )
    merged["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(json.dumps(merged["summary"], indent=2))
    write(out, merged)
    return 0


def _min_seed(row: dict[str, Any]) -> float:
    return min(x for v in row["augur_vs_best_by_planner_seed"].values() for x in v if x is not None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=sorted(SETS), default="report")
    ap.add_argument("--sizes", default="20,50,100,200")
    ap.add_argument("--families", default=None, help="comma-separated (default: the set's)")
    ap.add_argument("--seeds", default=None, help="comma-separated (default: the set's)")
    ap.add_argument("--orders", type=int, default=3, help="node orders per scenario (the listed one + shuffles)")
    ap.add_argument("--rounds", type=int, default=100, help="local-search kicks for the offline best")
    ap.add_argument("--extender-weight", type=int, default=KubeModel().extender_weight)
    ap.add_argument("--scoring", default=None, help="JSON scoring config (default: the extender's defaults)")
    ap.add_argument("--out", default=None, help="result file name in bench/results (default: by set)")
    ap.add_argument(
        "--rename-orders",
        action="store_true",
        help="the shuffled orders also rename the nodes by position (node-0000, ...), as the replay does",
    )
    ap.add_argument(
        "--planner-seeds", default="0", help="comma-separated plan seeds the shipped configuration runs with"
    )
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--merge",
        default=None,
        help="comma-separated result files in bench/results (one set, run in parts, e.g. one per size): write "
        "their rows as one result (--out) with the summary recomputed, and run nothing",
    )
    args = ap.parse_args()
    if args.merge:
        return merge(args.merge.split(","), args.out or f"placement_quality_{args.set}.json")
    chosen = SETS[args.set]
    families = args.families.split(",") if args.families else list(chosen["families"])
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(chosen["seeds"])
    scoring = json.loads(args.scoring) if args.scoring else None
    model = KubeModel(extender_weight=args.extender_weight)
    planner_seeds = tuple(int(s) for s in args.planner_seeds.split(","))
    info = machine()
    rows: list[dict[str, Any]] = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for family in families:
            for seed in seeds:
                raw = generate_family(family, size, seed)
                if scoring is not None:
                    raw["scoring"] = scoring
                row = {
                    "family": family,
                    "pods": size,
                    "seed": seed,
                    **run_one(raw, args.orders, args.rounds, model, args.rename_orders, planner_seeds),
                }
                rows.append(row)
                print(
                    json.dumps({k: v for k, v in row.items() if "load" not in k and "unplaced" not in k}),
                    file=sys.stderr,
                )
                if not args.no_write:  # partial results survive an interrupted run
                    _write(args, rows, scoring, model, info, complete=False)
    if not args.no_write:
        _write(args, rows, scoring, model, info, complete=True)
    print(json.dumps(summarize(rows), indent=2))
    return 0


def _write(
    args: argparse.Namespace,
    rows: list[dict[str, Any]],
    scoring: dict[str, Any] | None,
    model: KubeModel,
    info: dict[str, Any],
    complete: bool,
) -> dict[str, Any]:
    result = {
        "benchmark": "placement_quality",
        "complete": complete,
        "set": args.set,
        "sets": {k: {"families": list(v["families"]), "seeds": list(v["seeds"])} for k, v in SETS.items()},
        "definition": (
            "facts.md section 5. augur = the shipped configuration as simulated: kube-scheduler's default score "
            "plugins (v1.36 weights) + the extender's 0..10 score x weight x 10, the extender's default scoring "
            "with the background plan, seeded random ties; augur_no_plan = the same with the plan weight 0; "
            "augur_alone = Augur's total alone; default = kube-scheduler without the extender; best = exhaustive or "
            "MILP when proven (exact=true), else the shared local search with annealing started from every "
            "simulated placement (exact=false), or the lowest cost of any as-deployed run with another planner "
            "seed when lower (best_from_offline_search=false). Ratios per node order (the listed one plus seeded "
            "shuffles; with "
            "orders_renamed the shuffled nodes are also renamed by position, as the replay names them)."
        ),
        "orders_renamed": args.rename_orders,
        "seeds": args.seeds or "the set's",
        "planner_seeds": args.planner_seeds,
        "role": ROLES.get(args.set, ""),
        "extender_weight": model.extender_weight,
        "scoring": scoring or "the extender's defaults (ScoringConfig())",
        "targets": {"augur_vs_best": 1.10, "default_vs_best": 1.5},
        "summary": summarize(rows),
        "rows": rows,
        "machine": info,
        **code_version(),
    }
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(json.dumps(result["summary"], indent=2))
    if not args.no_write:
        write(
            args.out or ("placement_quality.json" if args.set == "report" else f"placement_quality_{args.set}.json"),
            result,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
