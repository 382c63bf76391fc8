"""``augur dev up|down|status|demo|trace|tools``: the local control plane for people."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.demo import run_demo
from augur.devcluster.nodes import default_nodes, generated_nodes
from augur.devcluster.state import read_state, stop_from_state
from augur.devcluster.tools import ensure_tools
from augur.sim.synthetic import SyntheticSpec, generate, write_csv

DEFAULT_DIR = Path.home() / ".cache" / "augur" / "clusters"


def register(subparsers: Any) -> None:
    dev = subparsers.add_parser("dev", help="run a local control plane (etcd, apiserver, scheduler, kwok, Prometheus)")
    sub = dev.add_subparsers(dest="dev_command", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="start a local cluster in the background and print its kubeconfig")
    up.add_argument("--nodes", type=int, default=0, help="number of generated kwok nodes (default: 6 in 3 zones)")
    up.set_defaults(func=_up)
    down = sub.add_parser("down", help="stop a cluster started with `augur dev up`")
    down.set_defaults(func=_down)
    status = sub.add_parser("status", help="show whether a cluster is running")
    status.set_defaults(func=_status)
    demo = sub.add_parser("demo", help="predictive scaling live: Augur next to reactive-only on replayed demand")
    demo.add_argument("--keep", action="store_true", help="leave the cluster running afterwards")
    demo.add_argument("--report", type=Path, default=None, help="HTML report path (default: DIR/demo-report.html)")
    demo.set_defaults(func=lambda a: run_demo(a.dir, a.keep, a.report))
    trace = sub.add_parser("trace", help="write a synthetic demand trace (CSV for `augur backtest`)")
    trace.add_argument("out", type=Path, help="CSV file to write (timestamp,value)")
    trace.add_argument("--days", type=float, default=21.0, help="length in days (21)")
    trace.add_argument("--interval", type=float, default=300.0, help="seconds between points (300)")
    trace.add_argument("--base", type=float, default=400.0, help="weekday daytime level (400)")
    trace.add_argument("--seed", type=int, default=0, help="random seed (0)")
    trace.set_defaults(func=_trace)
    tools = sub.add_parser("tools", help="build (or locate) the control plane binaries and print their directory")
    tools.set_defaults(func=_tools)
    for p, name in ((up, "dev"), (down, "dev"), (status, "dev"), (demo, "demo")):
        p.add_argument(
            "--dir", type=Path, default=DEFAULT_DIR / name, help=f"cluster directory (default: {DEFAULT_DIR / name})"
        )


def _up(args: argparse.Namespace) -> int:
    if read_state(args.dir):
        print(f"a cluster is already running in {args.dir}; `augur dev down --dir {args.dir}` first")
        return 1
    nodes = generated_nodes(args.nodes) if args.nodes else default_nodes()
    cluster = LocalCluster.create(args.dir, ClusterConfig(nodes=nodes, die_with_parent=False))
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    print(f"local cluster up in {cluster.startup_seconds:.1f} s ({len(nodes)} kwok nodes)")
    print(f"Prometheus: {cluster.prometheus_url}")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = stop_from_state(args.dir)
    print(f"stopped: {', '.join(stopped)}" if stopped else f"no cluster running in {args.dir}")
    return 0


def _status(args: argparse.Namespace) -> int:
    state = read_state(args.dir)
    print(json.dumps(state, indent=2) if state else f"no cluster running in {args.dir}")
    return 0 if state else 1


def _trace(args: argparse.Namespace) -> int:
    spec = SyntheticSpec(days=args.days, interval_seconds=args.interval, base=args.base, seed=args.seed)
    out = write_csv(generate(spec, name=args.out.stem), args.out)
    print(f"wrote {spec.steps} points to {out}")
    return 0


def _tools(_: argparse.Namespace) -> int:
    print(ensure_tools().bin_dir)
    return 0
