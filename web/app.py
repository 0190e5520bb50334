"""``build_app``: every route of yure on one aiohttp application.

* streams: ``/ws``, ``/sse``; history: ``/api/timeline``; ``/feeds/{pref}.atom``
  (broadcast + web.feeds);
* operations: ``/healthz``, ``/metrics`` (web.health);
* the safety check's API (safety_check.http) and the pages (web.pages).

The public read endpoints need no login and allow cross-origin reads (CORS
``*``); WebSocket upgrades are accepted from any Origin, as the stream is public.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

import yure.archive.http
import yure.safety_check.http
from yure.aio import background
from yure.broadcast.api import TimelineApi
from yure.broadcast.errors import FilterError
from yure.broadcast.frames import CloseCode
from yure.broadcast.hub import Hub
from yure.broadcast.limits import Limits
from yure.broadcast.metrics import Metrics
from yure.broadcast.sse import SseEndpoint
from yure.broadcast.timeline import Timeline
from yure.broadcast.ws import WebSocketEndpoint
from yure.geo import codes
from yure.geo.errors import GeoError
from yure.geo.locate import pref_at
from yure.push import service as push_service
from yure.redis_url import pinned
from yure.replication import ReplicatedWriter
from yure.safety_check import keys as safety_keys
from yure.settings import Settings
from yure.web import access, connections, event_page, feeds, health, keys, lite, openapi, proxy
from yure.web import pages as web_pages
from yure.web.problems import problem_middleware

log = logging.getLogger(__name__)

#: Paths whose GET responses any origin may read.
CORS_PREFIXES = ("/api/timeline", "/api/history", "/sse", "/feeds/", "/healthz")
#: Request bodies of any route at most (the safety-check API's are far smaller).
MAX_REQUEST_BYTES = 64 * 1024
#: How long a timeline append waits for its replicas (YURE_REDIS_WAIT_REPLICAS) at most.
REPLICA_WAIT_MS = 1000
#: Connections to the safety-check slot's master per worker (Redis Cluster only).
SAFETY_MAX_CONNECTIONS = 64

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def resolve_prefs(tokens: Iterable[str]) -> frozenset[str]:
    """geo's token resolution as broadcast's :data:`PrefResolver`.

    Raises:
        FilterError: a token names no prefecture or region.
    """
    try:
        return codes.resolve_pref_tokens(list(tokens))
    except GeoError as err:
        raise FilterError(str(err)) from err


def build_app(
    settings: Settings,
    redis: Redis,
    *,
    limits: Limits | None = None,
    metrics_dir: Path | None = None,
) -> web.Application:
    """The application of one worker process.

    Args:
        settings: the process settings.
        redis: the shared client (the hub opens its own blocking reads on its pool).
        limits: broadcaster limits; defaults from :mod:`broadcast.limits` and settings.
        metrics_dir: prometheus multiprocess directory when several workers run.
    """
    if limits is None:
        limits = Limits(
            max_connections_per_ip=settings.ws_max_conns_per_ip,
            max_events_per_frame=settings.ws_max_events_per_frame,
        )
    # The proxy middleware first: everything after it sees the real client.
    middlewares = [proxy.proxy_middleware(settings)]
    if settings.access_log:
        middlewares.append(access.access_middleware())
    guard = connections.make_guard(settings)
    app = web.Application(
        # The guard first: any request that reaches the app completed its headers in time.
        middlewares=[guard.middleware, *middlewares, problem_middleware, cors_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    writer = None
    if settings.redis_wait_replicas:
        writer = ReplicatedWriter(
            redis, replicas=settings.redis_wait_replicas, timeout_ms=REPLICA_WAIT_MS
        )
    timeline = Timeline(redis, retention_s=settings.retention_s, writer=writer)
    metrics = Metrics(metrics_dir)
    hub = Hub(timeline, limits=limits, metrics=metrics)
    app[keys.SETTINGS] = settings
    app[keys.REDIS] = redis
    app[keys.TIMELINE] = timeline
    app[keys.HUB] = hub
    app[keys.METRICS] = metrics
    app[keys.GUARD] = guard
    app.on_response_prepare.append(_add_cors)
    app.on_response_prepare.append(connections.add_common_headers)
    app.on_response_prepare.append(proxy.add_hsts)
    app.cleanup_ctx.append(_hub_lifetime)
    app.on_shutdown.append(_close_streams)

    app.router.add_get("/ws", WebSocketEndpoint(hub, resolve=resolve_prefs).handle)
    app.router.add_get("/sse", SseEndpoint(hub, resolve=resolve_prefs).handle)
    app.router.add_get("/api/timeline", TimelineApi(timeline, resolve=resolve_prefs).handle)
    app.router.add_get(r"/feeds/{pref:\d{2}}.atom", feeds.atom_feed)
    app.router.add_get("/lite", lite.lite_page)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/metrics", health.metrics)

    # Every safety_check key carries one hash tag: on Redis Cluster its client is pinned to
    # the master of that slot (transactions, WAIT, XREAD over many inboxes).
    safety_redis = pinned(redis, safety_keys.HASH_TAG, max_connections=SAFETY_MAX_CONNECTIONS)
    safety_writer = None
    if settings.redis_wait_replicas:
        safety_writer = ReplicatedWriter(
            safety_redis, replicas=settings.redis_wait_replicas, timeout_ms=REPLICA_WAIT_MS
        )
    if safety_redis is not redis:
        app.on_cleanup.append(lambda _app: safety_redis.aclose())
    yure.safety_check.http.setup(
        app, redis=safety_redis, settings=settings, public=timeline, replicated=safety_writer
    )
    yure.archive.http.setup(app, settings=settings, resolve=resolve_prefs)
    push_service.setup(
        app,
        settings=settings,
        redis=redis,
        timeline=timeline,
        resolve=resolve_prefs,
        locator=pref_at,
    )
    web_pages.setup(app)
    event_page.setup(app)
    openapi.setup(app)
    return app


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer the CORS preflight of the public read endpoints (EventSource may send
    ``Last-Event-ID``); :func:`_add_cors` marks their responses."""
    if request.method == "OPTIONS" and request.path.startswith(CORS_PREFIXES):
        return web.Response(status=204, headers=_cors_headers(preflight=True))
    return await handler(request)


async def _add_cors(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(CORS_PREFIXES):
        response.headers.update(_cors_headers(preflight=False))


def _cors_headers(*, preflight: bool) -> dict[str, str]:
    headers = {"Access-Control-Allow-Origin": "*"}
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Last-Event-ID"
        headers["Access-Control-Max-Age"] = "86400"
    return headers


async def _hub_lifetime(app: web.Application) -> AsyncIterator[None]:
    async with background(app[keys.HUB].run(), name="hub"):
        yield


async def _close_streams(app: web.Application) -> None:
    hub = app[keys.HUB]
    hub.close_all(CloseCode.GOING_AWAY, "server shutting down: resume with since")
    # Each client gets the grace period to read its close frame (docs/protocol.md).
    await hub.wait_empty(hub.limits.slow_close_grace_s)
