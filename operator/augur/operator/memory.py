"""Giving freed memory back to the operating system.

A cold start reads weeks of history for every profile (parsed answers, float tuples, detector
warm-up) on several threads at once. glibc's allocator keeps the pages these transient objects
used: the process's RSS stays at the high-water mark although the live objects are a fraction of it.
``malloc_trim(0)`` returns free pages of every arena to the system (``madvise``), so the operator
calls :func:`trim` whenever its warm-up queue has drained. Without glibc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from functools import cache
from typing import Any

log = logging.getLogger("augur.memory")


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def rss_mib() -> float:
    """This process's resident set size (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def trim() -> bool:
    """Return free heap pages to the system; True when glibc's ``malloc_trim`` ran."""
    libc = _libc()
    if libc is None:
        return False
    before, started = rss_mib(), time.monotonic()
    libc.malloc_trim(0)
    log.info(
        "returned free memory to the system: RSS %.0f -> %.0f MiB in %.2f s",
        before, rss_mib(), time.monotonic() - started,
    )  # fmt: skip
    return True
