"""What annealing buys a full plan at 1,000 nodes, and what it costs: the plan's network cost and CPU time
with 300,000 (the cap before ``anneal_node_budget``), 120,000, 60,000 (the bound at 1,000 nodes now) and no
annealing steps, on bench/planner_bench.py's cluster (1,000 16-core nodes, 500 running and 500 pending
pods of 150 workloads) and on bench/scheduler_throughput.py's (1,000 32-core nodes, 1,000 pending pods of
three chained workloads, nothing running). Seeds 0-2 were looked at when the bound was chosen; 3-5 were run
after it. Writes bench/results/planner_anneal.json.

Usage: .venv/bin/python bench/planner_anneal.py [--seeds 0,1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write
from planner_bench import cluster

from augur.placement import DependencyRule, NodeInfo, NodeTable, Occupancy, RuleBook, Snapshot, TopologyModel
from augur.placement.components.plan import PlanArgs
from augur.placement.model import WorkloadRules
from augur.placement.plan import Planner, PlanSettings
from augur.placement.topology import DistanceLevels

STEPS = (300_000, 120_000, 60_000, 0)
LOOKED_AT = {0, 1, 2}


def throughput_shape() -> Snapshot:
    """bench/scheduler_throughput.py's cluster as the extender's planner sees it when every pod is pending."""
    zones = [(f"region-{z % 2}-zone-{z}", f"region-{z % 2}") for z in range(3)]
    infos = [NodeInfo(f"kwok-node-{i:05d}", *zones[i % 3], cpu=32, memory=128) for i in range(1000)]
    size = {"pod_cpu": 0.01, "pod_memory": 16 / 1024}
    rules = [
        WorkloadRules("b/db", (), replicas=334, **size),
        WorkloadRules("b/api", (DependencyRule("b/db", 50.0),), replicas=333, **size),
        WorkloadRules("b/web", (DependencyRule("b/api", 100.0),), replicas=333, **size),
    ]
    table = NodeTable.build(infos, TopologyModel.build(DistanceLevels(0, 10, 40, 100)))
    return Snapshot(table, Occupancy({}), RuleBook(rules))


def plans(snap: Snapshot, base: PlanSettings) -> list[dict[str, Any]]:
    out = []
    for steps in STEPS:
        # the node bound lifted, so that each row anneals exactly ``steps`` (the cap applies first)
        planner = Planner(replace(base, anneal_steps=steps, anneal_node_budget=10**12))
        start = time.process_time()
        plan = planner.update(snap)
        assert plan is not None
        out.append(
            {"anneal_steps": steps, "cpu_seconds": round(time.process_time() - start, 3), "cost": round(plan.cost, 2)}
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,3,4,5")
    args = ap.parse_args()
    started = machine()
    base = PlanArgs().settings()
    rows = [{"cluster": "scheduler_throughput", "seed": None, "plans": plans(throughput_shape(), base)}]
    print(rows[-1], flush=True)
    for seed in (int(s) for s in args.seeds.split(",")):
        snap, _ = cluster(1000, 500, seed)
        role = "looked at when the bound was chosen" if seed in LOOKED_AT else "run after the choice"
        rows.append({"cluster": "planner_bench", "seed": seed, "role": role, "plans": plans(snap, base)})
        print(rows[-1], flush=True)
    for row in rows:
        full = row["plans"][0]
        for p in row["plans"]:
            p["cost_vs_300000"] = round(p["cost"] / full["cost"] - 1, 5) if full["cost"] else 0.0
    result = {
        "benchmark": "planner_anneal",
        "definition": "one full plan per row (Planner.update on an empty planner), CPU from time.process_time",
        "bound_now": {
            "anneal_node_budget": base.anneal_node_budget,
            "steps_at_1000_nodes": base.anneal_node_budget // 1000,
        },
        **code_version(),
        "machine": started,
        "rows": rows,
    }
    print(f"-> {write('planner_anneal.json', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
