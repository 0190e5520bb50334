"""A lease in Redis: at most one holder at a time, renewed while the work runs.

Driver module. ``yure serve`` runs the JMA ingest under a lease
(``ingest.publish.INGEST_LEASE``), so however many nodes and workers run, one polls JMA.

Safety argument: the holder renews every ``ttl_s / 3``; if it cannot confirm a
renewal for ``ttl_s * 2 / 3`` (Redis unreachable, event loop stalled), it cancels
its work *before* the key can expire, so a second node acquiring the expired
lease never overlaps with it (as long as clocks run at similar rates; Redis
expiry uses the server clock, our deadline the local monotonic clock).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable

import redis.asyncio
import redis.exceptions

from yure.aio import raise_if_cancelling
from yure.backoff import Backoff
from yure.infra.errors import LeaseLost, WorkEnded

log = logging.getLogger(__name__)

#: Default lifetime of a lease without renewal.
LEASE_TTL_S = 15.0
#: A contender tries to take the lease this many times per TTL (every 1 s for 15 s) ...
ACQUIRE_TRIES_PER_TTL = 15
#: ... each wait lengthened by up to this fraction at random, so contenders spread out.
#: Takeover after a holder dies without releasing (kill -9, power loss) therefore comes at
#: most ``ttl_s`` (the key expires) plus one wait after the death: :attr:`Lease.takeover_bound_s`.
ACQUIRE_JITTER = 0.25

_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def holder_id() -> str:
    """A holder name unique to this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    """One named lease."""

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        name: str,
        holder: str | None = None,
        ttl_s: float = LEASE_TTL_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self.redis = redis
        self.name = name
        self.holder = holder or holder_id()
        self.ttl_s = ttl_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._renew = redis.register_script(_RENEW_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    @property
    def _acquire_every_s(self) -> float:
        return self.ttl_s / ACQUIRE_TRIES_PER_TTL

    @property
    def takeover_bound_s(self) -> float:
        """Longest time from a holder's death (without release) to another process
        holding the lease: the key's TTL plus one wait between tries."""
        return self.ttl_s + self._acquire_every_s * (1 + ACQUIRE_JITTER)

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl_s * 1000))

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it (``SET NX PX``)."""
        async with asyncio.timeout(self.ttl_s / 3):
            return bool(await self.redis.set(self.name, self.holder, nx=True, px=self._ttl_ms))

    async def renew(self) -> bool:
        """Extend the lease; False when someone else holds it now."""
        async with asyncio.timeout(self.ttl_s / 3):
            return bool(await self._renew(keys=[self.name], args=[self.holder, self._ttl_ms]))

    async def release(self) -> None:
        """Give the lease up if we still hold it."""
        async with asyncio.timeout(self.ttl_s / 3):
            await self._release(keys=[self.name], args=[self.holder])

    async def holder_now(self) -> str | None:
        """Who holds the lease now (None when free)."""
        value = await self.redis.get(self.name)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def run(self, work: Callable[[], Awaitable[None]]) -> None:
        """Forever: wait for the lease, run ``work()`` while holding it, stop it when the
        lease is lost, and try again. Runs until cancelled."""
        backoff = Backoff(base_s=self.ttl_s / 6, cap_s=self.ttl_s, rng=self._rng)
        loop = asyncio.get_running_loop()
        while True:
            raise_if_cancelling()
            try:
                acquired = await self.try_acquire()
            except (TimeoutError, redis.exceptions.RedisError) as err:
                log.warning("lease acquire failed lease=%s error=%s", self.name, err)
                acquired = False
            if not acquired:
                # Tries stay frequent however long we wait (they used to back off to
                # ttl/3 + ttl/4, so a takeover after kill -9 could take ~1.6 TTL).
                jitter = 1 + self._rng.random() * ACQUIRE_JITTER
                await self._sleep(self._acquire_every_s * jitter)
                continue
            log.info("lease acquired lease=%s holder=%s", self.name, self.holder)
            held_since = loop.time()
            failed = await self._hold(work)
            if loop.time() - held_since > self.ttl_s:
                backoff.reset()
            if failed:
                await self._sleep(backoff.next_delay())

    async def _hold(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` and the renewals until either ends; False when the lease was lost.

        Plain tasks, not a TaskGroup: Python 3.11's TaskGroup leaves the parent's
        cancel count raised after a child error, which would hide a real cancel.
        """
        work_task = asyncio.create_task(_run_work(work), name=f"{self.name}:work")
        keep_task = asyncio.create_task(self._keep(), name=f"{self.name}:keep")
        try:
            await asyncio.wait({work_task, keep_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            work_task.cancel()
            keep_task.cancel()
            await asyncio.gather(work_task, keep_task, return_exceptions=True)
            try:
                await asyncio.shield(self.release())
            except (TimeoutError, redis.exceptions.RedisError) as err:
                log.warning("lease release failed lease=%s error=%s", self.name, err)
        lost = keep_task.exception() if not keep_task.cancelled() else None
        if isinstance(lost, LeaseLost):
            log.warning("lease lost lease=%s holder=%s", self.name, self.holder)
            return False
        error = work_task.exception() if not work_task.cancelled() else None
        log.error("work under lease ended lease=%s error=%r", self.name, error)
        return True

    async def _keep(self) -> None:
        loop = asyncio.get_running_loop()
        confirmed = loop.time()
        while True:
            raise_if_cancelling()
            await asyncio.sleep(self.ttl_s / 3)
            try:
                if not await self.renew():
                    raise LeaseLost(f"{self.name} is held by someone else")
                confirmed = loop.time()
            except (TimeoutError, redis.exceptions.RedisError) as err:
                log.warning("lease renew failed lease=%s error=%s", self.name, err)
                if loop.time() - confirmed >= self.ttl_s * 2 / 3:
                    raise LeaseLost(f"{self.name} not renewed in time") from err


async def _run_work(work: Callable[[], Awaitable[None]]) -> None:
    await work()
    # Work that returns on its own ends the holding; Lease.run pauses and tries again.
    raise WorkEnded("work returned")
