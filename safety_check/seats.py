"""Live channels per account, counted across every worker process (driver).

``live:<uid>`` is a sorted set of the account's open channels, each scored with the time
its lease runs out; an open channel renews its lease at every heartbeat, so a channel
of a worker that died stops counting within ``lease_s``. A channel is refused when the
account already holds ``max_per_account`` live leases.
"""

from __future__ import annotations

import logging

from yure.safety_check import keys, store
from yure.safety_check.config import Clock
from yure.safety_check.errors import RateLimited
from yure.safety_check.tokens import new_id

log = logging.getLogger(__name__)

#: Retry-After of a refused channel: about when a closed tab's lease runs out.
SEAT_RETRY_S = 5


class Seats:
    """Take, renew and give back live-channel seats of accounts."""

    def __init__(
        self, redis: store.Redis, *, clock: Clock, timeout_s: float, max_per_account: int
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._timeout_s = timeout_s
        self._max = max_per_account

    async def take(self, uid: str, lease_s: float) -> str:
        """A seat for a new channel of ``uid``; returns its id.

        Raises:
            RateLimited: ``uid`` already has ``max_per_account`` live channels.
            StoreError: Redis failed.
        """
        key = keys.live_seats(uid)
        now = self._clock()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zcard(key)
            held = int((await store.call(pipe.execute(), self._timeout_s))[1])
        if held >= self._max:
            log.info("live channel refused: account at its cap max=%d", self._max)
            raise RateLimited(
                f"at most {self._max} live channels per account", retry_after_s=SEAT_RETRY_S
            )
        seat = new_id()
        await self.renew(uid, seat, lease_s)
        return seat

    async def renew(self, uid: str, seat: str, lease_s: float) -> None:
        """Keep ``seat`` for another ``lease_s``.

        Raises:
            StoreError: Redis failed.
        """
        key = keys.live_seats(uid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {seat: self._clock() + lease_s})
            pipe.expire(key, max(1, round(lease_s)) + 1)
            await store.call(pipe.execute(), self._timeout_s)

    async def renew_many(self, seats: list[tuple[str, str, float]]) -> None:
        """:meth:`renew` of many ``(uid, seat, lease_s)`` in one pipelined round trip.

        Raises:
            StoreError: Redis failed.
        """
        now = self._clock()
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid, seat, lease_s in seats:
                key = keys.live_seats(uid)
                pipe.zadd(key, {seat: now + lease_s})
                pipe.expire(key, max(1, round(lease_s)) + 1)
            await store.call(pipe.execute(), self._timeout_s)

    async def give_back(self, uid: str, seat: str) -> None:
        """Free ``seat`` (the channel closed).

        Raises:
            StoreError: Redis failed.
        """
        await store.call(self._redis.zrem(keys.live_seats(uid), seat), self._timeout_s)
