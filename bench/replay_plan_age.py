"""How old the extender's plan is when each replayed pod passes its scheduling gate, on the real
kube-scheduler: one generated scenario replayed several times in one node order (``augur`` pass only),
with the explanation (``/debug/pods/...``) read as each pod is let go. Per run: the network cost against
the simulator's prediction, the largest plan age at a gate, how many pods passed with a plan older than
``maxAgeSeconds / 2``, and the long gate waits. A plan older than ``maxAgeSeconds`` is stale and the pods
scored meanwhile are placed without it: the replay then leaves the simulated path.

Measures the code it imports (``commit`` names that code's repository), so the same script can measure an
older checkout: ``PYTHONPATH=<old>/operator:<old>/scheduler_extender``.

Usage: .venv/bin/python bench/replay_plan_age.py [--family groups] [--size 100] [--seed 27]
       [--order reversed] [--runs 3] [--out replay_plan_age.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, machine, write
from placement_replay_bench import predicted_by_order
from placement_scenarios import generate

import augur
from augur.cli.placement_replay import node_order
from augur.devcluster.placement_replay import ReplayOptions, ReplaySession, replay_cluster
from augur.placement.components.plan import PlanArgs
from augur.sim.placement import node_distances, parse_scenario


class GateRecorder:
    """Wraps :meth:`ReplaySession._wait_for_plan`: the plan's state and age as each pod passes its gate."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._wait = ReplaySession._wait_for_plan

    def install(self) -> None:
        recorder = self

        def wait(session: ReplaySession, ns: str, pod: str) -> bool:
            started = time.monotonic()
            ok = recorder._wait(session, ns, pod)
            waited = time.monotonic() - started
            plan = httpx.get(f"{session.extender_url}/debug/pods/{ns}/{pod}", timeout=10).json()["plan"]
            recorder.records.append({"ok": ok, "waited": waited, "state": plan["state"], "age": plan.get("ageSeconds")})
            return ok

        ReplaySession._wait_for_plan = wait  # type: ignore[method-assign]


def run_row(run: int, cost: float, predicted: float, records: list[dict[str, Any]], max_age: float) -> dict[str, Any]:
    ages = [r["age"] for r in records if r["age"] is not None]
    return {
        "run": run,
        "cost": round(cost, 6),
        "equals_simulated": abs(cost - predicted) <= 1e-6 * max(1.0, predicted),
        "max_plan_age_at_gate": max(ages, default=None),
        "pods_past_half_max_age": sum(a > max_age / 2 for a in ages),
        "pods_not_current": sum(r["state"] != "current" for r in records),
        "pods_gate_timed_out": sum(not r["ok"] for r in records),
        "gate_waits_over_half_second": [round(r["waited"], 2) for r in records if r["waited"] > 0.5],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="groups")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--seed", type=int, default=27)
    ap.add_argument("--order", default="reversed", choices=("scenario", "reversed", "shuffled"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="replay_plan_age.json")
    args = ap.parse_args()
    started = machine()
    raw = generate(args.family, args.size, args.seed)
    sc = parse_scenario(raw)
    distances = node_distances(sc)
    predicted = predicted_by_order(raw, [args.order])[args.order]  # with the nodes named as the replay names them
    order = node_order(len(sc.nodes), args.order, sc.seed)
    recorder = GateRecorder()
    recorder.install()
    max_age = PlanArgs().max_age_seconds
    rows: list[dict[str, Any]] = []
    t0 = time.monotonic()
    code = Path(augur.__file__).resolve().parents[2]

    def save() -> Path:  # after every run: a replay that fails later keeps the runs done
        return write(
            args.out,
            {
                "benchmark": "replay_plan_age",
                "scenario": {"family": args.family, "pods": args.size, "seed": args.seed, "node_order": args.order},
                "simulated_cost": round(predicted, 6),
                "max_age_seconds": max_age,
                "machine": {**started, "load_average_at_end": list(os.getloadavg())},
                **code_version(code),
                "seconds": round(time.monotonic() - t0, 1),
                "runs_equal_to_simulated": f"{sum(r['equals_simulated'] for r in rows)} of {len(rows)}",
                "runs": rows,
            },
        )

    with tempfile.TemporaryDirectory(prefix="replay-age-") as tmp, replay_cluster(None, Path(tmp)) as (kc, tools):
        for run in range(args.runs):
            recorder.records.clear()
            options = ReplayOptions(variants=("augur",), node_order=order)
            with ReplaySession(sc, kc, Path(tmp) / f"run{run}", tools, options) as session:
                outcome = session.run_pass("augur")
            cost = outcome.report(sc, distances)["network_cost"]
            rows.append(run_row(run, cost, predicted, recorder.records, max_age))
            print(rows[-1], file=sys.stderr, flush=True)
            path = save()
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
