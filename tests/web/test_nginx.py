"""A real nginx (docs/deploy/nginx.conf, Debian's binary, a self-signed certificate) in
front of ``yure serve`` with ``YURE_TRUSTED_PROXIES=127.0.0.1``.

Clients connect from other loopback addresses (127.0.0.2, 127.0.0.3) so that nginx sees
distinct client addresses while yure's only peer is nginx at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import redis.asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.broadcast.support import WAIT_S, envelope, events, subscribe, until_ready
from tests.redis_server import RedisProcess, running_redis
from tests.web.nginx import Nginx, running_nginx
from tests.web.test_serve import Serve
from yure.broadcast.timeline import Timeline

#: Stream connections per client address yure allows in this test.
MAX_CONNS_PER_IP = 2
PASSWORD = "pw-long-enough-1"
#: Wrong passwords one address may try before it must wait (5 free per handle, then 429).
MAX_GUESSES = 10
CLIENT_A = "127.0.0.2"
CLIENT_B = "127.0.0.3"
#: Addresses only the limit tests use (other tests' streams may still be closing), in
#: different /24 networks (some limits count networks).
LIMITED_A = "127.0.1.4"
LIMITED_B = "127.0.2.5"


@pytest.fixture(scope="module")
def redis_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve") / "serve.log"


@pytest.fixture(scope="module")
def proxy(serve_log: Path, redis_proc: RedisProcess) -> Iterator[Nginx]:
    """``yure serve`` behind nginx, for the whole module (logging JSON, with access log)."""
    serve = Serve(
        serve_log.parent,
        REDIS_URL=redis_proc.url,
        YURE_TRUSTED_PROXIES="127.0.0.1/32",
        YURE_WS_MAX_CONNS_PER_IP=str(MAX_CONNS_PER_IP),
        YURE_LOG_FORMAT="json",
        YURE_ACCESS_LOG="true",
    )
    try:
        port = int(serve.base.rsplit(":", 1)[1])
        with running_nginx(serve_log.parent / "nginx", port) as nginx:
            yield nginx
    finally:
        serve.stop()


@pytest.fixture
async def timeline(redis_proc: RedisProcess) -> AsyncIterator[Timeline]:
    client = redis.asyncio.Redis.from_url(redis_proc.url)
    try:
        yield Timeline(client, retention_s=48 * 3600)
    finally:
        await client.aclose()


def http(nginx: Nginx, local: str = CLIENT_A) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(ssl=nginx.ssl_context(), local_addr=(local, 0))
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=WAIT_S))


def ws(nginx: Nginx, local: str, **headers: str) -> Any:
    return connect(
        f"wss://127.0.0.1:{nginx.tls_port}/ws",
        ssl=nginx.ssl_context(),
        local_addr=(local, 0),
        additional_headers=headers,
        open_timeout=WAIT_S,
    )


async def test_websocket_through_nginx(proxy: Nginx, timeline: Timeline) -> None:
    async with ws(proxy, CLIENT_A) as conn:
        await conn.send(subscribe(prefs=["13"]))
        await until_ready(conn)
        await timeline.append(envelope("nginx-ws-1", ("13",)))
        (got,) = await events(conn, 1)
    assert got["event"]["key"] == "nginx-ws-1"


async def test_sse_resumes_and_streams_unbuffered_through_nginx(
    proxy: Nginx, timeline: Timeline
) -> None:
    first = await timeline.append(envelope("nginx-sse-1", ("01",)))
    await timeline.append(envelope("nginx-sse-2", ("01",)))
    async with (
        http(proxy) as session,
        session.get(
            f"{proxy.base}/sse?prefs=01", headers={"Last-Event-ID": first}, timeout=None
        ) as resp,
    ):
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        keys = await _sse_keys(resp, 1)
        assert keys == ["nginx-sse-2"]  # resumed after Last-Event-ID, nothing repeated
        # A live event reaches the client while the stream is open: nginx does not buffer.
        await timeline.append(envelope("nginx-sse-3", ("01",)))
        assert await _sse_keys(resp, 1) == ["nginx-sse-3"]


async def _sse_keys(resp: aiohttp.ClientResponse, count: int) -> list[str]:
    keys: list[str] = []
    async with asyncio.timeout(WAIT_S):
        while len(keys) < count:
            line = (await resp.content.readline()).decode()
            assert line, "stream ended"
            if line.startswith("data: "):
                message = orjson.loads(line[len("data: ") :])
                if message.get("type") == "event":
                    keys.append(message["event"]["key"])
    return keys


async def test_login_cookie_is_secure_and_links_are_https(proxy: Nginx) -> None:
    async with http(proxy) as session:
        async with session.post(
            f"{proxy.base}/api/accounts", json={"handle": "nginxuser", "password": PASSWORD}
        ) as resp:
            assert resp.status == 201, await resp.text()
            cookie = resp.headers["Set-Cookie"]
            token = (await resp.json())["token"]
            assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"secure", "httponly", "samesite"} <= attributes
        async with session.post(
            f"{proxy.base}/api/invites", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            assert resp.status == 201, await resp.text()
            url = (await resp.json())["url"]
        assert url.startswith(f"{proxy.base}/safety#invite=")
        async with session.get(f"{proxy.base}/feeds/13.atom") as resp:
            assert resp.status == 200
            feed = await resp.text()
        assert f'href="{proxy.base}/feeds/13.atom"' in feed
        # Plain http is redirected to https by the shipped config.
        async with session.get(
            f"http://127.0.0.1:{proxy.http_port}/healthz", allow_redirects=False
        ) as resp:
            assert resp.status == 301
            assert resp.headers["Location"].startswith("https://")


async def test_stream_limits_count_the_real_client(proxy: Nginx) -> None:
    """Before yure honoured X-Forwarded-For every client was nginx's 127.0.0.1: one
    address's connections used up everybody's allowance."""
    async with ws(proxy, LIMITED_A) as one, ws(proxy, LIMITED_A) as two:
        for conn in (one, two):
            await conn.send(subscribe())
            await until_ready(conn)
        # A third from A is refused, even when A claims to be someone else...
        async with ws(proxy, LIMITED_A, **{"X-Forwarded-For": "198.51.100.7"}) as third:
            assert await _close_code(third) == 1013
        # ...while B, behind the same proxy, is admitted.
        async with ws(proxy, LIMITED_B) as other:
            await other.send(subscribe())
            await until_ready(other)


async def _close_code(conn: ClientConnection) -> int | None:
    async with asyncio.timeout(WAIT_S):
        try:
            while True:
                await conn.recv()
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code


async def test_password_guessing_slows_only_the_real_client(proxy: Nginx) -> None:
    """Wrong passwords slow down the address they come from (safety_check.guesses): A,
    guessing, is throttled (429) while B, behind the same proxy, is not."""
    url = f"{proxy.base}/api/sessions"
    wrong = {"handle": "guessed", "password": "not-the-password-1"}
    async with http(proxy, LIMITED_A) as a, http(proxy, LIMITED_B) as b:
        async with b.post(
            f"{proxy.base}/api/accounts", json={"handle": "guessed", "password": PASSWORD}
        ) as resp:
            assert resp.status == 201, await resp.text()
        statuses = []
        for _ in range(MAX_GUESSES):
            async with a.post(url, json=wrong) as resp:
                statuses.append(resp.status)
            if statuses[-1] == 429:
                break
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {401}
        async with b.post(url, json=wrong) as resp:
            assert resp.status == 401
        async with b.post(url, json={"handle": "guessed", "password": PASSWORD}) as resp:
            assert resp.status == 200


async def test_json_logs_and_access_log_name_the_real_client(proxy: Nginx, serve_log: Path) -> None:
    async with http(proxy, CLIENT_B) as session, session.get(f"{proxy.base}/healthz") as resp:
        assert resp.status == 200
    wanted = f"access remote={CLIENT_B} method=GET path=/healthz status=200"
    async with asyncio.timeout(WAIT_S):
        while True:
            lines = (await asyncio.to_thread(serve_log.read_text)).splitlines()
            records = [json.loads(line) for line in lines]  # every line is one JSON object
            if any(r["message"].startswith(wanted) for r in records):
                break
            await asyncio.sleep(0.05)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"] == "yure.access" for r in records)
