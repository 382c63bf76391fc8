"""The extender without a plan (its fallback: a burst, a stale or failed plan), simulated as deployed: network
cost of the shipped components with the ``plan`` component off, each other component switched off in turn,
and kube-scheduler alone, on generated scenarios. A diagnosis, not a tuning: it runs on the *development*
seeds of ``bench/placement_quality.py`` (``report`` 0-2 and ``dev2`` 10-13); nothing is chosen from it here.

Costs are ÷ kube-scheduler alone's on the same scenario (below 1: the fallback beats it).

``--variant NAME=JSON`` adds a run of the fallback with other component arguments (scoring overrides over
``{"plan": {"weight": 0}}``), for example ``--variant share='{"packing": {"peerShare": 1}}'``;
``--with-plan`` runs the shipped configuration (plan on) and the variants over it instead, to check that a
change to the fallback does not cost anything once the plan exists.

Usage: .venv/bin/python bench/fallback_components.py [--families fanin,groups,chain] [--sizes 50,100]
       [--seeds 0,1,2,10,11,12,13] [--variant NAME=JSON ...] [--ablation/--no-ablation] [--with-plan]
       [--out fallback_components.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write
from placement_scenarios import generate

from augur.placement.components import COMPONENTS
from augur.sim.placement import node_distances, parse_scenario, simulate_default, simulate_deployed

DEVELOPMENT_SEEDS = (0, 1, 2, 10, 11, 12, 13)


def variants(
    extra: dict[str, dict[str, Any]], ablation: bool = True, with_plan: bool = False
) -> dict[str, dict[str, Any]]:
    """Scoring overrides: the fallback as shipped (``with_plan``: the shipped configuration, plan on), without
    each other component (``ablation``), and ``extra`` (each over the first)."""
    off: dict[str, Any] = {} if with_plan else {"plan": {"weight": 0}}
    out: dict[str, dict[str, Any]] = {"shipped" if with_plan else "no_plan": off}
    for c in COMPONENTS:
        if ablation and c.name != "plan":
            out[f"no_plan_no_{c.name}"] = {**off, c.name: {"weight": 0}}
    for name, scoring in extra.items():
        out[name] = {**off, **{k: {**off.get(k, {}), **v} for k, v in scoring.items()}}
    return out


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def costs(raw: dict[str, Any], runs: dict[str, dict[str, Any]]) -> dict[str, float]:
    base = parse_scenario(raw)
    distances = node_distances(base)
    out = {"default": simulate_default(base).report(base, distances)["network_cost"]}
    for name, scoring in runs.items():
        sc = parse_scenario({**raw, "scoring": scoring})
        out[name] = simulate_deployed(sc).report(sc, distances)["network_cost"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="fanin,groups,chain")
    ap.add_argument("--sizes", default="50,100")
    ap.add_argument("--seeds", default=",".join(map(str, DEVELOPMENT_SEEDS)))
    ap.add_argument("--variant", action="append", default=[], help="NAME=JSON scoring overrides over the fallback")
    ap.add_argument("--ablation", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--with-plan", action="store_true", help="keep the plan on (the variants as deployed)")
    ap.add_argument("--out", default="fallback_components.json")
    args = ap.parse_args()
    extra = {v.split("=", 1)[0]: json.loads(v.split("=", 1)[1]) for v in args.variant}
    runs = variants(extra, args.ablation, args.with_plan)
    started, t0 = machine(), time.monotonic()
    rows: list[dict[str, Any]] = []
    for family in args.families.split(","):
        for size in [int(s) for s in args.sizes.split(",")]:
            for seed in [int(s) for s in args.seeds.split(",")]:
                c = costs(generate(family, size, seed), runs)
                ratios = {k: round(v / c["default"], 4) for k, v in c.items() if k != "default" and c["default"] > 0}
                rows.append({"family": family, "size": size, "seed": seed, "costs": c, "vs_default": ratios})
                print(json.dumps(rows[-1]["vs_default"] | {"s": f"{family} {size} {seed}"}), file=sys.stderr)
    summary: dict[str, Any] = {}
    for family in args.families.split(","):
        fam = [r for r in rows if r["family"] == family and r["vs_default"]]
        summary[family] = {
            name: {
                "geomean_vs_default": round(geomean([r["vs_default"][name] for r in fam]), 4),
                "worse_than_default": sum(r["vs_default"][name] > 1 for r in fam),
                "scenarios": len(fam),
            }
            for name in runs
        }
    result = {
        "benchmark": "fallback_components",
        "definition": "facts.md section 5, simulated as deployed (kube-scheduler's default plugins + extender)",
        "machine": started,
        **code_version(),
        "split": "development" if set(map(int, args.seeds.split(","))) <= set(DEVELOPMENT_SEEDS) else "other seeds",
        "variants": runs,
        "seconds": round(time.monotonic() - t0, 1),
        "summary": summary,
        "rows": rows,
    }
    print(json.dumps(summary, indent=2))
    print(f"-> {write(args.out, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
