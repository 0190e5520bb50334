"""Rate limiting against Redis counters (driver; the arithmetic is :mod:`.ratelimit`).

One ``INCR`` + ``EXPIRE`` in a MULTI per check: counters are shared by every worker process.
Subjects are uids or keyed hashes of addresses (:mod:`.network`), never addresses.
"""

from __future__ import annotations

import logging

from yure.safety_check import keys, store
from yure.safety_check.config import Clock
from yure.safety_check.errors import RateLimited
from yure.safety_check.ratelimit import Limit, decide, window_index

log = logging.getLogger(__name__)


class Limiter:
    """Counts requests per (limit, subject) in fixed windows."""

    def __init__(self, redis: store.Redis, *, clock: Clock, timeout_s: float) -> None:
        self._redis = redis
        self._clock = clock
        self._timeout_s = timeout_s

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one request of ``subject`` against ``limit``.

        Raises:
            RateLimited: over the limit; ``retry_after_s`` says when the window ends.
            StoreError: Redis failed.
        """
        now = self._clock()
        key = keys.rate(limit.name, subject, window_index(limit, now))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, limit.window_s + 1)
            results = await store.call(pipe.execute(), self._timeout_s)
        retry = decide(limit, int(results[0]), now)
        if retry is not None:
            log.info("rate limited limit=%s retry_after_s=%d", limit.name, retry)
            raise RateLimited(f"too many requests ({limit.name})", retry_after_s=retry)
