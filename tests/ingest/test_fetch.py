"""ingest.fetch: redirect policy, size caps and conditional GET against a local server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from tests.support import base_url, serving
from yure.ingest.fetch import FetchError, Validators, fetch, same_host


@pytest.mark.parametrize(
    ("origin", "target", "allowed"),
    [
        ("https://www.data.jma.go.jp/a", "https://www.data.jma.go.jp/b", True),
        ("http://www.data.jma.go.jp/a", "https://www.data.jma.go.jp/b", True),  # upgrade
        ("https://www.data.jma.go.jp/a", "http://www.data.jma.go.jp/b", False),  # downgrade
        ("https://www.data.jma.go.jp/a", "https://evil.example/b", False),
        ("https://www.data.jma.go.jp/a", "https://www.data.jma.go.jp:8443/b", False),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b", True),
        ("http://127.0.0.1:8000/a", "http://localhost:8000/b", False),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8001/b", False),
        ("https://x.example/a", "ftp://x.example/b", False),
        ("https://x.example/a", "https:///b", False),
    ],
)
def test_same_host(origin: str, target: str, allowed: bool) -> None:
    assert same_host(origin, target) is allowed


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def declared_big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 2048)

    async def no_location(request: web.Request) -> web.Response:
        return web.Response(status=302)

    async def conditional(request: web.Request) -> web.Response:
        if request.headers.get("If-Modified-Since") == "Wed, 17 Apr 2024 14:20:00 GMT":
            return web.Response(status=304)
        return web.Response(
            body=b"<feed/>", headers={"Last-Modified": "Wed, 17 Apr 2024 14:20:00 GMT"}
        )

    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403)

    async def throttled(request: web.Request) -> web.Response:
        return web.Response(status=429)

    app = web.Application()
    app.router.add_get("/big", declared_big)
    app.router.add_get("/nolocation", no_location)
    app.router.add_get("/conditional", conditional)
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/throttled", throttled)
    async with serving(app) as runner:
        yield base_url(runner)


async def test_fetch_policies(server: str) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(FetchError, match="Content-Length 2048 over cap") as big:
            await fetch(session, server + "/big", max_bytes=1024, timeout_s=2)
        assert big.value.permanent
        with pytest.raises(FetchError, match="without Location") as nowhere:
            await fetch(session, server + "/nolocation", max_bytes=1024, timeout_s=2)
        assert nowhere.value.permanent
        with pytest.raises(FetchError) as forbidden:
            await fetch(session, server + "/forbidden", max_bytes=1024, timeout_s=2)
        assert forbidden.value.permanent
        with pytest.raises(FetchError) as throttled:
            await fetch(session, server + "/throttled", max_bytes=1024, timeout_s=2)
        assert not throttled.value.permanent  # 429: try again later
        first = await fetch(session, server + "/conditional", max_bytes=1024, timeout_s=2)
        assert first.status == 200 and first.body == b"<feed/>" and not first.not_modified
        assert first.validators == Validators(None, "Wed, 17 Apr 2024 14:20:00 GMT")
        second = await fetch(
            session, server + "/conditional", max_bytes=1024, timeout_s=2,
            validators=first.validators,
        )  # fmt: skip
        assert second.not_modified and second.body == b""


async def test_connection_refused_is_transient() -> None:
    from tests.redis_server import free_port

    async with aiohttp.ClientSession() as session:
        with pytest.raises(FetchError) as refused:
            await fetch(session, f"http://127.0.0.1:{free_port()}/x", max_bytes=10, timeout_s=2)
    assert not refused.value.permanent
