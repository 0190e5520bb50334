"""``GET /ws``: the WebSocket stream (docs/protocol.md). Driver module.

aiohttp does the handshake (no extension is offered, so frames are never
compressed) and reads client messages; the hub writes pre-encoded frames straight
to the transport. aiohttp writes its own frames (pong, close) in one synchronous
step too, so frames never interleave.
"""

from __future__ import annotations

import logging

from aiohttp import WSMsgType, web

from yure.aio import raise_if_cancelling
from yure.broadcast.errors import ProtocolError, TimelineError
from yure.broadcast.fanout import Encoding, Subscriber
from yure.broadcast.filter import PrefResolver, codes_as_given, parse_subscribe
from yure.broadcast.frames import CloseCode
from yure.broadcast.hub import Hub
from yure.peer import client_address

log = logging.getLogger(__name__)


class WebSocketEndpoint:
    """The ``/ws`` handler bound to one hub."""

    def __init__(self, hub: Hub, *, resolve: PrefResolver = codes_as_given) -> None:
        self.hub = hub
        self.resolve = resolve

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Upgrade, then serve subscribe messages until either side closes."""
        limits = self.hub.limits
        ws = web.WebSocketResponse(
            compress=False, max_msg_size=limits.ws_max_message_bytes, autoping=True
        )
        await ws.prepare(request)
        transport = request.transport
        peer = client_address(request)
        if transport is None:
            return ws
        if not self.hub.admit(peer):
            self.hub.metrics.rejected.labels("connections_per_ip").inc()
            await ws.close(
                code=CloseCode.TRY_AGAIN_LATER, message=b"too many connections from this address"
            )
            return ws
        sub = Subscriber(transport, Encoding.WS, peer)
        self.hub.add(sub)
        try:
            await self._serve(ws, sub)
        finally:
            self.hub.remove(sub)
        return ws

    async def _serve(self, ws: web.WebSocketResponse, sub: Subscriber) -> None:
        hub = self.hub
        while not sub.closed:
            raise_if_cancelling()
            msg = await ws.receive()
            if sub.closed:
                return
            if msg.type is WSMsgType.TEXT:
                if sub.subscribes >= hub.limits.max_subscribes_per_connection:
                    await self._refuse(
                        ws,
                        "too_many_subscribes",
                        CloseCode.POLICY_VIOLATION,
                        "too many subscribe messages",
                    )
                    return
                try:
                    request = parse_subscribe(msg.data, self.resolve)
                except ProtocolError as err:
                    await self._refuse(ws, "protocol", CloseCode.POLICY_VIOLATION, str(err))
                    return
                try:
                    await hub.subscribe(sub, request)
                except TimelineError as err:
                    log.warning("subscribe failed peer=%s error=%s", sub.peer, err)
                    await self._refuse(
                        ws, "timeline", CloseCode.TRY_AGAIN_LATER, "timeline unavailable"
                    )
                    return
            elif msg.type is WSMsgType.BINARY:
                await self._refuse(
                    ws, "binary", CloseCode.UNSUPPORTED_DATA, "binary messages are not supported"
                )
                return
            else:
                if msg.type is WSMsgType.ERROR:
                    hub.metrics.rejected.labels("ws_error").inc()
                return

    async def _refuse(
        self, ws: web.WebSocketResponse, reason: str, code: CloseCode, message: str
    ) -> None:
        self.hub.metrics.rejected.labels(reason).inc()
        await ws.close(code=code, message=message.encode()[:123])
