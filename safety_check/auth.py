"""Who is asking, and what they sent: authentication and body reading (aiohttp edge).

A request authenticates with ``Authorization: Bearer <token>`` (API clients) or with the
``yure_session`` cookie (the pages). The cookie is HttpOnly, SameSite=Lax and Secure on
https; cookie-authenticated writes must also carry ``X-Yure-CSRF: 1`` and a same-host
``Origin`` when one is sent (:func:`safety_check.policy.csrf_ok`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from yure import peer
from yure.safety_check import wire
from yure.safety_check.errors import (
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from yure.safety_check.model import Principal
from yure.safety_check.policy import CSRF_HEADER, csrf_ok
from yure.safety_check.services import Services
from yure.safety_check.tokens import SESSION_COOKIE, bearer_token

#: Slow senders get this long for a whole body.
BODY_READ_TIMEOUT_S = 10.0
#: An Idempotency-Key is 1–255 visible ASCII characters
#: (draft-ietf-httpapi-idempotency-key-header: an sf-string).
MAX_IDEMPOTENCY_KEY_CHARS = 255


async def authenticate(request: web.Request, services: Services) -> Principal:
    """The principal of ``request``.

    Raises:
        Unauthorized: no credentials, or an unknown, expired, revoked or malformed token.
        Forbidden: a cookie-authenticated write without the CSRF header / with a foreign
            Origin.
        StoreError: Redis failed.
    """
    token = bearer_token(request.headers.get("Authorization"))
    via_cookie = token is None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
    if token is None:
        raise Unauthorized("authentication required")
    resolved = await services.sessions.resolve(token)
    if resolved is None:
        raise Unauthorized("invalid or expired session")
    uid, token_hash = resolved
    account = await services.accounts.get(uid)
    if account is None:
        raise Unauthorized("invalid or expired session")
    if not csrf_ok(
        method=request.method,
        via_cookie=via_cookie,
        csrf_header=request.headers.get(CSRF_HEADER),
        origin=request.headers.get("Origin"),
        host=request.host,
    ):
        raise Forbidden(f"cookie-authenticated writes need the {CSRF_HEADER} header")
    return Principal(uid=uid, handle=account.handle, token_hash=token_hash, via_cookie=via_cookie)


async def read_json(request: web.Request, max_bytes: int = wire.MAX_BODY_BYTES) -> dict[str, Any]:
    """The JSON object in the body, read up to ``max_bytes``.

    Raises:
        UnsupportedMediaType: not ``application/json``.
        PayloadTooLarge: more than ``max_bytes``.
        InvalidInput: not a JSON object, or the body did not arrive in time.
    """
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"body over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            while True:
                chunk = await request.content.read(max_bytes + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"body over {max_bytes} bytes")
    except TimeoutError as err:
        raise InvalidInput("request body too slow") from err
    return wire.parse_object(b"".join(chunks))


def idempotency_key(request: web.Request) -> str | None:
    """The ``Idempotency-Key`` header, or None.

    Raises:
        InvalidInput: empty, too long or not visible ASCII.
    """
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip().strip('"')
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_CHARS or not all("!" <= ch <= "~" for ch in key):
        raise InvalidInput(f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII")
    return key


def client_address(request: web.Request) -> str:
    """The client address used for per-IP limits (:func:`yure.peer.client_address`: the
    real client behind a trusted reverse proxy)."""
    return peer.client_address(request)


def set_session_cookie(
    request: web.Request, response: web.StreamResponse, token: str, max_age_s: int
) -> None:
    """Attach the session cookie for the pages."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.secure,
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Remove the session cookie."""
    response.del_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=request.secure
    )
