"""The operator's background loops (migrations, rebalancer, topology resync): ``every`` runs them,
``stop_task`` cleans them up."""

from __future__ import annotations

import asyncio
import logging

import pytest

from augur.operator.background import every, stop_task


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


def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def step() -> None:
        runs.append(len(runs))
        if len(runs) == 2:
            raise RuntimeError("boom")

    async def main() -> None:
        memo = {"loop": asyncio.create_task(every(lambda: 0.01, step, logging.getLogger("t"), "test tick"))}
        while len(runs) < 4:
            await asyncio.sleep(0.005)
        await stop_task(memo, "loop")
        assert memo["loop"].cancelled()

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())
    assert len(runs) >= 4  # the second run raised; the third and fourth still came
    failures = [r for r in caplog.records if r.getMessage() == "test tick failed"]
    assert len(failures) == 1 and failures[0].exc_info is not None
