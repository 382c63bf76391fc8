"""Network cost of Augur, kube-scheduler's default and the best placement found offline, on generated
scenarios of 20 to 200 pods (facts.md section 5). Writes bench/results/placement_quality.json.

Usage: .venv/bin/python bench/placement_quality.py [--sizes 20,50,100,200] [--seeds 3] [--rounds 150]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine

from augur.placement import ScoringConfig
from augur.sim.placement import parse_scenario, simulate

OUT = Path(__file__).parent / "results" / "placement_quality.json"
PLANNING: dict[str, Any] = {"plan": {"weight": 30, "annealSteps": 100_000}}
"""The simulator's scoring: the extender's defaults plus the pending-pod plan (off in the extender)."""
ZONES = (("east-a", "east"), ("east-b", "east"), ("west-a", "west"))


def generate(pods: int, seed: int) -> dict[str, Any]:
    """Microservice chains: each workload talks to 1-2 later ones; nodes sized for ~60% CPU use."""
    rng = np.random.default_rng(seed)
    workloads: list[dict[str, Any]] = []
    left = pods
    while left > 0:
        replicas = int(min(left, rng.integers(2, 7)))
        workloads.append(
            {
                "name": f"svc{len(workloads)}",
                "replicas": replicas,
                "cpu": float(rng.choice([0.25, 0.5, 1.0])),
                "memory": float(rng.choice([0.5, 1.0, 2.0])),
            }
        )
        left -= replicas
    for i, w in enumerate(workloads[:-1]):
        targets = rng.choice(range(i + 1, len(workloads)), size=min(2, len(workloads) - i - 1), replace=False)
        w["talksTo"] = {workloads[int(t)]["name"]: float(rng.integers(10, 101)) for t in targets[: rng.integers(1, 3)]}
    total_cpu = sum(w["cpu"] * w["replicas"] for w in workloads)
    n_nodes = max(3, int(np.ceil(total_cpu / (8 * 0.6))))
    nodes = [
        {"name": f"n{i}", "zone": ZONES[i % 3][0], "region": ZONES[i % 3][1], "cpu": 8, "memory": 32}
        for i in range(n_nodes)
    ]
    return {
        "nodes": nodes,
        "distances": {
            "sameNode": 0,
            "sameZone": 10,
            "sameRegion": 40,
            "crossRegion": 100,
            "zones": {"east-a|east-b": 20},
        },
        "workloads": workloads,
        "seed": seed,
    }


def run(sizes: list[int], seeds: int, rounds: int, scoring: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        for seed in range(seeds):
            raw = generate(size, seed)
            raw["scoring"] = scoring if scoring is not None else PLANNING
            start = time.perf_counter()
            report = simulate(parse_scenario(raw), search_rounds=rounds, variants={"augur_defaults": ScoringConfig()})
            best = report["best"]["network_cost"]
            names = ("augur", "augur_defaults", "default", "best")
            rows.append(
                {
                    "pods": size,
                    "seed": seed,
                    "nodes": len(raw["nodes"]),
                    "workloads": len(raw["workloads"]),
                    **{f"{k}_cost": report[k]["network_cost"] for k in names},
                    **{f"{k}_load_stddev": report[k]["load_stddev"] for k in names},
                    **{f"{k}_unplaced": report[k]["unplaced"] for k in names},
                    "best_exact": report["best"]["exact"],
                    "augur_vs_best": _ratio(report["augur"]["network_cost"], best),
                    "augur_defaults_vs_best": _ratio(report["augur_defaults"]["network_cost"], best),
                    "default_vs_best": _ratio(report["default"]["network_cost"], best),
                    "seconds": round(time.perf_counter() - start, 2),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def _ratio(cost: float, best: float) -> float | None:
    return None if best <= 0 else round(cost / best, 4)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    target = [r for r in rows if r["default_vs_best"] is not None and r["default_vs_best"] >= 1.5]

    def within(key: str) -> int:
        return sum(1 for r in target if r[key] is not None and r[key] <= 1.10)

    return {
        "scenarios": len(rows),
        "target_scenarios": len(target),
        "augur_within_10pct_of_best": within("augur_vs_best"),
        "augur_defaults_within_10pct_of_best": within("augur_defaults_vs_best"),
        "median_augur_vs_best": statistics.median(r["augur_vs_best"] for r in rows if r["augur_vs_best"]),
        "median_augur_defaults_vs_best": statistics.median(
            r["augur_defaults_vs_best"] for r in rows if r["augur_defaults_vs_best"]
        ),
        "median_default_vs_best": statistics.median(r["default_vs_best"] for r in rows if r["default_vs_best"]),
        "best_exact": sum(1 for r in rows if r["best_exact"]),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20,50,100,200")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=150, help="local-search kicks for the offline best")
    ap.add_argument("--scoring", default=None, help="JSON scoring config for 'augur' (default: PLANNING)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    scoring = json.loads(args.scoring) if args.scoring else PLANNING
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    rows = run([int(s) for s in args.sizes.split(",")], args.seeds, args.rounds, scoring)
    result = {
        "benchmark": "placement_quality",
        "definition": (
            "facts.md section 5; best = exhaustive when small (exact=true), else iterated local search plus "
            "simulated annealing from the augur and default placements (exact=false)"
        ),
        "machine": machine(),
        "scoring": {
            "augur": scoring,
            "augur_defaults": "the extender's defaults (no plan)",
            "default": "kube-scheduler default plugins (emulated)",
        },
        "summary": summarize(rows),
        "rows": rows,
    }
    result["machine"]["load_average_at_start"] = load_at_start
    result["machine"]["load_average_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result["summary"], indent=2))
    if not args.no_write:
        OUT.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
