"""In process: the first plan a full plan hands over (what the pods of a burst follow) with ``firstKicks`` rounds
of kicks on the best greedy start, against the full plan. Writes bench/results/first_plan_kicks.json.

    .venv/bin/python bench/first_plan_kicks.py [--dev-seeds 80,81] [--heldout-seeds 90,91] [--rounds 0,10,25,50]

For each generated scenario (``bench/placement_scenarios.py``: ``chain``, ``fanin`` and ``groups`` at 50, 100
and 200 pods) the pending-pod planner (:class:`augur.placement.plan.Planner`, the extender's, with the
shipped settings but ``first_kicks``) plans every pod from the empty cluster. With ``publish`` it hands over
its first plan; the cost of that plan and the planner's CPU time until then are recorded for each number of
rounds, and the full plan is then abandoned (``superseded``) except with 0 rounds, whose final plan is the
reference (``first ÷ full``). The development seeds chose the default rounds (25, session 44); the held-out
seeds were run after that choice. Geometric means, worst and count above 1.10 per number of rounds and set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from augur.blas import ONE_THREAD

os.environ.update(ONE_THREAD | os.environ)  # one BLAS thread, as in the extender (augur.blas), before numpy loads

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write
from placement_scenarios import generate

from augur.placement import RuleBook
from augur.placement.plan import Plan, Planner, PlanSuperseded
from augur.sim.placement import parse_scenario
from augur.sim.placement.runs import _State

FAMILIES = ("chain", "fanin", "groups")
SIZES = (50, 100, 200)


def first_plan(raw: dict[str, Any], rounds: int, full: bool) -> dict[str, Any]:
    """The first plan handed over with ``rounds`` first kicks: cost and CPU seconds, and with ``full`` the
    final plan's cost and CPU seconds (else the full plan is abandoned once the first plan is out)."""
    sc = parse_scenario(raw)
    snapshot = _State(sc).snapshot(RuleBook(sc.rules))
    settings = replace(sc.scoring.plan.settings(), first_kicks=rounds)
    first: list[tuple[Plan, float]] = []
    start = time.process_time()
    planner = Planner(
        settings,
        publish=lambda plan: first.append((plan, time.process_time() - start)) if not first else None,
        superseded=lambda: bool(first) and not full,
    )
    out: dict[str, Any] = {}
    try:
        plan = planner.update(snapshot, now=0.0)
    except PlanSuperseded:
        plan = None
    if plan is not None:
        out = {"full_cost": round(plan.cost, 3), "full_cpu_seconds": round(time.process_time() - start, 3)}
    early, cpu = first[0]
    return {"first_cost": round(early.cost, 3), "first_cpu_seconds": round(cpu, 4), **out}


def summary(rows: list[dict[str, Any]], rounds: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in rounds:
        ratios = [r["rounds"][str(k)]["first_over_full"] for r in rows]
        out[str(k)] = {
            "geomean_first_over_full": round(statistics.geometric_mean(ratios), 3),
            "worst": round(max(ratios), 3),
            "above_1_10": sum(x > 1.10 for x in ratios),
            "scenarios": len(ratios),
            "mean_first_cpu_seconds": round(statistics.mean(r["rounds"][str(k)]["first_cpu_seconds"] for r in rows), 3),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev-seeds", default="80,81")
    ap.add_argument("--heldout-seeds", default="90,91")
    ap.add_argument("--rounds", default="0,10,25,50")
    ap.add_argument("--out", default="first_plan_kicks.json")
    args = ap.parse_args()
    rounds = [int(x) for x in args.rounds.split(",")]
    if rounds[0] != 0:
        ap.error("--rounds must start with 0 (the reference full plan)")
    started, t0 = machine(), time.monotonic()
    sets: dict[str, Any] = {}
    for name, seeds in (("development", args.dev_seeds), ("held_out", args.heldout_seeds)):
        rows = []
        for seed in [int(s) for s in seeds.split(",") if s]:
            for family in FAMILIES:
                for size in SIZES:
                    raw = generate(family, size, seed)
                    per = {str(k): first_plan(raw, k, full=k == 0) for k in rounds}
                    full = per["0"]["full_cost"]
                    for entry in per.values():
                        entry["first_over_full"] = round(entry["first_cost"] / full, 4) if full > 0 else 1.0
                    rows.append({"family": family, "size": size, "seed": seed, "rounds": per})
                    shown = " ".join(f"{k}: {per[str(k)]['first_over_full']:.3f}" for k in rounds)
                    print(f"{name} {family} {size} seed {seed}: first ÷ full {shown}", file=sys.stderr, flush=True)
        if rows:  # a set given no seeds is left out
            sets[name] = {"seeds": seeds, "summary": summary(rows, rounds), "rows": rows}
    result = {
        "benchmark": "first_plan_kicks",
        "definition": "cost of the first plan a full plan hands over (firstKicks rounds of kicks on the best "
        "greedy start) over the cost of the full plan with 0 rounds; planner CPU seconds until the first plan",
        "machine": started,
        **code_version(),
        "protocol": {
            "rounds": rounds,
            "families": FAMILIES,
            "sizes": SIZES,
            "settings": "scenario scoring (shipped plan settings) with first_kicks replaced",
            "note": "development seeds chose 25 rounds; held-out seeds run after that choice",
        },
        "seconds": round(time.monotonic() - t0, 1),
        "sets": {k: {"seeds": v["seeds"], "summary": v["summary"]} for k, v in sets.items()},
        "rows": {k: v["rows"] for k, v in sets.items()},
    }
    for name, entry in sets.items():
        print(name, entry["summary"])
    print(f"-> {write(args.out, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
