"""``augur crds generate|check``: write or verify ``crds/`` from the API models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from augur.api import KINDS
from augur.api.crdgen import render_all


def register(subparsers: Any) -> None:
    crds = subparsers.add_parser("crds", help="generate or check the CRD manifests")
    sub = crds.add_subparsers(dest="crds_command", metavar="ACTION", required=True)
    for name, func, text in (("generate", _generate, "write crds/*.yaml"), ("check", _check, "fail if stale")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--out", type=Path, default=Path("crds"), help="directory of the manifests (default: crds)")
        p.set_defaults(func=func)


def _generate(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all(KINDS).items():
        (args.out / name).write_text(text)
        print(f"wrote {args.out / name}")
    return 0


def _check(args: argparse.Namespace) -> int:
    stale = stale_files(args.out)
    for name in stale:
        print(f"{args.out / name} is stale: run `augur crds generate`", file=sys.stderr)
    return 1 if stale else 0


def stale_files(out: Path) -> list[str]:
    """Names of CRD files that are missing or differ from what the models generate."""
    expected = render_all(KINDS)
    stale = [n for n, t in expected.items() if not (out / n).is_file() or (out / n).read_text() != t]
    extra = [p.name for p in out.glob("augur.dev_*.yaml") if p.name not in expected]
    return sorted(stale + extra)
