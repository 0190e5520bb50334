"""``GET /healthz`` and ``GET /metrics``.

Both tell an attacker too much (process ids, connection counts, positions, traffic), so
the details are private (issue 10 #9): they are shown to this machine's own clients
(loopback, after :mod:`yure.forwarded` has resolved a trusted proxy's client) and to
requests with ``Authorization: Bearer <YURE_METRICS_TOKEN>``. Anyone else gets only
``{"status": "ok"}`` / ``{"status": "unavailable"}`` from /healthz (the status code
says the same) and 401 from /metrics.

The feed's freshness is the ingest's to tell (:func:`ingest.liveness.feed_age`): any
worker on any node answers it, whichever one polls JMA.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

import orjson
import redis.exceptions
from aiohttp import hdrs, web

from yure import peer
from yure.broadcast.metrics import CONTENT_TYPE
from yure.ingest.liveness import feed_age
from yure.web import keys

log = logging.getLogger(__name__)


def privileged(request: web.Request) -> bool:
    """Whether ``request`` may see metrics and health details (see module docstring)."""
    token = request.app[keys.SETTINGS].metrics_token
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    if (
        token is not None
        and header.startswith("Bearer ")
        and hmac.compare_digest(header[7:].strip().encode(), token.encode())
    ):
        return True
    try:
        return ipaddress.ip_address(peer.client_address(request)).is_loopback
    except ValueError:
        return False


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
        body: dict[str, object] = {"status": "unavailable"}
        if privileged(request):
            body["redis"] = False
        return web.json_response(body, status=503, dumps=_dumps)
    if not privileged(request):
        return web.json_response({"status": "ok"}, dumps=_dumps)
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
    """Prometheus text exposition (all workers, plus the feed age now); 401 to clients
    that are neither on this machine nor holding the metrics token."""
    if not privileged(request):
        raise web.HTTPUnauthorized(
            headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="yure-metrics"'},
            text="metrics need Authorization: Bearer <YURE_METRICS_TOKEN>",
        )
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
