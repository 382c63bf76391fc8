"""Locate (and on first use, build) the control plane's binaries.

``build-tools.sh`` next to this module compiles pinned Kubernetes, etcd and kwok versions from the Go
module proxy into ``$AUGUR_CACHE`` (default ``~/.cache/augur``), keyed by version. A warm cache answers
in well under a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("build-tools.sh")
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok")


@dataclass(frozen=True)
class Tools:
    bin_dir: Path

    def path(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def kwok_stages(self) -> Path:
        return self.bin_dir.parent / "kwok-stages.yaml"


def ensure_tools(quiet: bool = False) -> Tools:
    """Build whatever is missing (progress on stderr) and return where the binaries are."""
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the control plane binaries failed (exit {result.returncode}); see the log above")
    bin_dir = Path(result.stdout.strip().splitlines()[-1])
    missing = [b for b in BINARIES if not (bin_dir / b).is_file()]
    if missing:
        raise RuntimeError(f"build finished but {', '.join(missing)} missing from {bin_dir}")
    return Tools(bin_dir)


if __name__ == "__main__":  # pragma: no cover
    print(ensure_tools().bin_dir, file=sys.stdout)
