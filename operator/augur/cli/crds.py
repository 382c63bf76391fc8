"""``augur crds generate|check``: write or verify ``crds/`` from the API models.

The same files go to ``charts/augur/crds/`` (Helm installs a chart's ``crds/`` before its templates and
keeps them on uninstall). That is a copy, not a symlink, because ``helm package`` archives do not keep
symlinks; ``augur crds check`` fails when either copy is stale.
"""

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
        p.add_argument(
            "--out",
            type=Path,
            action="append",
            help="directory of the manifests, repeatable (default: crds and charts/augur/crds)",
        )
        p.set_defaults(func=func)


OUT_DIRS = (Path("crds"), Path("charts") / "augur" / "crds")
"""Where the CRDs go by default: the kubectl/GitOps install path and the Helm chart's ``crds/``."""


def _generate(args: argparse.Namespace) -> int:
    rendered = render_all(KINDS)
    for out in args.out or OUT_DIRS:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in rendered.items():
            (out / name).write_text(text)
            print(f"wrote {out / name}")
        for extra in sorted(set(p.name for p in out.glob("augur.dev_*.yaml")) - set(rendered)):
            (out / extra).unlink()
            print(f"removed {out / extra} (no such kind any more)")
    return 0


def _check(args: argparse.Namespace) -> int:
    stale = [out / name for out in args.out or OUT_DIRS for name in stale_files(out)]
    for path in stale:
        print(f"{path} is stale: run `augur crds generate`", file=sys.stderr)
    return 1 if stale else 0


def stale_files(out: Path) -> list[str]:
    """Names of CRD files that are missing or differ from what the models generate."""
    expected = render_all(KINDS)
    stale = [n for n, t in expected.items() if not (out / n).is_file() or (out / n).read_text() != t]
    extra = [p.name for p in out.glob("augur.dev_*.yaml") if p.name not in expected]
    return sorted(stale + extra)
