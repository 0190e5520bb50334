"""The ingest's liveness, kept in Redis so that every worker on every node can tell
whether the feed is fresh (driver module).

The worker that holds the ingest lease copies the poller's last success into Redis
(:func:`report_liveness`); ``/healthz`` and ``/metrics`` on any worker ask
:func:`feed_age`. Nobody else knows the key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from yure.aio import bounded_call
from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.broadcast.metrics import Metrics

log = logging.getLogger(__name__)

#: Unix time (seconds, float) of the last successful JMA poll of any node.
LAST_POLL_KEY = "yure:ingest:last_success"
#: How often the lease holder copies the poller's last success into Redis.
LIVENESS_EVERY_S = 5.0


class Live(Protocol):
    """What the liveness loop reads (:class:`ingest.service.IngestService`)."""

    @property
    def last_success_at(self) -> float | None: ...

    @property
    def error_count(self) -> int: ...


async def record_poll_success(redis: Redis, at_unix_s: float) -> None:
    """Remember a successful poll (only ever moves forward).

    Raises:
        redis.exceptions.RedisError, TimeoutError: Redis failed.
    """
    current = await bounded_call(redis.get(LAST_POLL_KEY), REDIS_TIMEOUT_S)
    if current is None or float(current) < at_unix_s:
        await bounded_call(redis.set(LAST_POLL_KEY, repr(at_unix_s)), REDIS_TIMEOUT_S)


async def feed_age(redis: Redis) -> float | None:
    """Seconds since the last successful poll of any node, None when there never was one.

    Raises:
        redis.exceptions.RedisError, TimeoutError: Redis failed.
        ValueError: the stored value is not a number.
    """
    value = await bounded_call(redis.get(LAST_POLL_KEY), REDIS_TIMEOUT_S)
    if value is None:
        return None
    return max(0.0, time.time() - float(value))


async def report_liveness(redis: Redis, service: Live, metrics: Metrics) -> None:
    """Copy the service's last success into Redis and its error count into the metrics,
    every :data:`LIVENESS_EVERY_S`, until cancelled."""
    reported: float | None = None
    errors_seen = 0
    while True:  # Redis calls go through bounded_call: a lost cancel is raised there
        # The poller's clock is the wall clock (time.time), like feed_age's.
        at = service.last_success_at
        if at is not None and at != reported:
            try:
                await record_poll_success(redis, at)
                reported = at
            except (RedisError, TimeoutError) as err:
                log.warning("liveness not recorded error=%s", err)  # tried again next turn
        errors = service.error_count
        if errors > errors_seen:
            metrics.ingest_errors.inc(errors - errors_seen)
            errors_seen = errors
        await asyncio.sleep(LIVENESS_EVERY_S)
