"""``augur placement simulate SCENARIO.yaml [--json]``: compare Augur, the default scheduler and the best."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from augur.api.validation import SpecError
from augur.sim.placement import parse_scenario, simulate


def register(subparsers: Any) -> None:
    placement = subparsers.add_parser("placement", help="placement tools")
    sub = placement.add_subparsers(dest="placement_command", metavar="ACTION", required=True)
    p = sub.add_parser("simulate", help="place a scenario's pods with Augur, the default scheduler and the best")
    p.add_argument("scenario", type=Path, help="scenario YAML (nodes, distances, workloads)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rounds", type=int, default=300, help="local-search kicks when the exact search is too big")
    p.set_defaults(func=_simulate)


def _fail(message: str) -> int:
    print(f"augur placement simulate: error: {message}", file=sys.stderr)
    return 2


def _simulate(args: argparse.Namespace) -> int:
    try:
        raw = yaml.safe_load(args.scenario.read_text())
    except OSError as exc:
        return _fail(f"{args.scenario}: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        return _fail(f"{args.scenario}: not valid YAML: {' '.join(str(exc).split())}")
    try:
        scenario = parse_scenario(raw)
    except SpecError as exc:
        return _fail(f"{args.scenario}: {exc}")
    report = simulate(scenario, search_rounds=max(0, args.rounds))
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def render(report: dict[str, Any]) -> str:
    best = report["best"]["network_cost"]
    lines = [f"{'placement':<10} {'network cost':>14} {'vs best':>8} {'load stddev':>12} {'unplaced':>9}"]
    for name in ("augur", "default", "best"):
        r = report[name]
        ratio = f"{r['network_cost'] / best:.2f}x" if best > 0 else "-"
        lines.append(f"{name:<10} {r['network_cost']:>14.2f} {ratio:>8} {r['load_stddev']:>12.4f} {r['unplaced']:>9}")
    how = "exact (exhaustive search or MILP)" if report["best"]["exact"] else "local search (not proven optimal)"
    lines.append(f"best: {how}")
    return "\n".join(lines)
