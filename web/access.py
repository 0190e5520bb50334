"""The opt-in access log (``YURE_ACCESS_LOG=true``): one line per HTTP request on the
logger ``yure.access``.

It runs after :mod:`yure.web.proxy`, so ``remote`` is the real client behind a trusted
proxy. Only the path is logged, never the query string (filters are harmless, but a
query is where a careless client puts a token), and never a header or a body.
Streams (WebSocket, SSE) are logged when they end, with their duration.
"""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from yure.peer import client_address

log = logging.getLogger("yure.access")


def access_middleware() -> Middleware:
    """The middleware that logs each request once it is answered."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            log.info(
                "access remote=%s method=%s path=%s status=%d ms=%.1f",
                client_address(request),
                request.method,
                request.path,
                status,
                (time.monotonic() - started) * 1000,
            )

    return middleware
