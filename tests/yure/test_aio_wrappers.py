"""A cancellation that a Redis client swallows inside a call is raised again by the call
wrapper itself (Timeline._call, safety_check.store.call), not at every loop's call site."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio
import redis.exceptions

from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.safety_check import store


async def _swallowing(started: asyncio.Event, *, fail: bool) -> str:
    """A Redis reply that loses the cancellation sent while it waited (as redis-py may):
    it answers, or fails with a connection error, as if nothing happened."""
    started.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()
    if fail:
        raise redis.exceptions.ConnectionError("connection closed")
    return "reply"


def _timeline_call(client: redis.asyncio.Redis) -> Callable[[Awaitable[Any]], Awaitable[Any]]:
    return Timeline(client, retention_s=60)._call


def _store_call(client: redis.asyncio.Redis) -> Callable[[Awaitable[Any]], Awaitable[Any]]:
    async def call(awaitable: Awaitable[Any]) -> Any:
        return await store.call(awaitable, 5.0)

    return call


@pytest.mark.parametrize("wrapper", [_timeline_call, _store_call])
@pytest.mark.parametrize("fail", [False, True])
async def test_a_swallowed_cancel_leaves_the_wrapper_as_a_cancel(
    redis_client: redis.asyncio.Redis,
    wrapper: Callable[[redis.asyncio.Redis], Callable[[Awaitable[Any]], Awaitable[Any]]],
    fail: bool,
) -> None:
    call = wrapper(redis_client)
    started = asyncio.Event()

    async def loop_turn() -> str:
        try:
            return str(await call(_swallowing(started, fail=fail)))
        except (TimelineError, store.StoreError):
            return "handled as a Redis failure"  # a loop would back off and go on

    task = asyncio.create_task(loop_turn())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


@pytest.mark.parametrize("wrapper", [_timeline_call, _store_call])
async def test_without_a_cancel_the_reply_passes(
    redis_client: redis.asyncio.Redis,
    wrapper: Callable[[redis.asyncio.Redis], Callable[[Awaitable[Any]], Awaitable[Any]]],
) -> None:
    assert await wrapper(redis_client)(redis_client.ping()) is True
