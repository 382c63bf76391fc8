"""bench/placement_quality.py: a result merged from parts says what its parts ran."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest


@pytest.fixture
def module(bench_import: Callable[[str], ModuleType]) -> ModuleType:
    return bench_import("placement_quality")


def _part(seeds: list[int], commit: str) -> dict[str, Any]:
    rows = [{"family": "groups", "pods": 50, "seed": s} for s in seeds]
    return {"set": "fresh", "seeds": ",".join(map(str, seeds)), "commit": commit, "rows": rows, "summary": {}}


def test_merged_header_has_every_part_s_seeds_and_lists_what_the_parts_disagree_on(module: ModuleType) -> None:
    header = module.merged_header([_part([23, 24], "abc"), _part([20, 22], "abc"), _part([21], "def")])
    assert header["seeds"] == "20,21,22,23,24"
    assert header["set"] == "fresh"
    assert header["commit"] == ["abc", "abc", "def"]
    assert "rows" not in header and "summary" not in header


def test_merged_header_of_agreeing_parts_keeps_their_values(module: ModuleType) -> None:
    header = module.merged_header([_part([1], "abc"), _part([2], "abc")])
    assert header["commit"] == "abc" and header["seeds"] == "1,2"
