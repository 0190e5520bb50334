"""Login throttling against Redis (driver; the schedule is :mod:`.guesses`).

State per counting scope and subject: ``guess:<scope>:<subject>`` is a hash with the
failure count ``n`` and the time ``until`` before which that subject may not try again;
it expires ``forget_after_s`` after the last failure. Every worker process shares it.
"""

from __future__ import annotations

import logging
import math

from yure.safety_check import keys, store
from yure.safety_check.config import Clock
from yure.safety_check.errors import RateLimited
from yure.safety_check.guesses import GuessPolicy, delay_after

log = logging.getLogger(__name__)


class GuessThrottle:
    """Delays after wrong passwords, per address and per handle + address."""

    def __init__(
        self,
        redis: store.Redis,
        *,
        clock: Clock,
        timeout_s: float,
        per_address: GuessPolicy,
        per_pair: GuessPolicy,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._timeout_s = timeout_s
        self._per_address = per_address
        self._per_pair = per_pair

    def _keys(self, address: str, handle: str) -> list[tuple[GuessPolicy, str]]:
        return [
            (self._per_address, keys.guess(self._per_address.name, address)),
            (self._per_pair, keys.guess(self._per_pair.name, f"{address}:{handle}")),
        ]

    async def check(self, address: str, handle: str) -> None:
        """Refuse a try that comes before its wait is over.

        Raises:
            RateLimited: ``address`` (or ``address`` for ``handle``) must still wait.
            StoreError: Redis failed.
        """
        pairs = self._keys(address, handle)
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, key in pairs:
                pipe.hget(key, "until")
            untils = await store.call(pipe.execute(), self._timeout_s)
        now = self._clock()
        wait = max((float(store.text(u)) - now for u in untils if u is not None), default=0.0)
        if wait > 0:
            raise RateLimited("too many wrong passwords, wait", retry_after_s=math.ceil(wait))

    async def failed(self, address: str, handle: str) -> None:
        """Count one wrong password and set the next wait.

        Raises:
            StoreError: Redis failed.
        """
        pairs = self._keys(address, handle)
        async with self._redis.pipeline(transaction=True) as pipe:
            for _, key in pairs:
                pipe.hincrby(key, "n", 1)
            counts = await store.call(pipe.execute(), self._timeout_s)
        now = self._clock()
        async with self._redis.pipeline(transaction=True) as pipe:
            for (policy, key), count in zip(pairs, counts, strict=True):
                delay = delay_after(policy, int(count))
                pipe.hset(key, "until", repr(now + delay))
                pipe.pexpire(key, store.ms(policy.forget_after_s))
                if delay > 0:
                    log.info("login throttled scope=%s failures=%d", policy.name, int(count))
            await store.call(pipe.execute(), self._timeout_s)

    async def succeeded(self, address: str, handle: str) -> None:
        """Forget the failures of ``handle`` from ``address`` (the address's own count
        stays: a right guess among many does not clear the guessing).

        Raises:
            StoreError: Redis failed.
        """
        key = keys.guess(self._per_pair.name, f"{address}:{handle}")
        await store.call(self._redis.delete(key), self._timeout_s)
