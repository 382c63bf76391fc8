"""``augur placement replay SCENARIO.yaml [--json] [--seed N] [--node-order ORDER] [--without-extender]
[--no-wait-for-plan] [--burst] [--plan-gate | --plan-gate-webhook] [--kubeconfig PATH]``: the scenario on a real
kube-scheduler (kwok nodes), with and without the extender."""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from augur.api.validation import SpecError
from augur.sim.placement import Scenario, parse_scenario

ORDERS = ("scenario", "reversed", "shuffled")


def register(sub: Any) -> None:
    r = sub.add_parser(
        "replay", help="place a scenario's pods on a real kube-scheduler (kwok nodes), with and without the extender"
    )
    r.add_argument("scenario", type=Path, help="scenario YAML (the format of `simulate`)")
    r.add_argument("--json", action="store_true", help="print one JSON object (the format of `simulate`)")
    r.add_argument("--seed", type=int, help="seed of the node shuffle and the offline search (default: the scenario's)")
    r.add_argument("--node-order", choices=ORDERS, default="scenario", help="order the nodes are created and listed in")
    r.add_argument("--without-extender", action="store_true", help="run only kube-scheduler alone (no `augur` row)")
    r.add_argument(
        "--no-wait-for-plan",
        action="store_true",
        help="do not hold each pod (scheduling gate) until the extender's plan has a slot for it",
    )
    r.add_argument(
        "--burst",
        action="store_true",
        help="scale every Deployment to its replicas at once, without the gate (as when an application is installed)",
    )
    gate = r.add_mutually_exclusive_group()  # one way for the gate to arrive: never one silently ignored
    gate.add_argument(
        "--plan-gate",
        action="store_true",
        help="pod templates of the extender's pass carry the plan gate (augur.dev/plan), lifted by the extender",
    )
    gate.add_argument(
        "--plan-gate-webhook",
        action="store_true",
        help="the extender's pass gets the plan gate from the chart's admission webhook (the extender serves HTTPS)",
    )
    r.add_argument(
        "--extender-replicas",
        type=int,
        default=1,
        help="extender processes, as the chart's extender.replicas: with more than one they elect one gate keeper"
        " (a Lease) and kube-scheduler calls them through a per-connection balancer (default: 1)",
    )
    r.add_argument(
        "--scheduler-to-any-replica",
        action="store_true",
        help="with --extender-replicas above 1: kube-scheduler calls every replica (the chart's <release>-extender"
        " Service, first connection to one that does not keep the gate) instead of the gate keeper's",
    )
    r.add_argument("--kubeconfig", type=Path, help="use this cluster instead of starting a local control plane")
    r.add_argument("--rounds", type=int, default=300, help="local-search kicks when the exact search is too big")
    r.set_defaults(func=_replay)


def _fail(message: str) -> int:
    print(f"augur placement replay: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; ``ValueError`` naming the file and every problem."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_scenario(raw)
    except SpecError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def node_order(count: int, how: str, seed: int) -> tuple[int, ...]:
    order = list(range(count))
    if how == "reversed":
        order.reverse()
    elif how == "shuffled":
        random.Random(seed).shuffle(order)
    return tuple(order)


def _replay(args: argparse.Namespace) -> int:
    from augur.devcluster.placement_replay import ReplayOptions, replay
    from augur.devcluster.replay_kube import ReplayError
    from augur.devcluster.replay_manifests import check_cluster_scenario

    if args.extender_replicas < 1:
        return _fail(f"--extender-replicas must be at least 1, got {args.extender_replicas}")
    if args.scheduler_to_any_replica and args.extender_replicas == 1:
        return _fail("--scheduler-to-any-replica needs --extender-replicas above 1")
    try:
        scenario = load_scenario(args.scenario)
        if args.seed is not None:
            scenario = replace(scenario, seed=args.seed)
        check_cluster_scenario(scenario)
    except SpecError as exc:
        return _fail(f"{args.scenario}: {exc}")
    except ValueError as exc:
        return _fail(str(exc))
    options = ReplayOptions(
        variants=("default",) if args.without_extender else ("augur", "default"),
        node_order=node_order(len(scenario.nodes), args.node_order, scenario.seed),
        search_rounds=max(0, args.rounds),
        wait_for_plan=not args.no_wait_for_plan,
        burst=args.burst,
        plan_gate=args.plan_gate,
        gate_webhook=args.plan_gate_webhook,
        extender_replicas=args.extender_replicas,
        scheduler_to_gate_keeper=not args.scheduler_to_any_replica,
    )
    try:
        report = replay(scenario, options, kubeconfig=args.kubeconfig)
    except ReplayError as exc:
        print(f"augur placement replay: error: {exc}", file=sys.stderr)
        return 2 if exc.invalid else 1
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def render(report: dict[str, Any]) -> str:
    best = report["best"]["network_cost"]
    lines = [f"{'placement':<10} {'network cost':>14} {'vs best':>8} {'load stddev':>12} {'unplaced':>9}"]
    for name in ("augur", "default", "best"):
        if name in report:
            r = report[name]
            ratio = f"{r['network_cost'] / best:.2f}x" if best > 0 else "-"
            cost, spread = r["network_cost"], r["load_stddev"]
            lines.append(f"{name:<10} {cost:>14.2f} {ratio:>8} {spread:>12.4f} {r['unplaced']:>9}")
    how = "exact (exhaustive search or MILP)" if report["best"]["exact"] else "local search (not proven optimal)"
    meta = report["replay"]
    lines.append(f"best: {how}")
    lines.append(f"real kube-scheduler, nodes listed as {', '.join(meta['nodeOrder'])}; {meta['seconds']} s")
    return "\n".join(lines)
