"""``GET /healthz`` and ``GET /metrics``, and where the ingest's liveness is kept.

The worker that holds the ingest lease writes the time of the last successful
JMA poll to Redis (:data:`LAST_POLL_KEY`), so every worker on every node can
tell whether the feed is fresh.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import orjson
import redis.exceptions
from aiohttp import web
from redis.asyncio import Redis

from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.broadcast.metrics import CONTENT_TYPE
from yure.web import keys

log = logging.getLogger(__name__)

#: Unix time (seconds, float) of the last successful JMA poll of any node.
LAST_POLL_KEY = "yure:ingest:last_success"


async def record_poll_success(redis: Redis, at_unix_s: float) -> None:
    """Remember a successful poll (only ever moves forward).

    Raises:
        redis.exceptions.RedisError, TimeoutError: Redis failed.
    """
    async with asyncio.timeout(REDIS_TIMEOUT_S):
        current = await redis.get(LAST_POLL_KEY)
        if current is None or float(current) < at_unix_s:
            await redis.set(LAST_POLL_KEY, repr(at_unix_s))


async def feed_age(redis: Redis) -> float | None:
    """Seconds since the last successful poll, None when there never was one.

    Raises:
        redis.exceptions.RedisError, TimeoutError: Redis failed.
    """
    async with asyncio.timeout(REDIS_TIMEOUT_S):
        value = await redis.get(LAST_POLL_KEY)
    if value is None:
        return None
    return max(0.0, time.time() - float(value))


async def healthz(request: web.Request) -> web.Response:
    """200 while this process and Redis work (with the feed's freshness), else 503.

    The feed being stale does not fail liveness: restarting yure does not make JMA
    answer; ``feed.fresh`` and ``yure_feed_fresh`` are for alerting.
    """
    app = request.app
    settings = app[keys.SETTINGS]
    try:
        age = await feed_age(app[keys.REDIS])
    except (redis.exceptions.RedisError, TimeoutError, ValueError) as err:
        log.warning("healthz redis failed error=%s", err)
        body = {"status": "unavailable", "redis": False}
        return web.json_response(body, status=503, dumps=_dumps)
    fresh = age is not None and age <= settings.feed_stale_s
    body = {
        "status": "ok",
        "redis": True,
        "pid": os.getpid(),
        "connections": app[keys.HUB].connection_count,
        "position": app[keys.HUB].position,
        "feed": {
            "fresh": fresh,
            "last_success_age_s": None if age is None else round(age, 3),
            "stale_after_s": settings.feed_stale_s,
            "ingest_enabled_here": settings.ingest_enabled,
        },
    }
    return web.json_response(body, dumps=_dumps)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition (all workers, plus the feed age now)."""
    app = request.app
    try:
        age = await feed_age(app[keys.REDIS])
    except (redis.exceptions.RedisError, TimeoutError, ValueError):
        age = None
    fresh = age is not None and age <= app[keys.SETTINGS].feed_stale_s
    body = app[keys.METRICS].render(feed_age_s=age, feed_fresh=fresh)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()
