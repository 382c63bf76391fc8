"""Giving freed memory back to the operating system.

A cold start reads weeks of history for every profile (parsed answers, float tuples, detector
warm-up) on several threads at once. glibc's allocator keeps the pages these transient objects
used: the process's RSS stays at the high-water mark although the live objects are a fraction of it.
``malloc_trim(0)`` returns free pages of every arena to the system (``madvise``), so the operator
calls :func:`trim` whenever its warm-up queue has drained, and every ``AUGUR_TRIM_SECONDS`` (60) from a
background thread (:func:`trim_every`: restores of saved state, fits being installed and the status
writes of a thousand profiles churn the heap too).

Blocks of ``AUGUR_MALLOC_MMAP_THRESHOLD`` bytes or more (default 128 KiB) get mappings of their own
(:func:`fix_mmap_threshold`), so large transient buffers go back to the system as soon as they are freed.

glibc also gives each thread that allocates concurrently an arena of its own, up to eight per core; the
operator's 30-odd handler threads then each keep a fragmented heap. :func:`limit_arenas` caps them
(``AUGUR_MALLOC_ARENAS``, default 2, as ``MALLOC_ARENA_MAX`` would) before any thread starts. Without
glibc (musl, macOS) these functions do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
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
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
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


M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter number for the arena limit (``malloc.h``)."""


def _mallopt(parameter: int, value: int) -> bool:
    """glibc's ``mallopt(parameter, value)``; False without glibc or for a ``value`` of 0 (glibc's default)."""
    libc = _libc()
    if value <= 0 or libc is None:
        return False
    return bool(libc.mallopt(parameter, value))


def limit_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas at ``count`` (0: leave glibc's default); True when the cap was set.
    Call it before threads start: arenas already created stay."""
    return _mallopt(M_ARENA_MAX, count)


M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the size from which blocks are mapped on their own."""


def fix_mmap_threshold(size: int) -> bool:
    """Serve every block of at least ``size`` bytes by its own mapping, returned to the system when freed
    (0: leave glibc's sliding threshold); True when it was set.

    glibc starts at 128 KiB but raises the threshold to the size of every mapped block freed, up to
    32 MiB: after the first large answer (kopf's list of every profile) is freed, TLS buffers and parsed
    answers of hundreds of KiB come from the heap, where they fragment it. Setting it fixes it."""
    return _mallopt(M_MMAP_THRESHOLD, size)


def trim_every(seconds: float, stop: threading.Event | None = None) -> threading.Thread | None:
    """A daemon thread that calls :func:`trim` every ``seconds`` (0: none) until ``stop`` is set."""
    if seconds <= 0 or _libc() is None:
        return None
    stopped = stop or threading.Event()

    def loop() -> None:
        while not stopped.wait(seconds):
            trim()

    thread = threading.Thread(target=loop, name="augur-trim", daemon=True)
    thread.start()
    return thread
