"""``augur placement simulate SCENARIO.yaml [--json] [--seed N] [--shuffle-nodes K [--rename-nodes]]
[--scheduler-config F]``:
the shipped configuration (kube-scheduler's default plugins plus Augur's extender), kube-scheduler alone,
Augur alone and the best placement found offline."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from augur.api.validation import SpecError
from augur.cli import placement_replay
from augur.sim.placement import KubeModel, parse_scenario, simulate


def register(subparsers: Any) -> None:
    placement = subparsers.add_parser("placement", help="placement tools")
    sub = placement.add_subparsers(dest="placement_command", metavar="ACTION", required=True)
    p = sub.add_parser("simulate", help="place a scenario's pods as deployed, with kube-scheduler alone and the best")
    p.add_argument("scenario", type=Path, help="scenario YAML (nodes, distances, workloads)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rounds", type=int, default=300, help="local-search kicks when the exact search is too big")
    p.add_argument("--seed", type=int, default=None, help="seed of random ties and searches (default: the scenario's)")
    p.add_argument(
        "--shuffle-nodes",
        type=int,
        default=0,
        metavar="K",
        help="also run with the nodes listed in K seeded random orders and report the spread",
    )
    p.add_argument(
        "--rename-nodes",
        action="store_true",
        help="the shuffled orders also rename the nodes by position (node-0000, ...), as the replay does; "
        "for scenarios that name no node in distances or avoidances",
    )
    p.add_argument(
        "--scheduler-config",
        type=Path,
        default=None,
        help="KubeSchedulerConfiguration whose extender weight to use (default: the shipped weight)",
    )
    p.add_argument(
        "--view-lag",
        type=int,
        default=0,
        metavar="L",
        help="binds the extender's view has not seen yet when it scores a pod, as in a burst where its pod watch "
        "lags kube-scheduler's binds (default 0: every bind seen, as in the gated replay)",
    )
    p.set_defaults(func=_simulate)
    placement_replay.register(sub)


def _fail(message: str) -> int:
    print(f"augur placement simulate: error: {message}", file=sys.stderr)
    return 2


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc


def extender_model(config: Any) -> KubeModel:
    """The simulator's model of a KubeSchedulerConfiguration's (first) extender with a ``prioritizeVerb``: its
    ``weight``, and whether it is called to filter too (``filterVerb``)."""
    extenders = config.get("extenders") if isinstance(config, dict) else None
    for ext in extenders if isinstance(extenders, list) else []:
        if isinstance(ext, dict) and ext.get("prioritizeVerb"):
            weight = ext.get("weight")
            if isinstance(weight, int) and not isinstance(weight, bool) and weight > 0:
                return KubeModel(extender_weight=weight, extender_filter=bool(ext.get("filterVerb")))
            raise ValueError(f"extender weight must be a positive integer, got {weight!r}")
    raise ValueError("no extender with a prioritizeVerb")


def _simulate(args: argparse.Namespace) -> int:
    try:
        raw = _load(args.scenario)
        model = KubeModel()
        if args.scheduler_config is not None:
            try:
                model = extender_model(_load(args.scheduler_config))
            except ValueError as exc:
                raise ValueError(f"{args.scheduler_config}: {exc}") from exc
    except ValueError as exc:
        return _fail(str(exc))
    try:
        scenario = parse_scenario(raw)
    except SpecError as exc:
        return _fail(f"{args.scenario}: {exc}")
    if args.seed is not None:
        scenario = replace(scenario, seed=args.seed)
    if args.rename_nodes and args.shuffle_nodes <= 0:
        return _fail("--rename-nodes needs --shuffle-nodes K (K > 0)")
    if args.view_lag < 0:
        return _fail(f"--view-lag must be 0 or more, got {args.view_lag}")
    model = replace(model, view_lag=args.view_lag)
    try:
        report = simulate(
            scenario,
            search_rounds=max(0, args.rounds),
            model=model,
            orders=max(0, args.shuffle_nodes),
            rename=args.rename_nodes,
        )
    except ValueError as exc:  # renaming a scenario that names nodes
        return _fail(f"{args.scenario}: {exc}")
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def render(report: dict[str, Any]) -> str:
    best = report["best"]["network_cost"]
    lines = [f"{'placement':<12} {'network cost':>14} {'vs best':>8} {'load stddev':>12} {'unplaced':>9}"]
    for name in ("augur", "augur_alone", "default", "best"):
        r = report[name]
        ratio = f"{r['network_cost'] / best:.2f}x" if best > 0 else "-"
        lines.append(f"{name:<12} {r['network_cost']:>14.2f} {ratio:>8} {r['load_stddev']:>12.4f} {r['unplaced']:>9}")
    how = "exact (exhaustive search or MILP)" if report["best"]["exact"] else "local search (not proven optimal)"
    model = report["model"]
    lines.append(f"best: {how}")
    lines.append(
        f"augur: kube-scheduler default plugins + extender score x weight {model['extender_weight']}"
        f" ({'filter and prioritize' if model['extender_filter'] else 'prioritize only'};"
        f" plan {'on' if model['plan'] else 'off'}; view lag {model['view_lag']}); seed {model['seed']}"
    )
    for name in ("augur", "default"):
        costs = [o[name] for o in report.get("orders", [])]
        if costs and best > 0:
            lines.append(
                f"{name} over {len(costs)} shuffled{' and renamed' if report.get('orders_renamed') else ''} node"
                f" orders: {min(costs) / best:.2f}x .. {max(costs) / best:.2f}x"
            )
    return "\n".join(lines)
