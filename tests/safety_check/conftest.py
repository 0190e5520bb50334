"""Fixtures of the safety-check tests: the real API on a real aiohttp server (port 0) over
a real redis-server, with cheap argon2 and generous limits unless a test asks otherwise."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import yure.safety_check.http
from yure.broadcast.timeline import Timeline
from yure.safety_check.config import Limits, SafetyConfig
from yure.safety_check.ratelimit import Limit
from yure.settings import Settings
from yure.web.problems import problem_middleware

#: Settings of the test servers: a fixed address secret, so nothing is written to the
#: user's data directory.
TEST_SETTINGS = Settings(address_secret="test-address-secret-" + "0" * 12)
#: The test accounts' password.
PASSWORD = "correct horse"

#: Limits high enough that only the rate-limit tests ever meet them.
GENEROUS = Limits(**{f.name: Limit(f.name, 10_000, 60) for f in dataclasses.fields(Limits)})


def fast_config(**overrides: Any) -> SafetyConfig:
    """Production behaviour with test-sized costs: argon2id t=1, m=8 MiB, p=1."""
    base = SafetyConfig(
        argon2_time_cost=1,
        argon2_memory_kib=8 * 1024,
        argon2_parallelism=1,
        limits=GENEROUS,
        live_block_s=0.5,
        live_auth_timeout_s=2.0,
        felt_flush_every_s=0.05,
        current_event_cache_s=0.0,
    )
    return dataclasses.replace(base, **overrides)


class FakeClock:
    """A wall clock tests can move; starts at the real time (Redis expiry stays real)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A test client with helpers for accounts and authenticated calls."""

    def __init__(self, client: TestClient[web.Request, web.Application], r: redis.asyncio.Redis):
        self.client = client
        self.redis = r
        self.tokens: dict[str, str] = {}

    async def signup(self, handle: str, password: str = PASSWORD) -> str:
        resp = await self.client.post(
            "/api/accounts", json={"handle": handle, "password": password}
        )
        assert resp.status == 201, await resp.text()
        token = str((await resp.json(content_type=None))["token"])
        # Tests authenticate by Bearer unless they test the cookie on purpose.
        self.client.session.cookie_jar.clear()
        self.tokens[handle] = token
        return token

    def auth(self, handle: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[handle]}"}

    async def call(
        self, method: str, path: str, who: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers.update(self.auth(who))
        resp = await self.client.request(method, path, headers=headers, **kwargs)
        body = await resp.read()
        ctype = resp.headers.get("Content-Type", "")
        return resp.status, (
            await resp.json(content_type=None) if body and "json" in ctype else body
        )

    async def befriend(self, a: str, b: str) -> None:
        assert (await self.call("POST", "/api/friends", a, json={"handle": b}))[0] == 200
        status, body = await self.call("POST", "/api/friends", b, json={"handle": a})
        assert (status, body["status"]) == (200, "friends")


AppFactory = Callable[..., Any]


def _b(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


async def redis_dump(r: redis.asyncio.Redis) -> bytes:
    """Every key and value of the non-stream keys in ``r``, concatenated: to prove that a
    secret or a deleted text is nowhere."""
    out = b""
    for key in await r.keys("*"):
        out += _b(key) + b"\n"
        kind = _b(await r.type(key))
        if kind == b"string":
            out += _b(await r.get(key))
        elif kind == b"hash":
            out += b"".join(_b(k) + _b(v) for k, v in (await r.hgetall(key)).items())
        elif kind == b"set":
            out += b"".join(_b(m) for m in await r.smembers(key))
        elif kind == b"zset":
            out += b"".join(_b(m) for m in await r.zrange(key, 0, -1))
        out += b"\n"
    return out


@contextlib.asynccontextmanager
async def running_api(
    redis_url: str,
    config: SafetyConfig | None = None,
    clock: Callable[[], float] | None = None,
    locator: Callable[[float, float], str | None] | None = None,
) -> AsyncIterator[Api]:
    """The safety-check API on a real aiohttp server (port 0) in the running loop."""
    r = redis.asyncio.Redis.from_url(redis_url)
    app = web.Application(middlewares=[problem_middleware])
    yure.safety_check.http.setup(
        app,
        redis=r,
        settings=TEST_SETTINGS,
        public=Timeline(r, retention_s=TEST_SETTINGS.retention_s),
        config=config or fast_config(),
        clock=clock,
        locator=locator,
    )
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, port=0))
    await client.start_server()
    try:
        yield Api(client, r)
    finally:
        await client.close()
        await r.aclose()


@pytest.fixture
async def make_api(redis_url: str) -> AsyncIterator[AppFactory]:
    """``await make_api(config=..., clock=...)`` → an :class:`Api` on a fresh server."""
    async with contextlib.AsyncExitStack() as stack:

        async def factory(
            config: SafetyConfig | None = None,
            clock: Callable[[], float] | None = None,
            locator: Callable[[float, float], str | None] | None = None,
        ) -> Api:
            return await stack.enter_async_context(running_api(redis_url, config, clock, locator))

        yield factory


@pytest.fixture
async def api(make_api: AppFactory) -> Api:
    """The API with the default test config."""
    result: Api = await make_api()
    return result
