"""Simulated: what a lag between kube-scheduler's binds and the extender's view costs (network cost, as
deployed). Writes bench/results/burst_lag_sim.json.

    .venv/bin/python bench/burst_lag_sim.py [--seeds 72,73] [--lags 0,1,2,3] [--ties 4]

In a burst kube-scheduler asks the extender about the next pod before the pod watch has delivered the
bindings of the last few (``augur_extender_prioritize_unseen_binds`` counts them on a real cluster;
``bench/replay_burst.py`` records it per run). The simulator places the same generated scenarios as
``replay_burst.py`` (``groups`` and ``fanin``, 50 and 100 pods) with ``KubeModel.view_lag`` L: Augur's
scores and its planner miss the last L binds, kube's plugins count them. Each (scenario, L) is run with
``--ties`` seeds of the random tie-breaks (the scenario's seed replaced), and reported as mean, min and
max network cost and the mean over lag 0's mean. Nothing is tuned on it: it measures the shipped defaults.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write
from placement_scenarios import generate

from augur.sim.placement import KubeModel, node_distances, parse_scenario, simulate_deployed


def one(raw: dict[str, Any], lags: list[int], ties: int) -> dict[str, Any]:
    sc = parse_scenario(raw)
    distances = node_distances(sc)
    out: dict[str, Any] = {}
    for lag in lags:
        costs = [
            simulate_deployed(replace(sc, seed=sc.seed * 1000 + t), KubeModel(view_lag=lag)).report(sc, distances)[
                "network_cost"
            ]
            for t in range(ties)
        ]
        out[str(lag)] = {
            "mean": round(statistics.mean(costs), 1),
            "min": round(min(costs), 1),
            "max": round(max(costs), 1),
        }
    base = out[str(lags[0])]["mean"]
    for entry in out.values():
        entry["mean_over_first_lag"] = round(entry["mean"] / base, 3) if base > 0 else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="groups,fanin")
    ap.add_argument("--sizes", default="50,100")
    ap.add_argument("--seeds", default="72,73")
    ap.add_argument("--lags", default="0,1,2,3")
    ap.add_argument("--ties", type=int, default=4, help="tie-break seeds per scenario and lag")
    ap.add_argument("--out", default="burst_lag_sim.json")
    args = ap.parse_args()
    lags = [int(x) for x in args.lags.split(",")]
    started, t0 = machine(), time.monotonic()
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for family in args.families.split(","):
            for size in [int(s) for s in args.sizes.split(",")]:
                row = {
                    "family": family,
                    "size": size,
                    "seed": seed,
                    "lags": one(generate(family, size, seed), lags, args.ties),
                }
                rows.append(row)
                ratios = {k: v["mean_over_first_lag"] for k, v in row["lags"].items()}
                print(f"{family} {size} seed {seed}: mean cost / lag {lags[0]}: {ratios}", file=sys.stderr, flush=True)
    pooled = {
        str(lag): round(statistics.geometric_mean([r["lags"][str(lag)]["mean_over_first_lag"] for r in rows]), 3)
        for lag in lags
    }
    result = {
        "benchmark": "burst_lag_sim",
        "definition": "simulated as deployed (kube-scheduler's default plugins + the extender's score x weight, "
        "plan updated after every pod) with Augur's view missing the last L binds; network cost",
        "machine": started,
        **code_version(),
        "protocol": {"lags": lags, "tie_seeds": args.ties, "scenarios": "bench/placement_scenarios.py generate"},
        "seconds": round(time.monotonic() - t0, 1),
        "geomean_mean_over_first_lag": pooled,
        "rows": rows,
    }
    print(pooled)
    print(f"-> {write(args.out, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
