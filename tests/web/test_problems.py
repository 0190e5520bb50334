"""The one error answer of the whole app: RFC 9457 problem details (web.problems)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from tests.broadcast.support import running_server
from yure.broadcast import errors as broadcast_errors
from yure.errors import YureError
from yure.push import errors as push_errors
from yure.safety_check import errors as safety_errors
from yure.web.problems import (
    PROBLEM_CONTENT_TYPE,
    STATUS,
    error_response,
    exception_response,
    status_of,
)


class _Narrower(safety_errors.InvalidInput):
    pass


def _body(resp: web.Response) -> dict[str, Any]:
    assert isinstance(resp.body, bytes)
    body: dict[str, Any] = orjson.loads(resp.body)
    return body


def test_every_safety_check_error_is_mapped() -> None:
    leaves = {
        c
        for c in vars(safety_errors).values()
        if isinstance(c, type)
        and c is not safety_errors.SafetyCheckError
        and issubclass(c, safety_errors.SafetyCheckError)
    }
    assert leaves <= set(STATUS)
    assert status_of(_Narrower("x")) == 400  # nearest mapped base class
    assert status_of(safety_errors.SafetyCheckError("x")) == 500
    assert status_of(YureError("x")) == 500
    assert status_of(broadcast_errors.FilterError("x")) == 400
    assert status_of(broadcast_errors.TimelineError("x")) == 503
    push_leaves = {
        c
        for c in vars(push_errors).values()
        if isinstance(c, type)
        and c is not push_errors.PushError
        and issubclass(c, push_errors.PushError)
    }
    assert all(status_of(c("x")) != 500 for c in push_leaves)
    assert _body(error_response(push_errors.EndpointError("http://x")))["code"] == "invalid"
    assert _body(error_response(push_errors.StoreError("down")))["code"] == "unavailable"


def test_error_bodies_and_headers() -> None:
    resp = error_response(safety_errors.RateLimited("slow down", retry_after_s=7))
    assert resp.status == 429 and resp.headers["Retry-After"] == "7"
    assert resp.content_type == PROBLEM_CONTENT_TYPE
    assert _body(resp) == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "slow down",
        "code": "rate_limited",
    }
    resp = error_response(safety_errors.Unauthorized("no"))
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.headers["Cache-Control"] == "no-store"
    # A 5xx without a code of its own says nothing about its insides.
    assert "detail" not in _body(error_response(broadcast_errors.BroadcastError("redis at x")))


def test_aiohttp_exceptions_keep_status_text_and_headers() -> None:
    resp = exception_response(web.HTTPBadRequest(text="bad since\n"))
    assert (resp.status, _body(resp)["detail"], _body(resp)["code"]) == (
        400,
        "bad since",
        "bad_request",
    )
    resp = exception_response(web.HTTPMethodNotAllowed("PUT", ["GET", "HEAD"]))
    assert resp.status == 405 and set(resp.headers["Allow"].split(",")) == {"GET", "HEAD"}
    assert "detail" not in _body(resp)  # aiohttp's default text repeats the title
    assert _body(resp)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/page", 404, "not_found"),
        ("GET", "/feeds/99.atom", 404, "not_found"),
        ("DELETE", "/api/timeline", 405, "method_not_allowed"),
        ("GET", "/api/timeline?prefs=atlantis", 400, "bad_request"),
        ("GET", "/api/timeline?since=yesterday", 400, "bad_request"),
        ("GET", "/api/sessions/current", 401, "unauthorized"),
        ("POST", "/api/accounts", 415, "unsupported_media_type"),
    ],
)
async def test_every_route_answers_problem_json(
    redis_url: str, tmp_path: Path, method: str, path: str, status: int, code: str
) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        aiohttp.ClientSession() as http,
        http.request(method, server.base + path, data=b"x") as resp,
    ):
        assert resp.status == status
        assert resp.content_type == PROBLEM_CONTENT_TYPE
        body = await resp.json(content_type=None)
        assert (body["status"], body["code"], body["type"]) == (status, code, "about:blank")
        assert isinstance(body["title"], str) and body["title"]
