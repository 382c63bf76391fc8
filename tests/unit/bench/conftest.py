"""Importing the benchmark scripts: they live in ``bench/`` (not a package) and import their neighbours
(``common``, ``datasets``, ...) by name, so ``bench/`` is on ``sys.path`` while a test uses them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture(scope="module")
def bench_import() -> Iterator[Callable[[str], ModuleType]]:
    """``bench_import("planner_search")``: the script's module, with ``bench/`` on the path for the test."""
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH))
