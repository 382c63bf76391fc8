"""Freed heap pages go back to the system after a warm-up."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
import threading
import time

import pytest

from augur.operator import memory
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


ARENAS = """
import ctypes, ctypes.util, sys, threading
from augur.operator.memory import limit_arenas
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
print(limit_arenas(int(sys.argv[1])), flush=True)
def churn():  # ctypes calls release the GIL: the threads' mallocs contend, as C extensions' do
    for _ in range(20000):
        libc.free(libc.malloc(256))
threads = [threading.Thread(target=churn) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc.malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas(limit: int) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", ARENAS, str(limit)], capture_output=True, text=True, check=True)
    return out.stdout.strip(), out.stderr.count("Arena ")


@pytest.mark.skipif(sys.platform != "linux" or ctypes.util.find_library("c") is None, reason="glibc only")
def test_limit_arenas_caps_the_heaps_of_concurrent_threads() -> None:
    said, arenas = _arenas(1)
    assert said == "True"
    assert arenas == 1
    said, arenas = _arenas(0)  # 0 leaves glibc's default: the contending threads get arenas of their own
    assert said == "False"
    assert arenas > 1


def test_trim_every_runs_until_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    monkeypatch.setattr(memory, "trim", lambda: calls.append(1.0) or True)
    monkeypatch.setattr(memory, "_libc", object)
    stop = threading.Event()
    thread = memory.trim_every(0.01, stop)
    assert thread is not None
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(2)
    assert len(calls) >= 3 and not thread.is_alive()
    assert memory.trim_every(0, stop) is None


MMAP = """
import ctypes, ctypes.util, sys
from augur.operator.memory import fix_mmap_threshold
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
class Info(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(n, ctypes.c_size_t) for n in names.split()]
libc.mallinfo2.restype = Info
print(fix_mmap_threshold(int(sys.argv[1])), flush=True)
libc.free(libc.malloc(4 << 20))  # a large answer, freed: glibc's sliding threshold moves up to 4 MiB
before = libc.mallinfo2().hblks
blocks = [libc.malloc(256 << 10) for _ in range(40)]  # TLS buffers, parsed answers
print(libc.mallinfo2().hblks - before, flush=True)  # of them, blocks that have mappings of their own
"""


@pytest.mark.skipif(sys.platform != "linux" or ctypes.util.find_library("c") is None, reason="glibc only")
def test_a_fixed_mmap_threshold_keeps_large_blocks_out_of_the_heap() -> None:
    def mapped(threshold: int) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", MMAP, str(threshold)], capture_output=True, text=True, check=True)
        fixed, blocks = out.stdout.split()
        return fixed, int(blocks)

    assert mapped(128 << 10) == ("True", 40)  # each 256 KiB block mapped alone: unmapped when freed
    fixed, blocks = mapped(0)  # glibc's sliding threshold: they come from the heap after the first free
    assert (fixed, blocks) == ("False", 0)
