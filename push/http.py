"""The push API (docs/api.md §Web Push). Driver module; no login.

| route | answer |
| --- | --- |
| ``GET /api/push/key`` | ``{"public_key"}``: the VAPID ``applicationServerKey`` |
| ``POST /api/push/subscriptions`` | 201 ``{"id", "token"}`` |
| ``GET/PUT/DELETE /api/push/subscriptions/{id}`` | with ``Authorization: Bearer <token>`` |
| ``GET /api/locate?lat=&lon=`` | ``{"pref"}``: the prefecture at a point (geo's tagging) |

Errors are yure errors (:mod:`yure.push.errors`), raised and answered as problem details
by the app's one error middleware (``web.problems``, which holds their statuses and codes).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from yure.broadcast.filter import PrefResolver, codes_as_given
from yure.geo.errors import GeoError
from yure.peer import client_address
from yure.push.endpoint import check_endpoint, check_resolves_public
from yure.push.errors import (
    NotFound,
    SubscriptionError,
    Unauthorized,
)
from yure.push.limits import MAX_REQUEST_BYTES
from yure.push.prefs import filter_to_json
from yure.push.store import SubscriptionStore
from yure.push.subscription import (
    Subscription,
    new_id,
    new_token,
    parse_filter_request,
    parse_subscribe_request,
    token_matches,
)
from yure.push.vapid import VapidSigner

log = logging.getLogger(__name__)

#: A request body must arrive within this time.
BODY_READ_TIMEOUT_S = 10.0
#: ``(lat, lon) -> pref code or None``; web passes ``geo.locate.pref_at``.
Locator = Callable[[float, float], str | None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PayloadTooLarge(SubscriptionError):
    """A request body over :data:`~yure.push.limits.MAX_REQUEST_BYTES` (413)."""


class PushApi:
    """The handlers, bound to one store and key."""

    def __init__(
        self,
        store: SubscriptionStore,
        *,
        signer: Callable[[], VapidSigner],
        allow_local: bool,
        resolve: PrefResolver = codes_as_given,
        locator: Locator | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.signer = signer
        self.allow_local = allow_local
        self.resolve = resolve
        self.locator = locator
        self.clock = clock

    def setup(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/api/push/key", self.key)
        app.router.add_post("/api/push/subscriptions", self.create)
        item = "/api/push/subscriptions/{id}"
        app.router.add_get(item, self.read)
        app.router.add_put(item, self.update)
        app.router.add_delete(item, self.delete)
        if self.locator is not None:
            app.router.add_get("/api/locate", self.locate)

    async def key(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/push/key``."""
        return _json({"public_key": self.signer().public_key})

    async def create(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/push/subscriptions`` → 201 ``{"id", "token"}``."""
        body = await _read_body(request)
        parsed = parse_subscribe_request(body, resolve=self.resolve, allow_local=self.allow_local)
        await check_resolves_public(
            check_endpoint(parsed.endpoint, allow_local=self.allow_local),
            allow_local=self.allow_local,
        )
        token, token_hash = new_token()
        sub = Subscription(
            id=new_id(),
            endpoint=parsed.endpoint,
            p256dh=parsed.p256dh,
            auth=parsed.auth,
            filter=parsed.filter,
            token_hash=token_hash,
            address=client_address(request),
            created_at=self.clock(),
        )
        replaced = await self.store.create(sub)
        log.info("push subscribed id=%s replaced=%s", sub.id, replaced)
        return _json({"id": sub.id, "token": token}, status=201)

    async def read(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/push/subscriptions/{id}`` → ``{"id", "filter"}``."""
        sub = await self._authorized(request)
        return _json({"id": sub.id, "filter": filter_to_json(sub.filter)})

    async def update(self, request: web.Request) -> web.StreamResponse:
        """``PUT /api/push/subscriptions/{id}`` with ``{"filter"}`` → ``{"id", "filter"}``."""
        sub = await self._authorized(request)
        flt = parse_filter_request(await _read_body(request), resolve=self.resolve)
        if not await self.store.replace_filter(sub, flt):
            raise NotFound("no such subscription")
        return _json({"id": sub.id, "filter": filter_to_json(flt)})

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """``DELETE /api/push/subscriptions/{id}`` → 204."""
        sub = await self._authorized(request)
        await self.store.delete(sub.id)
        log.info("push unsubscribed id=%s", sub.id)
        return web.Response(status=204)

    async def locate(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/locate?lat=&lon=`` → ``{"pref": "13"}`` (null at sea or abroad).
        The point is used for the answer only: neither stored nor logged."""
        assert self.locator is not None
        try:
            lat = float(request.query.get("lat", ""))
            lon = float(request.query.get("lon", ""))
            pref = self.locator(lat, lon)
        except (ValueError, GeoError) as err:
            raise SubscriptionError("lat and lon must be numbers in range") from err
        return _json({"pref": pref})

    async def _authorized(self, request: web.Request) -> Subscription:
        sub_id = request.match_info["id"]
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else None
        if not token:
            raise Unauthorized("send the subscription's token as Authorization: Bearer <token>")
        sub = await self.store.get(sub_id)
        if sub is None:
            raise NotFound("no such subscription")
        if not token_matches(token, sub.token_hash):
            raise Unauthorized("wrong token for this subscription")
        return sub


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        raise PayloadTooLarge(f"body over {MAX_REQUEST_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            while chunk := await request.content.read(MAX_REQUEST_BYTES + 1 - size):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REQUEST_BYTES:
                    raise PayloadTooLarge(f"body over {MAX_REQUEST_BYTES} bytes")
    except TimeoutError as err:
        raise SubscriptionError("request body too slow") from err
    return b"".join(chunks)


def _dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()


def _json(obj: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json")
