"""Every error answer of yure's HTTP routes, in one place: RFC 9457 problem details.

:func:`problem_middleware` turns whatever a handler raises into
``application/problem+json`` (RFC 9457 §3) with the members ``type`` (always
``about:blank``, §4.2.1: the status says it all), ``title`` (the status phrase),
``status``, ``detail`` (what went wrong, for people) and the extension ``code`` (a
stable snake_case name, for programs: ``rate_limited``, ``not_found``…):

* a :class:`YureError` → the status of its nearest class in :data:`STATUS` (500 when
  none), ``code`` from the error's own ``code`` when it has one;
* an aiohttp ``HTTPException`` of status ≥ 400 (the router's 404 and 405, 413 from the
  body cap, a handler's ``HTTPBadRequest(text=…)``) → its status, its text as
  ``detail``, its headers (``Allow``, security headers) kept;
* anything else is a bug: logged with its traceback, answered 500 without details.

401 carries ``WWW-Authenticate: Bearer`` (RFC 6750 §3) and 429 ``Retry-After`` in seconds
(RFC 6585 §4). docs/api.md describes the answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus

import orjson
from aiohttp import hdrs, web, web_protocol

from yure.archive import errors as archive
from yure.broadcast.errors import BroadcastError, ProtocolError, TimelineError
from yure.errors import YureError
from yure.push import errors as push
from yure.push.http import PayloadTooLarge as PushPayloadTooLarge
from yure.safety_check.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StoreError,
    Unauthorized,
    UnsupportedMediaType,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: RFC 9457 §3: the media type of a problem details object.
PROBLEM_CONTENT_TYPE = "application/problem+json"

#: The HTTP status of each error class a request can meet (the nearest class wins).
STATUS: Mapping[type[YureError], int] = {
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
    ProtocolError: 400,
    TimelineError: 503,
    BroadcastError: 503,
    PushPayloadTooLarge: 413,
    push.SubscriptionError: 400,
    push.Unauthorized: 401,
    push.NotFound: 404,
    push.TooManySubscriptions: 429,
    push.StoreError: 503,
    push.VapidKeyError: 503,
    archive.QueryError: 400,
    archive.UnknownEvent: 404,
    archive.StorageError: 503,
}

#: ``code`` of error classes that carry none of their own (safety_check's errors do).
CODE: Mapping[type[YureError], str] = {
    PushPayloadTooLarge: "too_large",
    push.SubscriptionError: "invalid",
    push.Unauthorized: "unauthorized",
    push.NotFound: "not_found",
    push.TooManySubscriptions: "too_many_subscriptions",
    push.StoreError: "unavailable",
    push.VapidKeyError: "unavailable",
    archive.QueryError: "invalid_query",
    archive.UnknownEvent: "not_found",
    archive.StorageError: "unavailable",
}

#: Headers of an aiohttp exception that its problem answer must not copy.
_BODY_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH, hdrs.CONTENT_ENCODING})


def status_of(err: YureError) -> int:
    """The status of ``err``: its class's, else the nearest base class's, else 500."""
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def code_of(status: int) -> str:
    """The default ``code`` of a status: its phrase in snake_case (``not_found``)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return phrase.lower().replace(" ", "_").replace("-", "_").replace("'", "")


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """An ``application/problem+json`` answer (never cached)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["code"] = code or code_of(status)
    response = web.Response(
        body=orjson.dumps(body), status=status, headers={"Cache-Control": "no-store"}
    )
    if headers:
        response.headers.update(headers)
    response.headers[hdrs.CONTENT_TYPE] = PROBLEM_CONTENT_TYPE
    return response


def error_response(err: YureError) -> web.Response:
    """The problem answer of ``err``."""
    status = status_of(err)
    headers: dict[str, str] = {}
    if isinstance(err, Unauthorized | push.Unauthorized):
        headers[hdrs.WWW_AUTHENTICATE] = 'Bearer realm="yure"'
    if isinstance(err, RateLimited):
        headers[hdrs.RETRY_AFTER] = str(err.retry_after_s)
    # A server-side failure says what it was only when its class has its own public code
    # (safety_check's "unavailable" is worded for clients); others may carry internals.
    public = status < 500 or isinstance(getattr(type(err), "code", None), str)
    return problem_response(
        status, detail=str(err) if public else None, code=_code_of(err), headers=headers
    )


def _code_of(err: YureError) -> str | None:
    own = getattr(err, "code", None)
    if isinstance(own, str):
        return own
    for cls in type(err).__mro__:
        if cls in CODE:
            return CODE[cls]
    return None


def exception_response(exc: web.HTTPException) -> web.Response:
    """The problem answer of an aiohttp HTTP error, keeping its headers."""
    text = (exc.text or "").strip()
    default = f"{exc.status}: {exc.reason}"
    headers = {k: v for k, v in exc.headers.items() if k not in _BODY_HEADERS}
    return problem_response(exc.status, detail=None if text == default else text, headers=headers)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error as problem details (see the module docstring)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and other non-errors pass
        return exception_response(exc)
    except web_protocol.RequestPayloadError as err:
        # A body that does not decode (gzip that is not gzip, a broken chunk): the
        # client's fault, counted by aiohttp's protocol log (web.connections), not a bug.
        if _started(request):
            raise
        return problem_response(400, detail=f"request body unreadable: {err}", code="bad_body")
    except YureError as err:
        if _started(request):
            raise
        response = error_response(err)
        if response.status >= 500:
            log.warning(
                "error answered status=%s path=%s error=%r", response.status, request.path, err
            )
        return response
    except ConnectionResetError:
        # The client went away (its answer cannot be written): not a bug. aiohttp's
        # protocol log counts these in one line per period (web.connections).
        raise
    except Exception:
        if _started(request):
            raise
        # A bug, not a client error: logged with its traceback, answered without details.
        log.exception("unhandled error path=%s", request.path)
        return problem_response(500, code="internal")


def _started(request: web.Request) -> bool:
    """Whether the handler already sent its answer's head (a stream): too late to answer."""
    return request.writer.output_size > 0
