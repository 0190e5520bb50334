"""Small asyncio helpers shared by every driver."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that was lost on the way.

    redis-py (8.x, asyncio) sometimes swallows a task's cancellation that arrives during
    a command (seen here: about half of the cancels sent to a task looping over commands
    were lost, and a poller then slept a whole poll interval before noticing). Every loop
    that runs until cancelled calls this once per turn, so shutdown never waits for ever.

    Raises:
        asyncio.CancelledError: the current task has a pending cancellation request.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@contextlib.asynccontextmanager
async def background(coro: Coroutine[Any, Any, None], *, name: str) -> AsyncIterator[None]:
    """Run ``coro`` as a task for the duration of the ``async with`` block.

    On exit the task is cancelled and awaited, so it never outlives its owner (an aiohttp
    ``cleanup_ctx`` is the usual one: ``async with background(...): yield``). An exception
    the task ended with is raised here; its own cancellation is not.
    """
    task = asyncio.create_task(coro, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
