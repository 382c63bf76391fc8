"""Background asyncio tasks that the operator starts with kopf (a startup handler) and stops with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import MutableMapping
from typing import Any


async def stop_task(memo: MutableMapping[str, Any], key: str) -> None:
    """Cancel the task kept under ``key`` in kopf's memo, if there is one, and wait until it has ended."""
    task: asyncio.Task[None] | None = memo.get(key)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
