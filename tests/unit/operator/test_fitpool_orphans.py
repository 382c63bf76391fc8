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


WORKER_LIBRARIES = """
import numpy as np
from augur.forecast.forecaster import ForecastSettings
from augur.operator.fitpool import FitPool
from augur.scaling.fitjob import FitJob
pool = FitPool(1)
values = 100 + 20 * np.sin(np.arange(300) * 2 * np.pi / 48)
pool.submit(FitJob(values, ForecastSettings(300.0, candidates=("holt_winters",)), None, 0.0)).result(timeout=300)
(worker,) = pool._pool()._processes.values()
maps = open(f"/proc/{worker.pid}/maps").read()
print("statsmodels" in maps, "_pydantic_core" in maps, flush=True)
pool.shutdown()
"""


def test_a_worker_loads_the_forecasting_code_and_not_the_operators() -> None:
    argv = [sys.executable, "-c", WORKER_LIBRARIES]
    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]  # statsmodels' extensions mapped, pydantic's not
