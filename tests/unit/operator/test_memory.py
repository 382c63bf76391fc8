"""Freed heap pages go back to the system after a warm-up."""

from __future__ import annotations

import ctypes.util
import sys

import pytest

from augur.operator.memory import rss_mib, trim


@pytest.mark.skipif(sys.platform != "linux" or ctypes.util.find_library("c") is None, reason="glibc only")
def test_trim_returns_the_pages_of_freed_objects() -> None:
    blocks = [bytes(4000) for _ in range(40_000)]  # ~160 MiB through malloc (larger than pymalloc's 512 B)
    kept = blocks[::50]  # a few survivors pin the heap's top: free() alone returns nothing
    del blocks
    before = rss_mib()
    assert trim()
    assert rss_mib() < before - 80
    assert len(kept) == 800
