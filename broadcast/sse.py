"""``GET /sse``: the same stream as Server-Sent Events (docs/protocol.md). Driver module.

Filter from ``?prefs=&kinds=``; resume from the ``Last-Event-ID`` header (sent by
EventSource on reconnect) or ``?since=``. Every event carries an ``id:`` line.
The response is chunked; the hub writes whole chunks straight to the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from yure.aio import raise_if_cancelling
from yure.broadcast.errors import ProtocolError, TimelineError
from yure.broadcast.fanout import Encoding, Subscriber
from yure.broadcast.filter import PrefResolver, Subscribe, codes_as_given, parse_query, parse_since
from yure.broadcast.frames import http_chunk
from yure.broadcast.hub import Hub
from yure.broadcast.limits import MAX_QUERY_BYTES
from yure.peer import client_address

log = logging.getLogger(__name__)

#: Response headers of every Server-Sent Events stream (public and private): never
#: stored by a cache, never buffered by a reverse proxy (nginx's X-Accel-Buffering).
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
}

#: Browsers retry a dropped EventSource after this many milliseconds.
SSE_RETRY_MS = 3000


class SseEndpoint:
    """The ``/sse`` handler bound to one hub."""

    def __init__(self, hub: Hub, *, resolve: PrefResolver = codes_as_given) -> None:
        self.hub = hub
        self.resolve = resolve

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Stream events until the client goes away or is too slow.

        Raises:
            web.HTTPBadRequest: bad filter or cursor.
            web.HTTPServiceUnavailable: too many connections from this address.
        """
        if len(request.query_string) > MAX_QUERY_BYTES:
            raise web.HTTPRequestURITooLong()
        query = request.query
        try:
            flt = parse_query(query.get("prefs"), query.get("kinds"), self.resolve)
            since = parse_since(request.headers.get("Last-Event-ID") or query.get("since"))
        except ProtocolError as err:
            raise web.HTTPBadRequest(text=f"{err}\n") from err
        peer = client_address(request)
        if not self.hub.admit(peer):
            self.hub.metrics.rejected.labels("connections_per_ip").inc()
            raise web.HTTPServiceUnavailable(
                text="too many connections from this address\n", headers={"Retry-After": "10"}
            )
        response = web.StreamResponse(headers=SSE_HEADERS)
        try:
            await response.prepare(request)
        except ConnectionError:
            return response  # gone before the answer: not a server error (as in broadcast.ws)
        transport = request.transport
        if transport is None:
            return response
        sub = Subscriber(transport, Encoding.SSE, peer)
        self.hub.add(sub)
        try:
            self.hub.write(sub, http_chunk(b"retry: %d\n\n" % SSE_RETRY_MS))
            await self.hub.subscribe(sub, Subscribe(filter=flt, since=since))
            # aiohttp does not cancel handlers when the client leaves; the hub notices a
            # closed transport when it next writes (at least every heartbeat).
            while not sub.closed and not transport.is_closing():
                raise_if_cancelling()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        asyncio.shield(sub.done), self.hub.limits.heartbeat_interval_s
                    )
        except TimelineError as err:
            log.warning("sse subscribe failed peer=%s error=%s", sub.peer, err)
        finally:
            self.hub.remove(sub)
        return response
