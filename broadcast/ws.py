"""``GET /ws``: the WebSocket stream (docs/protocol.md). Driver module.

aiohttp parses the upgrade request (so the middlewares, the proxy's client address and
the response hooks apply as on any route) and writes the 101 answer; then the socket is
handed to a small :class:`Connection`, its asyncio protocol from then on, and the
request ends: no request handler, task or coroutine frame stays behind. The connection
reads client frames with :class:`broadcast.websocket.ClientFrames` (pure) and acts on
them. The hub writes pre-encoded frames straight to the transport; the connection writes
its few frames (pong, close) through the hub in one synchronous step too, so frames
never interleave.

An idle subscriber is thus a :class:`Subscriber`, a :class:`Connection` and its
transport (issue 16: 15 KiB per idle connection while each kept a handler task and
aiohttp's WebSocket objects; about 4 KiB now). A ``subscribe`` without ``since`` is
answered in the step it arrives; one with ``since`` runs in a task that ends with its
replay.

The hand-over uses aiohttp's protocol API (``set_parser``, ``connection_lost``):
tests/web/test_ws_connection.py checks that aiohttp lets go of the socket and keeps
nothing of the connection.
"""

from __future__ import annotations

import asyncio
import collections
import logging

from aiohttp import web

from yure.broadcast.errors import ProtocolError, TimelineError
from yure.broadcast.fanout import Encoding, Subscriber
from yure.broadcast.filter import PrefResolver, Subscribe, codes_as_given, parse_subscribe
from yure.broadcast.frames import CloseCode, ws_close_frame
from yure.broadcast.hub import Hub
from yure.broadcast.websocket import (
    ClientFrames,
    Closed,
    HandshakeError,
    Ping,
    Text,
    accept_headers,
)
from yure.peer import client_address

log = logging.getLogger(__name__)


class WebSocketEndpoint:
    """The ``/ws`` handler bound to one hub."""

    def __init__(self, hub: Hub, *, resolve: PrefResolver = codes_as_given) -> None:
        self.hub = hub
        self.resolve = resolve

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer the handshake, then hand the socket to a :class:`Connection`.

        Raises:
            web.HTTPBadRequest: not a WebSocket handshake.
        """
        try:
            headers = accept_headers(request.method, request.headers)
        except HandshakeError as err:
            raise web.HTTPBadRequest(text=str(err)) from err
        response = web.StreamResponse(status=101, headers=headers)
        response.force_close()  # no keep-alive after an upgrade
        try:
            await response.prepare(request)
        except ConnectionError:
            # Gone before the answer: aiohttp ends the request quietly. Raised, it logged
            # an ERROR with a traceback per such client (a log flood for the asking).
            return response
        protocol = request.protocol
        transport = request.transport
        if transport is None or transport.is_closing():
            return response
        peer = client_address(request)
        hub = self.hub
        if not hub.admit(peer):
            hub.metrics.rejected.labels("connections_per_ip").inc()
            transport.write(
                ws_close_frame(CloseCode.TRY_AGAIN_LATER, "too many connections from this address")
            )
            return response  # aiohttp closes the socket once the frame is out
        sub = Subscriber(transport, Encoding.WS, peer)
        hub.add(sub)
        connection = Connection(self, sub)
        # Bytes that came with the handshake wait in aiohttp's protocol: set_parser feeds
        # them to the connection. Then the socket is the connection's alone, and aiohttp's
        # protocol is told it is gone (transport forgotten first, so nothing is closed):
        # its server forgets it and the request ends with no handler left behind.
        protocol.set_parser(connection)  # type: ignore[arg-type]
        transport.set_protocol(connection)
        protocol.keep_alive(False)
        protocol.transport = None
        protocol.connection_lost(None)
        return response


class Connection(asyncio.Protocol):
    """One upgraded ``/ws`` connection, the protocol of its socket: reads client frames,
    subscribes, refuses.

    :meth:`feed_data` / :meth:`feed_eof` are aiohttp's parser interface, used once to
    take the bytes that arrived with the handshake.
    """

    __slots__ = ("endpoint", "frames", "pending", "received", "sub", "task")

    def __init__(self, endpoint: WebSocketEndpoint, sub: Subscriber) -> None:
        self.endpoint = endpoint
        self.sub = sub
        self.frames = ClientFrames(endpoint.hub.limits.ws_max_message_bytes)
        #: subscribe messages received (the limit counts them as they arrive)
        self.received = 0
        #: subscribes waiting for the one in progress (bounded by the subscribe limit)
        self.pending: collections.deque[Subscribe] | None = None
        #: the subscribe in progress (a replay), if any
        self.task: asyncio.Task[None] | None = None

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        """aiohttp's parser interface: take ``data``; (eof, tail) is always (False, b"")."""
        self.data_received(data)
        return False, b""

    def feed_eof(self) -> None:
        """aiohttp's parser interface: its protocol let go of the socket (not an end)."""

    def data_received(self, data: bytes) -> None:
        if self.sub.closed:
            return
        try:
            self._read(data)
        except Exception:
            # A bug acting on one client's bytes ends that connection alone, with 1011 as
            # in a replay, logged once (nothing more is read). Left to asyncio it was a
            # reset, and on the bytes that came with the handshake (read inside the
            # request) the subscriber was never removed.
            log.exception("reading a client failed peer=%s", self.sub.peer)
            self._refuse("internal", CloseCode.INTERNAL_ERROR, "internal error")

    def _read(self, data: bytes) -> None:
        hub = self.endpoint.hub
        for event in self.frames.feed(data):
            if self.sub.closed:
                return
            if isinstance(event, Text):
                self._on_text(event.data)
            elif isinstance(event, Ping):
                hub.write(self.sub, _pong(event.data))
            elif isinstance(event, Closed):
                # RFC 6455 §5.5.1: answer with a close frame, then close the socket.
                hub.kick(self.sub, CloseCode.NORMAL, "")
            else:
                binary = event.code is CloseCode.UNSUPPORTED_DATA
                self._refuse("binary" if binary else "ws_error", event.code, event.reason)

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is closed: forget the connection, stop its subscribe."""
        self.endpoint.hub.remove(self.sub)
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.pending = None

    def _on_text(self, data: bytes) -> None:
        hub = self.endpoint.hub
        self.received += 1
        if self.received > hub.limits.max_subscribes_per_connection:
            self._refuse(
                "too_many_subscribes", CloseCode.POLICY_VIOLATION, "too many subscribe messages"
            )
            return
        try:
            request = parse_subscribe(data, self.endpoint.resolve)
        except ProtocolError as err:
            self._refuse("protocol", CloseCode.POLICY_VIOLATION, str(err))
            return
        if self.task is None and hub.subscribe_now(self.sub, request):
            return
        if self.pending is None:
            self.pending = collections.deque()
        self.pending.append(request)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._subscribe_pending())

    async def _subscribe_pending(self) -> None:
        """Run the queued subscribes in order (a replay awaits its client's reading)."""
        hub = self.endpoint.hub
        try:
            while self.pending and not self.sub.closed:
                request = self.pending.popleft()
                try:
                    await hub.subscribe(self.sub, request)
                except TimelineError as err:
                    log.warning("subscribe failed peer=%s error=%s", self.sub.peer, err)
                    self._refuse("timeline", CloseCode.TRY_AGAIN_LATER, "timeline unavailable")
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscribe failed peer=%s", self.sub.peer)
            self._refuse("internal", CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            if self.task is asyncio.current_task():
                self.task = None

    def _refuse(self, reason: str, code: CloseCode, message: str) -> None:
        self.endpoint.hub.metrics.rejected.labels(reason).inc()
        self.endpoint.hub.kick(self.sub, code, message)


def _pong(data: bytes) -> bytes:
    """A pong frame echoing a ping's payload (RFC 6455 §5.5.3; at most 125 bytes)."""
    return bytes((0x8A, len(data))) + data
