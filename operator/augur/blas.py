"""One BLAS thread per process, for every entry point of Augur (operator, extender, CLI, benchmarks).

Augur's linear algebra is small: statsmodels' fits, and the planner's matrix products (a few thousand
nodes by a few hundred workloads). OpenBLAS spreads such products over every core and its worker threads
spin while they wait. Measured on a 2-core machine (``bench/planner_bench.py``, 1,000 nodes, 500 pending
pods, three seeds; ``bench/results/planner.json`` and ``planner_blas_2.json``): the first plan took 2.2-2.5 s
of CPU with one thread against 3.5-4.4 s with two, for the same plans in the same wall time (2.0-2.4 s).
In the extender the spinning threads take CPU that requests and kube-scheduler could use (kube-scheduler's
throughput and prioritize latency showed no difference beyond the spread between runs:
``docs/placement-results.md``); in the operator they slow statsmodels' fits up to tenfold on busy cores.

:func:`one_thread` must run before numpy is first imported (OpenBLAS reads the variables when it loads);
the packages call it first thing (:mod:`augur.cli`, so every ``augur`` command; :mod:`augur.operator`;
:mod:`augur_extender`, so ``python -m augur_extender``). Scripts whose imports must stay at the top (the
benchmarks) write ``os.environ.update(ONE_THREAD | os.environ)`` instead. A variable already set in the
environment wins.
"""

from __future__ import annotations

import os

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""The thread-count variables of the BLAS libraries numpy may be built with (OpenBLAS, OpenMP, MKL)."""

ONE_THREAD: dict[str, str] = dict.fromkeys(VARIABLES, "1")
"""Each of :data:`VARIABLES` at 1."""


def one_thread() -> None:
    """Set each of :data:`VARIABLES` to 1 unless it is set already."""
    os.environ.update(ONE_THREAD | os.environ)
