"""Prioritize latency of two versions of the code, alternated: an A/B of ``bench/extender_latency.py``.

    .venv/bin/python bench/extender_latency_ab.py --compare-code DIR [--rounds 4] [--repeats 3] [--out FILE]
    .venv/bin/python bench/extender_latency_ab.py --summarize FILE   # summary again from the kept runs

Each round runs ``bench/extender_latency.py --planners thread`` (the shipped configuration, 1,000 nodes) first
from the checkout in ``DIR`` (its own script and code) and then from this one, so that a drift in the
machine's load hits both. Per side it reports each repeat's HTTP churn p99 (``varied_churn``; the issue's
target is 5 ms) with its p50 and server CPU per request over the repeats (``extender_latency.summarize``), how
many repeats are under 5 ms, and the
churned requests that overlapped a plan update pooled over every repeat (their percentiles and maximum):
the requests the background planner can delay. Each run's own JSON is kept under ``runs``. Writes
``bench/results/extender_latency_ab.json`` unless ``--out`` names another file.

First question (2026-12-07, ``extender_latency_ab.json``): do the planner's pause points outside its search
loops (commits 14791a0 and a4eefb7; ``--compare-code`` at 0ed111e, the code before them) lower the latency of
the requests that overlap a plan update? Nothing is decided by it: the pause points change no plan and stay.
Run again as ``extender_latency_ab_2.json`` after the pause before each greedy start stopped asking whether
the plan is superseded (0d1d193): the first run had plans abandoned there that were not before; and as
``extender_latency_ab_3.json`` with the lexsort ranking too (7729bf8), a second sample of the final code.

Second question (2026-12-07, ``extender_latency_ab_coalesce.json``; ``--compare-code`` at 5320ec0): does a reply
written in one system call (9525580, a uvicorn protocol since reverted; uvicorn writes the status line and the
body apart) lower the HTTP latency and the server's CPU per request? Rule, written before the run: the protocol
stays if the HTTP p50 of ``varied_churn`` pooled over the rounds is not higher than before and no
``fixed``/``varied_churn`` p99 median is more than 10 % higher; otherwise it is reverted. Result (code 37423df
against 5320ec0, 4 rounds, nothing else running; the p50 compared is the median of the 12 repeats' p50s):
churn p50 1.130 against 1.153 ms, churn p99 3.07 against 2.82 ms (+9 %), fixed p99 1.459 against 1.304 ms
(+12 %): reverted (3863f2f). A first run
(``extender_latency_ab_coalesce_overlapped.json``) overlapped the last round of a kube-scheduler benchmark for
its first three minutes and decides nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import extender_latency as el
from common import RESULTS, code_version, machine, write

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 5.0


def run_once(checkout: Path, repeats: int, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{checkout / 'operator'}:{checkout / 'scheduler_extender'}"}
    cmd = [sys.executable, "bench/extender_latency.py", "--repeats", str(repeats), "--planners", "thread"]
    subprocess.run([*cmd, "--out", str(out)], cwd=checkout, env=env, check=True, capture_output=True, timeout=1800)
    payload: dict[str, Any] = json.loads(out.read_text())
    return payload


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's runs at 1,000 nodes, summarized as ``extender_latency.summarize`` does over all their repeats
    (HTTP churn p50/p99 and server CPU per request spread over the repeats, the requests that overlapped a plan
    update pooled), with the repeats whose churn p99 meets the target counted."""
    rows = [row for payload in runs for row in payload["rows"] if row["nodes"] == 1000]
    summary = el.summarize(rows, ["thread"])["1000"]
    churn = summary["thread"]["varied_churn"]
    p99 = churn["p99_ms"]["values"]
    return {
        "varied_churn": churn,
        "repeats_under_target": sum(v <= TARGET_MS for v in p99),
        "repeats": len(p99),
        "overlapping_plan_updates": summary["varied_churn_during_updates"]["thread"],
    }


def resummarize(name: str) -> int:
    """Recompute ``summary`` of a result from the runs it keeps (the summary's form changed on 2026-12-07:
    it now comes from ``extender_latency.summarize``)."""
    payload = json.loads((RESULTS / name).read_text())
    payload["summary"] = {side: summarize(runs) for side, runs in payload["runs"].items()}
    print(json.dumps(payload["summary"], indent=2))
    print("->", write(name, payload))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare-code", type=Path, help="the other checkout (run first each round)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="extender_latency.py --repeats, per run")
    parser.add_argument("--out", default="extender_latency_ab.json")
    parser.add_argument(
        "--summarize", metavar="FILE", help="only summarize the runs kept in bench/results/FILE again, in place"
    )
    args = parser.parse_args()
    if args.summarize:
        return resummarize(args.summarize)
    if args.compare_code is None:
        parser.error("--compare-code DIR is required to run an A/B")
    other = args.compare_code.resolve()
    sides = {"compare": other, "this": ROOT}
    started = machine()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, checkout in sides.items():
                runs[name].append(run_once(checkout, args.repeats, Path(tmp) / f"{name}_{r}.json"))
                print(f"round {r} {name}: done", flush=True)
    ended = machine()
    payload = {
        "benchmark": "prioritize latency A/B (bench/extender_latency.py, planner on a thread), alternated",
        "machine": {**started, "load_average_at_end": ended["load_average_at_start"]},
        "this": code_version(),
        "compare": code_version(other),
        "rounds": args.rounds,
        "repeats_per_run": args.repeats,
        "summary": {name: summarize(side) for name, side in runs.items()},
        "runs": runs,
    }
    print(json.dumps(payload["summary"], indent=2))
    print("->", write(args.out, payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
