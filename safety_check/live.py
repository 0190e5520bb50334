"""``GET /api/live``: friends' check-ins pushed as they happen (WebSocket or SSE).

Authentication, in order: ``Authorization: Bearer`` on the handshake; the session cookie
(WebSocket only from our own Origin, against cross-site WebSocket hijacking); or, since
browsers cannot set headers on a WebSocket, a first message
``{"type": "auth", "token": "..."}`` within ``live_auth_timeout_s``.

On connect the client gets ``ready`` and a ``snapshot`` (each friend's latest check-in, as
``GET /api/checkins/friends``), then one message per inbox notification. Every notification
is re-checked when delivered (the check-in still exists, its owner is still a friend:
:func:`safety_check.policy.may_view_checkin`), and the session is re-checked at least every
``live_block_s``: a revoked session ends the channel (WebSocket close code 4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from yure.broadcast.envelope import Entry
from yure.broadcast.errors import TimelineError
from yure.broadcast.frames import CloseCode, sse_event
from yure.broadcast.sse import SSE_HEADERS
from yure.safety_check import wire
from yure.safety_check.auth import authenticate
from yure.safety_check.errors import Forbidden, SafetyCheckError, StoreError, Unauthorized
from yure.safety_check.inbox import NoticeKind
from yure.safety_check.model import Principal
from yure.safety_check.policy import may_view_checkin, websocket_cookie_ok
from yure.safety_check.services import Services
from yure.safety_check.tokens import SESSION_COOKIE, hash_token, is_token

log = logging.getLogger(__name__)

#: Largest client → server message (only ``auth`` is expected); larger closes with 1009.
WS_MAX_MESSAGE_BYTES = 4096
#: WebSocket ping period (aiohttp answers pongs and drops dead peers).
WS_HEARTBEAT_S = 20.0
#: Inbox entries fetched per read.
LIVE_BATCH_ENTRIES = 100
#: Fraction of ``live_block_s`` by which viewers' idle periods differ (spreads their reads).
IDLE_JITTER = 0.25
#: What an idle WebSocket channel gets every ``live_block_s`` (SSE gets a comment line).
HEARTBEAT = orjson.dumps({"type": "heartbeat"}).decode()


async def friends_latest(s: Services, uid: str) -> list[dict[str, Any]]:
    """Each friend's latest check-in (or null), sorted by handle: the shape of
    ``GET /api/checkins/friends`` and of the live ``snapshot``.

    Raises:
        StoreError: Redis failed.
    """
    friends = sorted(await s.friends.friends_of(uid))
    handles = await s.accounts.handles_of(friends)
    latest = await s.checkins.latest_of([u for u in friends if u in handles])
    items = [
        {"handle": handles[u], "checkin": None if c is None else wire.checkin_json(c, handles[u])}
        for u, c in latest.items()
    ]
    items.sort(key=lambda item: str(item["handle"]))
    return items


class Feed:
    """One viewer's live feed: their inbox, rendered through the visibility policy."""

    def __init__(self, s: Services, me: Principal, wake: asyncio.Event) -> None:
        self._s = s
        self._me = me
        self._inbox = s.inboxes.timeline(me.uid)
        self._cursor = "0-0"
        #: Set by the process's inbox bus when this viewer's inbox changed.
        self._wake = wake

    async def start(self) -> list[dict[str, Any]]:
        """The opening messages; later messages are those after this moment.

        Raises:
            StoreError: Redis failed.
        """
        try:
            self._cursor = await self._inbox.last_id()
        except TimelineError as err:
            raise StoreError("inbox unavailable") from err
        return [
            {"type": "ready", "handle": self._me.handle},
            {"type": "snapshot", "checkins": await friends_latest(self._s, self._me.uid)},
        ]

    async def next(self) -> list[tuple[str, dict[str, Any]]]:
        """Messages of the next notifications: waits until the inbox bus says there may be
        some, or ``live_block_s`` (then the inbox is read anyway, and an empty list means
        "idle": the caller sends a heartbeat). Holds no Redis connection while waiting.

        Raises:
            Unauthorized: the session ended.
            StoreError: Redis failed.
        """
        # Jitter spreads the idle re-reads of many viewers over the period.
        idle_s = self._s.config.live_block_s * (1 - IDLE_JITTER * random.random())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(idle_s):
                await self._wake.wait()
        self._wake.clear()
        # However many viewers wake together, they share LIVE_REDIS_CONCURRENCY connections.
        async with self._s.live_redis:
            if await self._s.sessions.resolve_hash(self._me.token_hash) is None:
                raise Unauthorized("session ended")
            try:
                entries = await self._inbox.read_after(self._cursor, limit=LIVE_BATCH_ENTRIES)
            except TimelineError as err:
                raise StoreError("inbox unavailable") from err
            if len(entries) == LIVE_BATCH_ENTRIES:
                self._wake.set()  # more are waiting: no pause before the next batch
            out: list[tuple[str, dict[str, Any]]] = []
            for entry in entries:
                self._cursor = entry.id
                message = await self.render(entry)
                if message is not None:
                    out.append((entry.id, message))
        return out

    async def render(self, entry: Entry) -> dict[str, Any] | None:
        """The message for one notification, or None when the viewer may not (or no longer)
        see it.

        Raises:
            StoreError: Redis failed.
        """
        try:
            obj = orjson.loads(entry.payload)
        except orjson.JSONDecodeError:
            return None
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == NoticeKind.CHECKIN:
            checkin = await self._s.checkins.get(str(obj.get("id", "")))
            if checkin is None:
                return None
            owner_friends = (
                frozenset()
                if checkin.owner == self._me.uid
                else await self._s.friends.friends_of(checkin.owner)
            )
            if not may_view_checkin(self._me.uid, checkin.owner, owner_friends):
                return None
            handles = await self._s.accounts.handles_of([checkin.owner])
            if checkin.owner not in handles:
                return None
            return {
                "type": NoticeKind.CHECKIN,
                "checkin": wire.checkin_json(checkin, handles[checkin.owner]),
            }
        if kind == NoticeKind.CHECKIN_DELETED:
            return {"type": NoticeKind.CHECKIN_DELETED, "id": str(obj.get("id", ""))}
        if kind in (NoticeKind.FRIEND_ADDED, NoticeKind.FRIEND_REMOVED):
            handles = await self._s.accounts.handles_of([str(obj.get("uid", ""))])
            if not handles:
                return None
            return {"type": kind, "handle": next(iter(handles.values()))}
        return None


async def live(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/live: a WebSocket when the request upgrades, else Server-Sent Events.

    Raises:
        Unauthorized: bad credentials on the handshake (or none, for SSE).
        Forbidden: a cookie-authenticated WebSocket from a foreign Origin.
        StoreError: too many live channels in this process, or Redis failed.
    """
    if s.live_connections >= s.config.max_live_connections:
        raise StoreError("too many live connections, retry later")
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    principal = await _handshake_auth(request, s, websocket=websocket)
    s.live_connections += 1
    try:
        if websocket:
            return await _serve_websocket(request, s, principal)
        assert principal is not None
        return await _serve_sse(request, s, principal)
    finally:
        s.live_connections -= 1


async def _handshake_auth(
    request: web.Request, s: Services, *, websocket: bool
) -> Principal | None:
    has_header = "Authorization" in request.headers
    has_cookie = SESSION_COOKIE in request.cookies
    if not has_header and not has_cookie:
        if websocket:
            return None
        raise Unauthorized("authentication required")
    if (
        websocket
        and not has_header
        and not websocket_cookie_ok(origin=request.headers.get("Origin"), host=request.host)
    ):
        raise Forbidden("cookie-authenticated WebSocket from a foreign origin")
    return await authenticate(request, s)


async def _auth_message(ws: web.WebSocketResponse, s: Services) -> Principal | None:
    """Wait for ``{"type": "auth", "token": ...}``; None when it is missing or wrong."""
    try:
        async with asyncio.timeout(s.config.live_auth_timeout_s):
            msg = await ws.receive()
    except TimeoutError:
        return None
    if msg.type is not WSMsgType.TEXT:
        return None
    try:
        obj = orjson.loads(msg.data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or obj.get("type") != "auth":
        return None
    token = obj.get("token")
    if not isinstance(token, str) or not is_token(token):
        return None
    resolved = await s.sessions.resolve(token)
    if resolved is None:
        return None
    account = await s.accounts.get(resolved[0])
    if account is None:
        return None
    return Principal(
        uid=account.uid, handle=account.handle, token_hash=hash_token(token), via_cookie=False
    )


async def _serve_websocket(
    request: web.Request, s: Services, principal: Principal | None
) -> web.StreamResponse:
    ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S, max_msg_size=WS_MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    try:
        me = principal if principal is not None else await _auth_message(ws, s)
    except SafetyCheckError:
        me = None
    if me is None:
        await ws.close(code=CloseCode.UNAUTHORIZED, message=b"unauthorized")
        return ws
    s.live_sockets.add(ws)
    try:
        with s.bus.watch(me.uid) as wake:
            async with asyncio.TaskGroup() as tg:
                pump = tg.create_task(_pump_websocket(ws, Feed(s, me, wake)))
                async for _msg in ws:
                    pass  # Nothing is expected after auth; reading keeps pings and close going.
                pump.cancel()
    finally:
        s.live_sockets.discard(ws)
    return ws


async def close_all(s: Services) -> None:
    """Close every live WebSocket with 1001 Going Away (RFC 6455 §7.4.1): server shutdown."""
    for ws in list(s.live_sockets):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close(code=CloseCode.GOING_AWAY, message=b"server shutting down")


async def _pump_websocket(ws: web.WebSocketResponse, feed: Feed) -> None:
    try:
        for message in await feed.start():
            await ws.send_str(orjson.dumps(message).decode())
        while not ws.closed:  # feed.next() calls Redis through its wrappers
            batch = await feed.next()
            if not batch:
                await ws.send_str(HEARTBEAT)
            for _entry_id, message in batch:
                await ws.send_str(orjson.dumps(message).decode())
    except Unauthorized:
        await ws.close(code=CloseCode.UNAUTHORIZED, message=b"session ended")
    except StoreError:
        await ws.close(code=CloseCode.TRY_AGAIN_LATER, message=b"try again later")
    except ConnectionResetError:
        return


async def _serve_sse(request: web.Request, s: Services, me: Principal) -> web.StreamResponse:
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    wake_stack = contextlib.ExitStack()
    feed = Feed(s, me, wake_stack.enter_context(s.bus.watch(me.uid)))
    # Server-Sent Events framing: WHATWG HTML §9.2.6; orjson output has no raw newline.
    with wake_stack, contextlib.suppress(ConnectionResetError):
        try:
            for message in await feed.start():
                await response.write(_sse(None, message))
            while True:  # feed.next() calls Redis through its wrappers
                batch = await feed.next()
                if not batch:
                    await response.write(b": keep-alive\n\n")
                for entry_id, message in batch:
                    await response.write(_sse(entry_id, message))
        except Unauthorized:
            await response.write(_sse(None, {"type": "unauthorized"}))
        except StoreError:
            await response.write(_sse(None, {"type": "unavailable"}))
    return response


def _sse(entry_id: str | None, message: dict[str, Any]) -> bytes:
    return sse_event(orjson.dumps(message), entry_id, event=str(message["type"]))
