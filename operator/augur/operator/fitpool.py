"""A bounded pool of worker processes for model fits, so statsmodels never runs on the operator's threads.

Fits are CPU-bound and hold the GIL, so they run in separate processes (``spawn``: no forked copies of
the operator's threads and sockets). The pool has ``AUGUR_FIT_WORKERS`` processes; submissions queue.
A profile keeps deciding with its previous model while its fit is queued or running, and a slow fit
only delays the fits queued behind it, never a cadence. A crashed worker breaks the pool; it is
recreated on the next submission and the lost fits are retried by their profiles. Workers exit on their
own when the operator dies, even by SIGKILL (:func:`~augur.operator.fitworker.exit_with_parent`), so no fit
process is orphaned. A worker imports only the forecasting code and statsmodels (:mod:`augur.operator.fitworker`).
Workers run at a lower CPU priority (``AUGUR_FIT_NICE``, default 10): a fit is background work that may
take its time, while a cadence is not; under CPU contention the operator's own threads (and, on a
shared node, the API server) go first.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from augur.forecast.forecaster import Forecaster
from augur.operator import metrics
from augur.operator.fitworker import start_worker
from augur.scaling.fitjob import FitJob, run_fit


class FitPool:
    def __init__(self, workers: int, niceness: int = 0) -> None:
        """``niceness``: added to each worker's nice value (0: the operator's priority)."""
        self.workers = max(1, workers)
        self.niceness = max(0, niceness)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight = 0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=start_worker,
                initargs=(os.getpid(), self.niceness),
            )
        return self._executor

    def submit(self, job: FitJob) -> Future[Forecaster]:
        submitted = time.monotonic()
        with self._lock:
            try:
                future = self._pool().submit(run_fit, job)
            except BrokenProcessPool:
                self._executor = None
                future = self._pool().submit(run_fit, job)
            self._in_flight += 1
        future.add_done_callback(lambda f: self._done(f, submitted))
        return future

    def _done(self, _: Future[Forecaster], submitted: float) -> None:
        metrics.FIT_SECONDS.observe(time.monotonic() - submitted)
        with self._lock:
            self._in_flight -= 1

    @property
    def backlog(self) -> int:
        """Fits queued or running."""
        return self._in_flight

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


class InlinePool:
    """Runs fits synchronously in the caller (unit tests and tools only)."""

    workers = 1
    backlog = 0

    def submit(self, job: FitJob) -> Future[Forecaster]:
        future: Future[Forecaster] = Future()
        try:
            future.set_result(run_fit(job))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def shutdown(self) -> None:
        pass
