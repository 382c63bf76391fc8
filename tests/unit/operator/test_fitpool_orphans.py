"""Fit workers die with the operator, even when it is SIGKILLed and cannot shut its pool down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PARENT = """
import os, sys
from augur.operator.fitpool import FitPool
pool = FitPool(1)
pool._pool().submit(os.getpid).result(timeout=120)   # a live worker process
print(" ".join(str(p.pid) for p in pool._pool()._processes.values()), flush=True)
sys.stdin.read()                                       # wait to be killed
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of an already-exited worker counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_exit_when_the_operator_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert workers and all(_alive(w) for w in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "fit workers outlived the SIGKILLed operator"
    finally:
        parent.kill()


def test_workers_run_nicer_than_the_operator() -> None:
    from augur.operator.fitpool import FitPool

    pool = FitPool(1, niceness=7)
    try:
        assert pool._pool().submit(os.nice, 0).result(timeout=120) == min(19, os.nice(0) + 7)
    finally:
        pool.shutdown()
