"""A plain progress bar on stderr for long backtests."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``update(done)`` redraws at most every 0.2 s; silent when ``total`` is below ``min_total``."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, min_total: int = 20000) -> None:
        self.label = label
        self.total = max(1, total)
        self.stream = sys.stderr if stream is None else stream
        self.enabled = total >= min_total
        self._shown = 0.0
        self._start = time.monotonic()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._shown < 0.2 and done < self.total):
            return
        self._shown = now
        share = min(1.0, done / self.total)
        bar = "#" * int(30 * share)
        elapsed = now - self._start
        self.stream.write(f"\r{self.label:<16} [{bar:<30}] {share:6.1%} {elapsed:6.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()
