"""Malformed requests are the client's fault (issue 10 item 9): a 4xx answer, at most one
log line per interval and no traceback; JSON answers carry nosniff; no version in
``Server``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from tests.broadcast.support import WAIT_S
from tests.web.guarded import guarded_server
from yure.web.connections import SERVER_NAME, ClientFaults

MALFORMED = 20


async def raw_answer(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    async with asyncio.timeout(WAIT_S):
        answer = await reader.read()
    writer.close()
    return answer


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_body_that_is_not_gzip_is_a_bad_request(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with guarded_server(redis_url, tmp_path) as port:
        # Not gzip at all; a gzip header then garbage (it may decode to nothing at all).
        for body, codes in (
            (b"not gzip", {"bad_body"}),
            (b"\x1f\x8b\x08\x00junk", {"bad_body", "invalid_input"}),
        ):
            # A fresh connection each: the server closes one whose body it could not read.
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{port}/api/sessions",
                    data=body,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
                ) as resp,
            ):
                assert resp.status == 400
                assert (await resp.json())["code"] in codes
    assert errors(caplog) == []


async def test_malformed_requests_log_one_line_without_traceback(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with guarded_server(redis_url, tmp_path) as port:
        for n in range(MALFORMED):
            bad = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header %d\r\n\r\n" % n
            answer = await raw_answer(port, bad)
            assert answer.split(b" ", 2)[1] == b"400", answer[:80]
            assert b"\r\nServer: " + SERVER_NAME.encode() + b"\r\n" in answer
            assert b"aiohttp" not in answer
    assert errors(caplog) == []
    lines = [r for r in caplog.records if r.name == "yure.web.protocol"]
    assert len(lines) <= 1


def test_client_faults_are_counted_in_one_line_per_interval() -> None:
    from aiohttp.http_exceptions import BadHttpMessage

    faults = ClientFaults(every_s=10.0)

    def record(at: float, exc: BaseException | None) -> logging.LogRecord:
        rec = logging.LogRecord("p", logging.ERROR, "f", 1, "Error handling request", (), None)
        rec.created = at
        rec.exc_info = (type(exc), exc, None) if exc is not None else None
        return rec

    first = record(100.0, BadHttpMessage("bad"))
    assert faults.filter(first)
    assert (first.levelno, first.exc_info, first.getMessage()) == (
        logging.INFO,
        None,
        "malformed requests count=1 last=BadHttpMessage",
    )
    assert not faults.filter(record(105.0, BadHttpMessage("bad")))
    later = record(111.0, BadHttpMessage("bad"))
    assert faults.filter(later) and "count=3" in later.getMessage()
    bug = record(112.0, RuntimeError("a bug"))
    assert faults.filter(bug) and bug.levelno == logging.ERROR and bug.exc_info is not None


async def test_json_is_nosniff_and_server_names_no_version(redis_url: str, tmp_path: Path) -> None:
    async with guarded_server(redis_url, tmp_path) as port, aiohttp.ClientSession() as http:
        for path in ("/api/timeline", "/healthz", "/api/nothing-here"):
            async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                assert "json" in resp.headers["Content-Type"], path
                assert resp.headers["X-Content-Type-Options"] == "nosniff", path
                assert resp.headers["Server"] == SERVER_NAME, path


async def test_a_client_gone_before_its_answer_is_counted_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that finds its client gone (aiohttp raises ClientConnectionResetError on
    the write, e.g. a history export or a live channel reset mid-answer) is no bug: no
    ERROR with a traceback per request (a client could flood the log), one counted line."""
    from aiohttp import web
    from aiohttp.client_exceptions import ClientConnectionResetError

    from yure.settings import Settings
    from yure.web.connections import make_runner
    from yure.web.problems import problem_middleware

    async def gone(request: web.Request) -> web.StreamResponse:
        raise ClientConnectionResetError("Cannot write to closing transport")

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/gone", gone)
    runner = make_runner(app, Settings(data_dir=tmp_path))
    await runner.setup()
    caplog.set_level(logging.INFO)
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http, asyncio.timeout(WAIT_S):
            for _ in range(30):
                async with http.get(f"http://127.0.0.1:{port}/gone") as resp:
                    await resp.read()
    finally:
        await runner.cleanup()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors[:3]]
    counted = [r.getMessage() for r in caplog.records if "clients gone" in r.getMessage()]
    assert counted == ["clients gone before the answer count=1 last=ClientConnectionResetError"]
