"""``GET /api/live``: friends' check-ins pushed as they happen (WebSocket or SSE).

Authentication, in order: ``Authorization: Bearer`` on the handshake; the session cookie
(WebSocket only from our own Origin, against cross-site WebSocket hijacking); or, since
browsers cannot set headers on a WebSocket, a first message
``{"type": "auth", "token": "..."}`` within ``live_auth_timeout_s``.

On connect the client gets ``ready`` and a ``snapshot`` (each friend's latest check-in, as
``GET /api/checkins/friends``), then one message per inbox notification. Every notification
is re-checked when delivered (the check-in still exists, its owner is still a friend:
:func:`safety_check.policy.may_view_checkin`), and the session is re-checked at least every
``live_block_s`` (by the process's one session sweep): a revoked or expired session ends
the channel with an explicit ``unauthorized`` (SSE event; WebSocket close code 4401), never
``unavailable``.

A viewer holds no Redis connection and makes no Redis call of its own while it waits: the
process's one inbox-bus reader (:mod:`safety_check.bus`) wakes it when its inbox changes,
and the process's one :class:`~safety_check.live_reader.LiveReader` reads for it, batched
with the other viewers woken at the same time. An idle channel stays open for as long as
the client likes: a heartbeat goes out every ``live_heartbeat_s`` (WebSocket
``{"type": "heartbeat"}``, SSE ``: keep-alive``), which also re-reads the inbox (a lost
wake-up only delays) and renews the channel's seat: an account holds at most
``max_live_per_account`` channels over all workers (more: 429 before the upgrade, or close
code 4429 after a first-message auth). Handshakes share the viewers' few connections.
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
from yure.safety_check.errors import (
    Forbidden,
    RateLimited,
    SafetyCheckError,
    StoreError,
    Unauthorized,
)
from yure.safety_check.inbox import NoticeKind
from yure.safety_check.live_reader import Lookups, SessionWatch
from yure.safety_check.model import Principal
from yure.safety_check.policy import may_view_checkin, websocket_cookie_ok
from yure.safety_check.services import LIVE_BATCH_ENTRIES, Services
from yure.safety_check.tokens import SESSION_COOKIE, hash_token, is_token

log = logging.getLogger(__name__)

#: Largest client → server message (only ``auth`` is expected); larger closes with 1009.
WS_MAX_MESSAGE_BYTES = 4096
#: WebSocket ping period (aiohttp answers pongs and drops dead peers).
WS_HEARTBEAT_S = 20.0
#: Fraction of ``live_block_s`` by which viewers' idle periods differ (spreads their reads).
IDLE_JITTER = 0.25
#: What an idle WebSocket channel gets every ``live_heartbeat_s``.
HEARTBEAT_TEXT = '{"type":"heartbeat"}'
#: A first-message-authenticated WebSocket of an account at its channel cap is closed
#: with this (RFC 6455 §7.4.2: 4000–4999 are for applications; 429 as in HTTP).
CLOSE_TOO_MANY_CHANNELS = 4429
#: A channel's seat lease lasts this many heartbeats (a dead worker's seats free up).
SEAT_LEASE_HEARTBEATS = 3


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

    def __init__(
        self, s: Services, me: Principal, wake: asyncio.Event, session: SessionWatch
    ) -> None:
        self._s = s
        self._me = me
        self._inbox = s.inboxes.timeline(me.uid)
        self._cursor = "0-0"
        #: Set by the process's inbox bus when this viewer's inbox may have changed, and
        #: by the session sweep when the session ended.
        self._wake = wake
        self._session = session

    async def start(self) -> list[dict[str, Any]]:
        """The opening messages; later messages are those after this moment.

        Raises:
            StoreError: Redis failed.
        """
        async with self._s.live_redis:
            try:
                self._cursor = await self._inbox.last_id()
            except TimelineError as err:
                raise StoreError("inbox unavailable") from err
            snapshot = await friends_latest(self._s, self._me.uid)
        return [
            {"type": "ready", "handle": self._me.handle},
            {"type": "snapshot", "checkins": snapshot},
        ]

    async def next(self, idle_s: float) -> list[tuple[str, str, bytes]]:
        """Messages of the next notifications: waits until the process's inbox bus says
        there may be some, or ``idle_s`` (then the inbox is read anyway: a lost wake-up
        only delays). Holds no Redis connection while it waits; the read goes through
        the process's one :class:`~safety_check.live_reader.LiveReader`, batched with
        other viewers'. Each message is ``(entry id, type, JSON bytes)``.

        Raises:
            Unauthorized: the session ended (the process's session sweep saw it).
            StoreError: Redis failed.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, idle_s)):
                await self._wake.wait()
        woken = self._wake.is_set()
        self._wake.clear()
        if self._session.ended:
            raise Unauthorized("session ended")
        reading = await self._s.reader.read(self._me.uid, self._cursor, urgent=woken)
        if len(reading.entries) == LIVE_BATCH_ENTRIES:
            self._wake.set()  # more are waiting: no pause before the next batch
        out: list[tuple[str, str, bytes]] = []
        for entry in reading.entries:
            self._cursor = entry.id
            message = render(entry, self._me.uid, reading.lookups)
            if message is not None:
                out.append((entry.id, *message))
        return out


def render(entry: Entry, me: str, lookups: Lookups) -> tuple[str, bytes] | None:
    """The message (type, JSON bytes) for one notification to viewer ``me``, or None when
    ``me`` may not (or no longer) see it: decided per viewer from what the reader found
    (the check-in still exists, its owner is still a friend, :func:`may_view_checkin`).
    A check-in's message is the same for every viewer who may see it, so it is encoded
    once per batch (``lookups.bodies``)."""
    notice = lookups.notice(entry)
    if notice is None:
        return None
    kind, ref = notice
    if kind == NoticeKind.CHECKIN:
        checkin = lookups.checkins.get(ref)
        if checkin is None:
            return None
        owner_friends = (
            frozenset() if checkin.owner == me else lookups.friends.get(checkin.owner, frozenset())
        )
        if not may_view_checkin(me, checkin.owner, owner_friends):
            return None
        body = lookups.bodies.get(ref)
        if body is None:
            handle = lookups.handles.get(checkin.owner)
            if handle is None:
                return None
            message = {"type": NoticeKind.CHECKIN, "checkin": wire.checkin_json(checkin, handle)}
            body = lookups.bodies[ref] = orjson.dumps(message)
        return NoticeKind.CHECKIN, body
    if kind == NoticeKind.CHECKIN_DELETED:
        return kind, orjson.dumps({"type": NoticeKind.CHECKIN_DELETED, "id": ref})
    handle = lookups.handles.get(ref)
    return None if handle is None else (kind, orjson.dumps({"type": kind, "handle": handle}))


async def live(request: web.Request, s: Services) -> web.StreamResponse:
    """GET /api/live: a WebSocket when the request upgrades, else Server-Sent Events.

    Raises:
        Unauthorized: bad credentials on the handshake (or none, for SSE).
        Forbidden: a cookie-authenticated WebSocket from a foreign Origin.
        StoreError: too many live channels in this process, or Redis failed.
    """
    # The live channels read through their own client (a few connections for all).
    s = s.live_view or s
    if s.live_connections >= s.config.max_live_connections:
        raise StoreError("too many live connections, retry later")
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    # Handshakes share the viewers' few connections too (a crowd reconnecting at once
    # queues here instead of opening connections).
    async with s.live_redis:
        principal = await _handshake_auth(request, s, websocket=websocket)
        seat = None if principal is None else await s.seats.take(principal.uid, _lease_s(s))
    s.live_connections += 1
    try:
        if websocket:
            return await _serve_websocket(request, s, principal, seat)
        assert principal is not None and seat is not None
        return await _serve_sse(request, s, principal, seat)
    finally:
        s.live_connections -= 1


def _lease_s(s: Services) -> float:
    return float(s.config.live_heartbeat_s * SEAT_LEASE_HEARTBEATS)


class Beat:
    """When a channel's next heartbeat (and seat renewal) is due, on the loop's clock."""

    def __init__(self, s: Services, uid: str, seat: str) -> None:
        self._s = s
        self._uid = uid
        self._seat = seat
        self._every = s.config.live_heartbeat_s
        # Jitter spreads the heartbeats (and idle reads) of viewers that came together.
        first = self._every * (1 - IDLE_JITTER * random.random())
        self._next = asyncio.get_running_loop().time() + first

    def remaining_s(self) -> float:
        """Seconds until the next heartbeat is due (0 when it is)."""
        return max(0.0, self._next - asyncio.get_running_loop().time())

    async def due(self) -> bool:
        """True when a heartbeat is due; renews the seat then (batched with the other
        viewers' by the process's reader).

        Raises:
            StoreError: Redis failed.
        """
        now = asyncio.get_running_loop().time()
        if now < self._next:
            return False
        self._next = now + self._every
        await self._s.reader.renew_seat(self._uid, self._seat, _lease_s(self._s))
        return True

    async def release(self) -> None:
        """Give the seat back (errors ignored: the lease runs out anyway)."""
        with contextlib.suppress(SafetyCheckError):
            async with self._s.live_redis:
                await self._s.seats.give_back(self._uid, self._seat)


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
    async with s.live_redis:
        resolved = await s.sessions.resolve(token)
        account = None if resolved is None else await s.accounts.get(resolved[0])
    if account is None:
        return None
    return Principal(
        uid=account.uid, handle=account.handle, token_hash=hash_token(token), via_cookie=False
    )


async def _serve_websocket(
    request: web.Request, s: Services, principal: Principal | None, seat: str | None
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
    if seat is None:
        try:
            async with s.live_redis:
                seat = await s.seats.take(me.uid, _lease_s(s))
        except RateLimited:
            await ws.close(code=CLOSE_TOO_MANY_CHANNELS, message=b"too many live channels")
            return ws
        except StoreError:
            await ws.close(code=CloseCode.TRY_AGAIN_LATER, message=b"try again later")
            return ws
    beat = Beat(s, me.uid, seat)
    s.live_sockets.add(ws)
    try:
        with s.bus.watch(me.uid) as wake, s.reader.watch_session(me.token_hash, wake) as session:
            async with asyncio.TaskGroup() as tg:
                pump = tg.create_task(_pump_websocket(ws, Feed(s, me, wake, session), beat))
                async for _msg in ws:
                    pass  # Nothing is expected after auth; reading keeps pings and close going.
                pump.cancel()
    finally:
        s.live_sockets.discard(ws)
        await beat.release()
    return ws


async def close_all(s: Services) -> None:
    """Close every live WebSocket with 1001 Going Away (RFC 6455 §7.4.1): server shutdown."""
    for ws in list(s.live_sockets):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close(code=CloseCode.GOING_AWAY, message=b"server shutting down")


async def _pump_websocket(ws: web.WebSocketResponse, feed: Feed, beat: Beat) -> None:
    try:
        for message in await feed.start():
            await ws.send_str(orjson.dumps(message).decode())
        while not ws.closed:  # feed.next() calls Redis through its wrappers
            batch = await feed.next(beat.remaining_s())
            for _entry_id, _kind, body in batch:
                # The encoded JSON is UTF-8: sent as the text frame's payload as is.
                await ws.send_frame(body, WSMsgType.TEXT)
            if await beat.due() and not batch:
                await ws.send_str(HEARTBEAT_TEXT)
    except Unauthorized:
        await ws.close(code=CloseCode.UNAUTHORIZED, message=b"session ended")
    except StoreError:
        await ws.close(code=CloseCode.TRY_AGAIN_LATER, message=b"try again later")
    except ConnectionResetError:
        return


async def _serve_sse(
    request: web.Request, s: Services, me: Principal, seat: str
) -> web.StreamResponse:
    beat = Beat(s, me.uid, seat)
    try:
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        wake_stack = contextlib.ExitStack()
        wake = wake_stack.enter_context(s.bus.watch(me.uid))
        session = wake_stack.enter_context(s.reader.watch_session(me.token_hash, wake))
        feed = Feed(s, me, wake, session)
        # Server-Sent Events framing: WHATWG HTML §9.2.6; orjson output has no raw newline.
        with wake_stack, contextlib.suppress(ConnectionResetError):
            try:
                for message in await feed.start():
                    await response.write(_sse(None, message))
                while True:  # feed.next() calls Redis through its wrappers
                    batch = await feed.next(beat.remaining_s())
                    for entry_id, kind, body in batch:
                        await response.write(sse_event(body, entry_id, event=kind))
                    if await beat.due() and not batch:
                        await response.write(b": keep-alive\n\n")
            except Unauthorized:
                await response.write(_sse(None, {"type": "unauthorized"}))
            except StoreError:
                await response.write(_sse(None, {"type": "unavailable"}))
        return response
    finally:
        await beat.release()


def _sse(entry_id: str | None, message: dict[str, Any]) -> bytes:
    return sse_event(orjson.dumps(message), entry_id, event=str(message["type"]))
