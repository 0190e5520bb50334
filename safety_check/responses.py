"""JSON responses and the one mapping from errors to HTTP statuses (aiohttp edge).

Every error answer of the API is ``{"error": "<code>", "message": "<text>"}`` with the
status below; 401 carries ``WWW-Authenticate: Bearer`` (RFC 6750 §3) and 429
``Retry-After`` in seconds (RFC 6585 §4, RFC 9110 §10.2.3).
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from yure.safety_check.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    SafetyCheckError,
    StoreError,
    Unauthorized,
    UnsupportedMediaType,
)

#: The HTTP status of every error class, in one place.
ERROR_STATUS: dict[type[SafetyCheckError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    StoreError: 503,
}

_NO_STORE = {"Cache-Control": "no-store"}


def status_of(err: SafetyCheckError) -> int:
    """The status of ``err``: its class's, else the nearest base class's, else 500."""
    for cls in type(err).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500


def json_response(obj: Any, *, status: int = 200) -> web.Response:
    """A JSON answer (orjson: UTF-8, user text not HTML-escaped). Never cached: every API
    answer is about one account."""
    return web.Response(
        body=orjson.dumps(obj),
        status=status,
        content_type="application/json",
        headers=_NO_STORE,
    )


def error_response(err: SafetyCheckError) -> web.Response:
    """The JSON error answer for ``err``."""
    status = status_of(err)
    response = json_response({"error": err.code, "message": str(err)}, status=status)
    if isinstance(err, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="yure"'
    if isinstance(err, RateLimited):
        response.headers["Retry-After"] = str(err.retry_after_s)
    return response


def empty_response(status: int = 204) -> web.Response:
    """An answer without a body."""
    return web.Response(status=status, headers=_NO_STORE)
