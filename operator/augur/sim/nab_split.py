"""A fixed development / held-out split of the NAB corpus, decided by file names alone.

The anomaly detector's parameters are tuned on the development half only; the held-out half is
scored with those parameters to check that the result carries over (``docs/anomaly.md``). The split
was fixed before any tuning and never depends on scores or data:

* the files of each category (``realTweets``, ``realKnownCause``, ...) are ordered by the SHA-256 of
  their relative name (``realKnownCause/nyc_taxi.csv``);
* walking the categories in name order and their files in hash order, files alternate between the
  development and held-out halves, with one running alternation across categories, so every category
  is split as evenly as its size allows and the two halves differ by at most one file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Half = Literal["dev", "holdout"]
HALVES: tuple[Half, Half] = ("dev", "holdout")


@dataclass(frozen=True)
class Split:
    """File names of the development and held-out halves, each in the order given to :func:`split`."""

    dev: tuple[str, ...]
    holdout: tuple[str, ...]

    def half(self, name: Half) -> tuple[str, ...]:
        return self.dev if name == "dev" else self.holdout


def name_hash(name: str) -> str:
    """Hex SHA-256 of a relative file name (the order of files within a category)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def assign(names: Iterable[str]) -> dict[str, Half]:
    """Half of every file name (``category/file.csv``)."""
    by_category: dict[str, list[str]] = {}
    for name in names:
        by_category.setdefault(name.split("/", 1)[0] if "/" in name else "", []).append(name)
    out: dict[str, Half] = {}
    turn = 0
    for category in sorted(by_category):
        for name in sorted(by_category[category], key=lambda n: (name_hash(n), n)):
            out[name] = HALVES[turn % 2]
            turn += 1
    return out


def split(names: Sequence[str]) -> Split:
    """The two halves of ``names`` (duplicates are an error: a file cannot be in both)."""
    if len(set(names)) != len(names):
        raise ValueError("duplicate file names in the corpus")
    halves = assign(names)
    return Split(
        tuple(n for n in names if halves[n] == "dev"),
        tuple(n for n in names if halves[n] == "holdout"),
    )
