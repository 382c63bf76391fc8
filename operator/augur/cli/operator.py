"""``augur operator run``: the kopf operator in this process."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from augur.cli.main import UsageError
from augur.operator.settings import OperatorSettings


def register(subparsers: Any) -> None:
    op = subparsers.add_parser("operator", help="run the Augur operator")
    sub = op.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="watch WorkloadProfiles and act on them (settings: AUGUR_* variables)")
    run.add_argument("--namespace", action="append", default=None, help="watch only this namespace (repeatable)")
    run.add_argument("--liveness", default=None, help="liveness endpoint URL (default http://0.0.0.0:8080/healthz)")
    run.add_argument("--resync-seconds", type=float, default=None, help="re-check interval (default 30)")
    run.add_argument("--log-format", choices=("json", "plain"), default=None, help="log format (default json)")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        settings = OperatorSettings.from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.resync_seconds is not None and args.resync_seconds <= 0:
        raise UsageError("--resync-seconds must be positive")
    overrides = {
        "namespaces": tuple(args.namespace) if args.namespace else None,
        "liveness": args.liveness,
        "resync_seconds": args.resync_seconds,
        "log_format": args.log_format,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    from augur.operator.runner import run  # kopf is imported only when the operator actually runs

    return run(settings)
