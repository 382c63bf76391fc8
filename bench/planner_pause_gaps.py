"""How long the extender's threaded planner runs between two pauses, at 1,000 nodes.

    .venv/bin/python bench/planner_pause_gaps.py [--updates 4] [--out planner_pause_gaps.json]

A request that arrives while the planner (on a thread of the extender) runs gets the interpreter only every
switch interval until the planner reaches its next pause, where it steps aside while requests are in flight
(``augur_extender.inflight``). This measures the stretches between pauses: the latency benchmark's cluster
(``bench/extender_latency.py``: 1,000 nodes, 30 workloads), its background planner built as the extender
builds it, ``wait_idle`` replaced by a recorder of wall-clock gaps; the first update, then updates after pod
churn as in that benchmark. Per update: CPU seconds, pauses, the longest gaps with where each ended, and the
time from the last pause to the end. Writes ``bench/results/planner_pause_gaps.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import extender_latency as el
from common import code_version, machine, write

from augur_extender.deps import ExtenderState
from augur_extender.settings import Settings


class Gaps:
    """A stand-in for ``InFlight.wait_idle`` that records the wall time since the previous pause."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.gaps: list[tuple[float, str]] = []

    def __call__(self, limit: float = 0.0) -> None:
        now = time.perf_counter()
        frames = traceback.extract_stack(limit=4)[:-1]
        self.gaps.append(((now - self.last) * 1000, " <- ".join(f"{f.name}:{f.lineno}" for f in reversed(frames))))
        self.last = time.perf_counter()


def measure(updates: int) -> list[dict[str, Any]]:
    cache, names = el.cluster(1000)
    state = ExtenderState.build(cache, Settings())
    planner = state.planner
    assert planner is not None
    recorder = Gaps()
    planner.in_flight.wait_idle = recorder  # type: ignore[method-assign]
    churn = el.churn_events(names, updates)
    rows = []
    for i in range(updates):
        if i:
            for event, pod in churn[i]:
                cache.apply("pods", event, pod)
        recorder.gaps.clear()
        recorder.last = time.perf_counter()
        cpu = time.process_time()
        plan = planner.run_once()
        cpu = time.process_time() - cpu
        tail = (time.perf_counter() - recorder.last) * 1000
        longest = sorted(recorder.gaps, reverse=True)[:4]
        rows.append(
            {
                "update": "first" if i == 0 else f"after churn {i}",
                "incremental": None if plan is None else plan.incremental,
                "cpu_seconds": round(cpu, 4),
                "pauses": len(recorder.gaps),
                "longest_gaps_ms": [{"ms": round(ms, 2), "ended_at": where} for ms, where in longest],
                "after_last_pause_ms": round(tail, 2),
            }
        )
        print(rows[-1]["update"], rows[-1]["cpu_seconds"], [g["ms"] for g in rows[-1]["longest_gaps_ms"]], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=4)
    parser.add_argument("--out", default="planner_pause_gaps.json")
    args = parser.parse_args()
    started = machine()
    rows = measure(args.updates)
    payload = {
        "benchmark": "wall time between the threaded planner's pauses, 1,000 nodes (extender_latency's cluster)",
        "machine": started,
        **code_version(),
        "updates": rows,
    }
    print("->", write(args.out, payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
