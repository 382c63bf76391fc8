"""Logging never blocks kopf's event loop, and the per-tick success lines of the resync timers are dropped."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from augur.operator.runner import flush_logs, log_off_the_loop


class SlowHandler(logging.Handler):
    """A stderr that takes 50 ms per line (a slow pipe or a throttled disk)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        time.sleep(0.05)
        self.lines.append(self.format(record))


@pytest.fixture
def slow_root() -> Iterator[SlowHandler]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    slow = SlowHandler()
    root.handlers[:] = [slow]
    root.setLevel(logging.INFO)
    try:
        yield slow
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def test_log_lines_are_written_off_the_callers_thread(slow_root: SlowHandler) -> None:
    log_off_the_loop()
    log = logging.getLogger("kopf.objects")
    started = time.monotonic()
    for k in range(10):
        log.info("line %d", k)
    log.info("Timer 'profile_resync' succeeded.")
    log.warning("Timer 'profile_resync' failed temporarily: boom")
    log.info("Timer 'profile_resync_extra' succeeded. with more")
    took = time.monotonic() - started
    flush_logs()
    assert took < 0.25  # 13 lines written inline would take 0.65 s
    assert slow_root.lines == [
        *(f"line {k}" for k in range(10)),
        "Timer 'profile_resync' failed temporarily: boom",
        "Timer 'profile_resync_extra' succeeded. with more",
    ]
