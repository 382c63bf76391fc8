"""How long the extender's planner holds the GIL at a stretch during its first full plan on a node set
(a request waits that long): a thread sleeps 0.2 ms at a time next to the planner and records how late it
wakes. Also the distance codes alone (:func:`augur.placement.canonical.distance_codes`), made the general way
(``np.unique`` over the whole matrix) and among the node table's possible distances (what the planner does).

1,000 nodes in 3 zones, 30 chained workloads (the cluster of bench/extender_latency.py), each repeat listing
the nodes in another seeded order; each repeat in a fresh interpreter, since the first plan's one-time work
(imports included) is what is measured. Writes bench/results/planner_gil_hold.json.

Usage: .venv/bin/python bench/planner_gil_hold.py [--repeats 5] [--nodes 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write

TICK = 0.0002


def _stalls(work: Any) -> dict[str, float]:
    """Run ``work`` next to a ticker; the ticker's longest and 99th-percentile lateness, in ms."""
    late: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            time.sleep(TICK)
            late.append(time.perf_counter() - t - TICK)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    time.sleep(0.05)
    late.clear()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    stop.set()
    thread.join()
    ms = sorted(x * 1000 for x in late)
    return {
        "seconds": round(seconds, 3),
        "max_ms": round(ms[-1], 2),
        "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 2),
        "over_2ms": sum(x > 2 for x in ms),
    }


def one(nodes: int, order: int) -> dict[str, Any]:
    """One repeat (in this interpreter): the first plan, then the codes both ways."""
    import numpy as np
    from extender_latency import cluster

    from augur.placement.canonical import distance_codes
    from augur.placement.distance import distance_values, pairwise
    from augur_extender.deps import ExtenderState
    from augur_extender.settings import Settings

    sys.setswitchinterval(0.001)  # as `augur extender run` does with its planner
    cache, _ = cluster(nodes, order=order)
    state = ExtenderState.build(cache, Settings())
    assert state.planner is not None
    planner = state.planner
    out = {"first_plan": _stalls(planner.run_once)}
    table = cache.view().snapshot.table
    d = pairwise(table, np.arange(len(table)), np.arange(len(table)))
    out["codes_general"] = _stalls(lambda: distance_codes(d))
    out["codes_among_table_values"] = _stalls(lambda: distance_codes(d, distance_values(table)))
    same = np.array_equal(distance_codes(d).codes, distance_codes(d, distance_values(table)).codes)
    out["codes_equal"] = bool(same)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one repeat, JSON on stdout
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.nodes, args.one)))
        return 0
    started = machine()
    runs = []
    for order in range(args.repeats):
        argv = [sys.executable, __file__, "--nodes", str(args.nodes), "--one", str(order)]
        done = subprocess.run(argv, check=True, capture_output=True, text=True)
        runs.append({"node_order": order, **json.loads(done.stdout.strip().splitlines()[-1])})
        print(runs[-1], flush=True)
    summary = {
        key: {
            "max_ms": [r[key]["max_ms"] for r in runs],
            "median_of_max_ms": statistics.median(r[key]["max_ms"] for r in runs),
        }
        for key in ("first_plan", "codes_general", "codes_among_table_values")
    }
    payload = {
        "benchmark": "longest GIL hold of the extender's planner, first plan on a node set",
        "machine": started,
        **code_version(),
        "nodes": args.nodes,
        "tick_seconds": TICK,
        "summary": summary,
        "runs": runs,
    }
    print(json.dumps(summary, indent=2))
    print(f"-> {write('planner_gil_hold.json', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
