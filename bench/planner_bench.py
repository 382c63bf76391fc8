"""CPU time of the pending-pod planner (augur.placement.plan) at extender scale: a first plan for 1,000 nodes
and 500 pending pods (target 10 s of CPU), and the incremental re-plan after one pod change (target 100 ms):
a pod bound on its planned node, a pod bound elsewhere, a pod deleted, a replica added. Also the same
through the extender's background planner (cache view build included). Several seeds; CPU time from
time.process_time. Also, per seed, the first plan and five off-plan binds through the extender's planner
process (augur_extender.planner_process): the CPU the *extender's* interpreter spends handing each update
over (pickling, the pipe), the child's CPU, and the wall time of an update. Writes bench/results/planner.json.

Usage: .venv/bin/python bench/planner_bench.py [--nodes 1000] [--pending 500] [--seeds 0,1,2]
       [--first-kicks N --out planner_first_kicks_N.json]
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write

from augur.placement import DependencyRule, NodeInfo, NodeTable, Occupancy, RuleBook, Snapshot, TopologyModel
from augur.placement.components.plan import PlanArgs
from augur.placement.model import WorkloadRules
from augur.placement.plan import Planner
from augur.placement.topology import DistanceLevels
from augur_extender.planner_process import PlannerProcess

ZONES = [(f"z{i}", f"r{i // 4}") for i in range(12)]


def cluster(nodes: int, pending: int, seed: int) -> tuple[Snapshot, dict[str, dict[str, int]]]:
    """``nodes`` 16-core nodes in 12 zones of 3 regions, 500 running pods of 50 workloads spread at random,
    ``pending`` pods of ``pending / 5`` workloads still to come, each talking to 1-2 others (running or not)."""
    rng = np.random.default_rng(seed)
    infos = [NodeInfo(f"node-{i:05d}", *ZONES[i % len(ZONES)], cpu=16, memory=64) for i in range(nodes)]
    rules: list[WorkloadRules] = []
    occupancy: dict[str, dict[str, int]] = {}
    requested = np.zeros(nodes)
    for w in range(50):
        key = f"run{w}"
        rules.append(WorkloadRules(key, replicas=10, pod_cpu=0.5, pod_memory=1.0))
        for n in rng.integers(0, nodes, size=10).tolist():
            occupancy.setdefault(key, {})[infos[n].name] = occupancy.get(key, {}).get(infos[n].name, 0) + 1
            requested[n] += 0.5
    workloads = pending // 5
    for w in range(workloads):
        peers = [
            f"svc{int(p)}" for p in rng.choice(range(w + 1, workloads), size=min(2, workloads - w - 1), replace=False)
        ]
        peers += [f"run{int(rng.integers(50))}"]
        deps = tuple(DependencyRule(p, float(rng.integers(10, 101))) for p in peers[: int(rng.integers(1, 4))])
        rules.append(
            WorkloadRules(f"svc{w}", deps, replicas=5, pod_cpu=float(rng.choice([0.25, 0.5, 1.0])), pod_memory=1.0)
        )
    topology = TopologyModel.build(DistanceLevels(0, 10, 40, 100))
    table = NodeTable.build(infos, topology)
    table = table.with_requested(requested[np.argsort([n.name for n in infos])], np.zeros(nodes))
    return Snapshot(table, Occupancy(occupancy), RuleBook(rules)), occupancy


def bound(snap: Snapshot, occupancy: dict[str, dict[str, int]], workload: str, node: str, sign: int = 1) -> Snapshot:
    """The snapshot after one pod of ``workload`` was bound to (or deleted from) ``node``."""
    occ = {k: dict(v) for k, v in occupancy.items()}
    occ.setdefault(workload, {})[node] = occ.get(workload, {}).get(node, 0) + sign
    if occ[workload][node] <= 0:
        del occ[workload][node]
    cpu = snap.table.cpu_requested.copy()
    rules = snap.rulebook.get(workload)
    cpu[snap.table.position[node]] += sign * (rules.pod_cpu if rules and rules.pod_cpu else 0.0)
    occupancy.clear()
    occupancy.update(occ)
    return Snapshot(snap.table.with_requested(cpu, snap.table.memory_requested), Occupancy(occ), snap.rulebook)


def timed(planner: Planner | PlannerProcess, snap: Snapshot) -> tuple[float, Any]:
    start = time.process_time()
    plan = planner.update(snap, now=time.monotonic())
    return time.process_time() - start, plan


def run_seed(nodes: int, pending: int, seed: int, args: PlanArgs) -> dict[str, Any]:
    snap, occupancy = cluster(nodes, pending, seed)
    planner = Planner(args.settings())
    first, plan = timed(planner, snap)
    assert plan is not None and not plan.incremental
    row: dict[str, Any] = {"seed": seed, "first_plan_cpu_s": round(first, 3), "plan_cost": round(plan.cost, 1)}
    row["planned_pods"] = int(plan.total.sum() - sum(sum(v.values()) for v in occupancy.values()))
    steps: dict[str, list[float]] = {"on_plan": [], "off_plan": [], "deleted": [], "replica_added": []}
    rng = np.random.default_rng(seed + 100)
    for _ in range(5):
        w = int(rng.integers(len(plan.workloads) - 50)) + 50  # a pending workload (svc*)
        key = plan.workloads[w]
        slots = plan.slots(key, snap)
        if slots is not None and slots.sum() >= 1:
            snap = bound(snap, occupancy, key, snap.table.names_tuple[int(np.argmax(slots))])
            cpu, plan = timed(planner, snap)
            steps["on_plan"].append(cpu)
        free = plan.slots(key, snap)
        off = int(np.argmin(free)) if free is not None else 0
        snap = bound(snap, occupancy, key, snap.table.names_tuple[off])
        cpu, plan = timed(planner, snap)
        steps["off_plan"].append(cpu)
        snap = bound(snap, occupancy, key, snap.table.names_tuple[off], -1)
        cpu, plan = timed(planner, snap)
        steps["deleted"].append(cpu)
        rules = snap.rulebook.get(key)
        assert rules is not None and rules.replicas is not None
        current = [r for k in sorted(snap.rulebook.keys()) if (r := snap.rulebook.get(k)) is not None]
        book = RuleBook(replace(r, replicas=(r.replicas or 0) + 1) if r.key == key else r for r in current)
        snap = Snapshot(snap.table, snap.occupancy, book)
        cpu, plan = timed(planner, snap)
        steps["replica_added"].append(cpu)
        assert plan is not None
    for name, values in steps.items():
        row[f"{name}_ms_median"] = round(1000 * statistics.median(values), 2) if values else None
        row[f"{name}_ms_max"] = round(1000 * max(values), 2) if values else None
        row[f"{name}_incremental"] = name != "replica_added" or plan.incremental
    row["final_plan_incremental"] = plan.incremental
    return row


def via_process(nodes: int, pending: int, seed: int, args: PlanArgs) -> dict[str, Any]:
    """The first plan and five off-plan binds through :class:`PlannerProcess`: this process's CPU per update
    (what the extender's interpreter spends), the child's CPU (``Plan.cpu_seconds``) and the wall time."""
    snap, occupancy = cluster(nodes, pending, seed)
    proc = PlannerProcess(args.settings())
    try:
        proc.update(Snapshot.build([NodeInfo("warm-up")]))  # the child's start-up (imports) is not counted
        started = time.perf_counter()
        parent_first, plan = timed(proc, snap)
        wall_first = time.perf_counter() - started
        child_first = plan.cpu_seconds
        parent, child, wall = [], [], []
        for k in range(5):
            key = plan.workloads[50 + k]
            free = plan.slots(key, snap)
            snap = bound(snap, occupancy, key, snap.table.names_tuple[int(np.argmin(free))])
            started = time.perf_counter()
            cpu, plan = timed(proc, snap)
            wall.append(time.perf_counter() - started)
            parent.append(cpu)
            child.append(plan.cpu_seconds)
            assert plan.incremental
    finally:
        proc.close()
    return {
        "first_plan_parent_cpu_ms": round(1000 * parent_first, 2),
        "first_plan_child_cpu_s": round(child_first, 3),
        "first_plan_wall_s": round(wall_first, 3),
        "update_parent_cpu_ms_median": round(1000 * statistics.median(parent), 2),
        "update_parent_cpu_ms_max": round(1000 * max(parent), 2),
        "update_child_cpu_ms_median": round(1000 * statistics.median(child), 2),
        "update_wall_ms_median": round(1000 * statistics.median(wall), 2),
        "update_wall_ms_max": round(1000 * max(wall), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pending", type=int, default=500)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--first-kicks", type=int, help="plan.firstKicks instead of the default (another --out)")
    ap.add_argument("--out", default="planner.json")
    a = ap.parse_args()
    args = PlanArgs() if a.first_kicks is None else PlanArgs(first_kicks=a.first_kicks)
    info = machine()
    rows = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        rows.append(
            {**run_seed(a.nodes, a.pending, seed, args), "process": via_process(a.nodes, a.pending, seed, args)}
        )
        print(rows[-1], file=sys.stderr)
    worst_incremental = max(
        r[k]
        for r in rows
        for k in ("on_plan_ms_max", "off_plan_ms_max", "deleted_ms_max", "replica_added_ms_max")
        if r[k] is not None
    )
    sized = args.settings()
    result = {
        "benchmark": "planner",
        "definition": (
            "CPU seconds (time.process_time) of Planner.update: first plan, then incremental updates after one pod "
            "change (5 of each kind per seed). Cluster: 1,000 16-core nodes in 12 zones / 3 regions, 500 running pods "
            "of 50 workloads placed at random, 500 pending pods of 100 workloads (5 replicas each, 1-3 dependencies)."
        ),
        "settings": {
            "passes": args.passes,
            "anneal_steps": args.anneal_steps,
            "seed": args.seed,
            "restarts": args.restarts,
            "first_kicks": args.first_kicks,
            "first_kick_rounds_at_this_size": sized.first_kick_rounds_for(a.nodes, a.pending),
            "restarts_at_this_size": sized.restarts_for(a.nodes, a.pending),
        },
        "nodes": a.nodes,
        "pending_pods": a.pending,
        "targets": {"first_plan_cpu_s": 10.0, "incremental_ms": 100.0},
        "summary": {
            "first_plan_cpu_s_max": max(r["first_plan_cpu_s"] for r in rows),
            "incremental_ms_worst": worst_incremental,
            "process_update_parent_cpu_ms_max": max(r["process"]["update_parent_cpu_ms_max"] for r in rows),
        },
        "rows": rows,
        "machine": info,
        **code_version(),
    }
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(result["summary"])
    if not a.no_write:
        write(a.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
