"""``python -m augur.devcluster.render_deploy [--check]``: write or check ``deploy/*.yaml`` from the chart."""

from __future__ import annotations

import argparse
import sys

from augur.devcluster.chart import DEPLOY, render_deploy, stale_deploy_files
from augur.devcluster.tools import ensure_tools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when deploy/ differs from the chart")
    args = parser.parse_args(argv)
    helm_bin = str(ensure_tools().helm)
    if args.check:
        stale = stale_deploy_files(helm_bin)
        for name in stale:
            print(f"deploy/{name} is stale: run hack/render-deploy.sh", file=sys.stderr)
        return 1 if stale else 0
    for name, text in render_deploy(helm_bin).items():
        (DEPLOY / name).write_text(text)
        print(f"wrote deploy/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
