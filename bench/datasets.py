"""Demand series for the benchmarks and their development / validation split (``issues show 10``).

Series: the shared traces and NAB's real series of the kinds a user would scale on (realTraffic,
realAWSCloudwatch, realTweets, realKnownCause, realAdExchange), each used as demand. The split is fixed
before any tuning and does not depend on results: a series is in the development set when the SHA-256
of its file name, read as a number, is even, else in the validation set. Tune on development only;
report both, labelled.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from common import SHARED

NAB_KINDS = ("realTraffic", "realAWSCloudwatch", "realTweets", "realKnownCause", "realAdExchange")
DEVELOPMENT = "development"
VALIDATION = "validation"


def split_of(path: Path) -> str:
    """``development`` or ``validation``, from the file name alone."""
    digest = hashlib.sha256(path.name.encode()).hexdigest()
    return DEVELOPMENT if int(digest, 16) % 2 == 0 else VALIDATION


def kind_of(path: Path) -> str:
    return "traces" if path.parent.name == "traces" else path.parent.name


def series() -> list[Path]:
    """Every demand series (absent ones are left out: ``../shared`` may be missing)."""
    paths = sorted((SHARED / "traces").glob("*.csv"))
    for kind in NAB_KINDS:
        paths.extend(sorted((SHARED / "nab" / "data" / kind).glob("*.csv")))
    return paths


def by_split(name: str) -> list[Path]:
    return [p for p in series() if split_of(p) == name]


def sample(name: str, per_kind: int = 1) -> list[Path]:
    """A small deterministic sample of one split for slow benchmarks: every shared trace of the split
    and the first ``per_kind`` series of each NAB kind in hash order (not chosen by results)."""
    chosen: list[Path] = []
    for kind in ("traces", *NAB_KINDS):
        members = sorted(
            (p for p in by_split(name) if kind_of(p) == kind),
            key=lambda p: hashlib.sha256(p.name.encode()).hexdigest(),
        )
        chosen.extend(members if kind == "traces" else members[:per_kind])
    return chosen
