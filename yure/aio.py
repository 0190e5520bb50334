"""Small asyncio helpers shared by every driver."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that was lost on the way.

    redis-py (8.x, asyncio) sometimes swallows a task's cancellation that arrives during
    a command (seen here: about half of the cancels sent to a task looping over commands
    were lost, and a poller then slept a whole poll interval before noticing). The Redis
    call wrappers check after every call (:func:`bounded_call`); a loop that waits on
    something else (sockets, HTTP) calls this once per turn, so shutdown never waits for
    ever.

    Raises:
        asyncio.CancelledError: the current task has a pending cancellation request.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def bounded_call(awaitable: Awaitable[T], timeout_s: float) -> T:
    """Await one network call (a Redis command) under ``timeout_s``, then re-raise a
    cancellation the client library swallowed meanwhile (:func:`raise_if_cancelling`) —
    also when the call failed instead. Every Redis wrapper goes through this, so the
    loops above them need no check of their own.

    Raises:
        TimeoutError: no answer within ``timeout_s``.
        asyncio.CancelledError: the task was cancelled during the call.
        Exception: whatever ``awaitable`` raised.
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await awaitable
    finally:
        raise_if_cancelling()


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
