"""Background asyncio tasks that the operator starts with kopf (a startup handler) and stops with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, MutableMapping
from typing import Any


async def every(seconds: Callable[[], float], step: Callable[[], None], logger: logging.Logger, what: str) -> None:
    """Run the blocking ``step`` on a worker thread, then again ``seconds()`` after the last one started
    (at once when it took longer), until cancelled. An exception is logged with its traceback and the loop
    goes on: a bug in one run must not stop every later one."""
    while True:
        started = time.monotonic()
        try:
            await asyncio.to_thread(step)
        except Exception:
            logger.exception(f"{what} failed")
        await asyncio.sleep(max(0.0, seconds() - (time.monotonic() - started)))


async def stop_task(memo: MutableMapping[str, Any], key: str) -> None:
    """Cancel the task kept under ``key`` in kopf's memo, if there is one, and wait until it has ended."""
    task: asyncio.Task[None] | None = memo.get(key)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
