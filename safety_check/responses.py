"""The API's successful JSON answers (aiohttp edge). Errors are raised, and answered as
problem details by the app's one error middleware (``web.problems``)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

_NO_STORE = {"Cache-Control": "no-store"}


def json_response(obj: Any, *, status: int = 200) -> web.Response:
    """A JSON answer (orjson: UTF-8, user text not HTML-escaped). Never cached: every API
    answer is about one account."""
    return web.Response(
        body=orjson.dumps(obj),
        status=status,
        content_type="application/json",
        headers=_NO_STORE,
    )


def empty_response(status: int = 204) -> web.Response:
    """An answer without a body."""
    return web.Response(status=status, headers=_NO_STORE)
