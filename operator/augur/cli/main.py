"""``augur``: one entry point, one module per command group.

Each module in :data:`COMMANDS` exposes ``register(subparsers)``, which adds its subcommands and sets
``func`` on their parsers; ``func(args)`` returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from augur import __version__

COMMANDS = (
    "augur.cli.crds",
    "augur.cli.backtest",
    "augur.cli.dev",
    "augur.cli.operator",
    "augur.cli.extender",
    "augur.cli.nab",
    "augur.cli.placement",
)


class UsageError(Exception):
    """Bad command-line input: printed as ``augur: error: ...`` with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="augur", description="Predictive scaling and placement for Kubernetes.")
    parser.add_argument("--version", action="version", version=f"augur {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        parser.exit(2, f"augur: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
