"""The development / validation split of the demand series, fixed before any tuning.

Series: the shared traces (``../shared/data/traces/*.csv``) and NAB's real series in ``realTraffic``,
``realAWSCloudwatch``, ``realTweets``, ``realKnownCause`` and ``realAdExchange``, each used as demand.
Within each folder the files are ordered by ``sha256(SALT + file name)`` and alternate, development
first: deterministic, blind to the data, and balanced across kinds of series (each folder is split in
half). Settings are tuned on development only; validation is reported, never tuned on.

Run ``python bench/split.py`` to print the assignment.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED

SALT = "augur-backtest-split-v1:"
NAB_FOLDERS = ("realTraffic", "realAWSCloudwatch", "realTweets", "realKnownCause", "realAdExchange")
DEVELOPMENT, VALIDATION = "development", "validation"


def _rank(path: Path) -> str:
    return hashlib.sha256((SALT + path.name).encode()).hexdigest()


def groups() -> list[list[Path]]:
    """The pool's series per folder (the shared traces, then each NAB folder), present files only."""
    out = [sorted((SHARED / "traces").glob("*.csv"))]
    out += [sorted((SHARED / "nab" / "data" / folder).glob("*.csv")) for folder in NAB_FOLDERS]
    return out


def split() -> dict[str, list[Path]]:
    """``{"development": [...], "validation": [...]}``."""
    out: dict[str, list[Path]] = {DEVELOPMENT: [], VALIDATION: []}
    for group in groups():
        for i, path in enumerate(sorted(group, key=_rank)):
            out[DEVELOPMENT if i % 2 == 0 else VALIDATION].append(path)
    return out


if __name__ == "__main__":
    for name, paths in split().items():
        print(f"{name} ({len(paths)}):")
        for path in paths:
            print(f"  {path.parent.name}/{path.name}")
