"""``augur extender run``: the scheduler extender (``python -m augur_extender`` takes the same flags)."""

from __future__ import annotations

import argparse
from typing import Any

from augur_extender.__main__ import build_parser, serve


def register(subparsers: Any) -> None:
    ext = subparsers.add_parser("extender", help="run the kube-scheduler extender")
    sub = ext.add_subparsers(dest="extender_command", metavar="ACTION", required=True)
    run = sub.add_parser(
        "run", parents=[build_parser()], add_help=False, help="serve the filter and prioritize verbs on HTTP(S)"
    )
    run.set_defaults(func=lambda args: _run(args, run))


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    return serve(args, parser)
