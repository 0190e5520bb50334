"""Behind a reverse proxy: the request as the client sent it, and HSTS on https.

:func:`proxy_middleware` runs first on every request. It asks :mod:`yure.forwarded`
(pure) who the client is — believing ``Forwarded`` / ``X-Forwarded-*`` only from
``YURE_TRUSTED_PROXIES`` — and hands the handlers a clone of the request with that
``remote``, ``scheme`` and ``host``. So everything downstream (per-address limits via
:func:`yure.peer.client_address`, ``Secure`` cookies via ``request.secure``, invite and
Atom self URLs via ``request.url``) sees the real client without knowing about proxies.
``YURE_PUBLIC_URL`` pins scheme and host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from yure.forwarded import parse_public_url, resolve_origin
from yure.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: RFC 6797 §6.1: one year; no includeSubDomains (yure does not own its parent domain).
HSTS = "max-age=31536000"
HSTS_HEADER = "Strict-Transport-Security"


def proxy_middleware(settings: Settings) -> Middleware:
    """The middleware that resolves each request's client (see the module docstring)."""
    trusted = settings.trusted_proxies
    public = None if settings.public_url is None else parse_public_url(settings.public_url)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = resolve_origin(
            peer=request.remote,
            scheme=request.scheme,
            host=request.host,
            headers=request.headers,
            trusted=trusted,
            public=public,
        )
        if (origin.remote, origin.scheme, origin.host) != (
            request.remote,
            request.scheme,
            request.host,
        ):
            request = request.clone(remote=origin.remote, scheme=origin.scheme, host=origin.host)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if origin.secure:
                exc.headers.setdefault(HSTS_HEADER, HSTS)
            raise
        if origin.secure and not response.prepared:
            response.headers.setdefault(HSTS_HEADER, HSTS)
        return response

    return middleware


async def add_hsts(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: HSTS on streams a handler prepared itself (SSE)."""
    if request.secure:
        response.headers.setdefault(HSTS_HEADER, HSTS)
