"""What runs in a fit worker besides the fits: its start (priority, exit with the operator).

Kept apart from :mod:`augur.operator.fitpool` so that a worker imports nothing it does not use: a spawned
worker imports the modules of its initializer and of the pickled work (:mod:`augur.scaling.fitjob`), and
the pool's module would bring prometheus-client and the operator's decision code (with pydantic).
"""

from __future__ import annotations

import os
import threading
import time

PARENT_POLL_SECONDS = 1.0


def start_worker(parent: int, niceness: int) -> None:
    """In a new worker: lower its CPU priority by ``niceness`` and end it with ``parent``."""
    if niceness:
        os.nice(niceness)
    exit_with_parent(parent)


def exit_with_parent(parent: int, poll_seconds: float = PARENT_POLL_SECONDS) -> None:
    """In a worker: end this process as soon as ``parent`` (the operator) is gone.

    A SIGKILLed operator cannot shut its pool down; its workers are re-parented and would keep fitting
    for nobody. A daemon thread notices the new parent within ``poll_seconds`` and exits at once.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
