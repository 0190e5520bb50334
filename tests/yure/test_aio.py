"""yure.aio.raise_if_cancelling: a cancellation swallowed inside a task is raised again."""

from __future__ import annotations

import asyncio

import pytest

from yure.aio import background, raise_if_cancelling


async def _loop_that_swallows_cancel(started: asyncio.Event, *, check: bool, withdraw: bool) -> str:
    """One turn of a driver loop whose await loses the cancellation (as redis-py may)."""
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if withdraw and task is not None:
            task.uncancel()  # handled on purpose: no longer pending
    if check:
        raise_if_cancelling()
    return "went on"


@pytest.mark.parametrize(
    ("check", "withdraw", "cancelled"),
    [
        (True, False, True),  # lost cancel is raised again
        (False, False, False),  # the control: without the check the loop runs on
        (True, True, False),  # a withdrawn cancel is not pending
    ],
)
async def test_swallowed_cancel_is_raised_again(
    check: bool, withdraw: bool, cancelled: bool
) -> None:
    started = asyncio.Event()
    task = asyncio.create_task(_loop_that_swallows_cancel(started, check=check, withdraw=withdraw))
    await started.wait()
    task.cancel()
    if cancelled:
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
    else:
        assert await task == "went on"


async def test_no_cancel_requested_returns() -> None:
    raise_if_cancelling()


async def test_outside_a_task_returns() -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def callback() -> None:  # loop callbacks run with no current task
        assert asyncio.current_task() is None
        raise_if_cancelling()
        done.set_result(None)

    loop.call_soon(callback)
    await asyncio.wait_for(done, timeout=5)


async def test_background_runs_during_the_block_and_is_cancelled_after() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    async with background(work(), name="test.work"):
        await asyncio.wait_for(started.wait(), timeout=5)
        assert not cancelled.is_set()
    assert cancelled.is_set()


async def test_background_raises_what_the_task_raised() -> None:
    failed = asyncio.Event()

    async def work() -> None:
        failed.set()
        raise ValueError("task failed")

    with pytest.raises(ValueError, match="task failed"):
        async with background(work(), name="test.failing"):
            await asyncio.wait_for(failed.wait(), timeout=5)
