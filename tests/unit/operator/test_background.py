"""stop_task: the cleanup of the operator's background loops (migrations, rebalancer, topology resync)."""

from __future__ import annotations

import asyncio

from augur.operator.background import stop_task


def test_stop_task_cancels_and_awaits_the_task_and_ignores_a_missing_one() -> None:
    async def scenario() -> tuple[bool, bool]:
        async def forever() -> None:
            await asyncio.sleep(3600)

        memo = {"loop": asyncio.create_task(forever())}
        await asyncio.sleep(0)  # the task starts
        await stop_task(memo, "loop")
        await stop_task(memo, "absent")  # nothing started under this key: nothing to do
        return memo["loop"].cancelled(), memo["loop"].done()

    assert asyncio.run(scenario()) == (True, True)
