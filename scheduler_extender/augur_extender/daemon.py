"""A daemon thread that runs a loop until stopped: the background planner's and the gate keeper's."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Daemon:
    """Runs ``loop`` on a daemon thread named ``name``; the loop watches :attr:`stopping`."""

    def __init__(self, name: str, loop: Callable[[], None]) -> None:
        self.name, self.loop = name, loop
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.stopping.clear()
        self._thread = threading.Thread(target=self.loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to stop and wait for it, at most ``timeout`` seconds."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
