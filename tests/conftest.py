"""Shared fixtures: a real redis-server per test session (and per test when asked)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio

from tests.redis_server import RedisProcess, running_redis

#: Where the shared reference material lives in CI and on developer machines.
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One real redis-server for the whole session; tests use their own key prefixes or
    the function-scoped ``redis_url`` (which flushes this server, which we started)."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def redis_url(redis_server: RedisProcess) -> AsyncIterator[str]:
    """URL of the session's redis-server, flushed before each test."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        await client.flushall()
    finally:
        await client.aclose()
    yield redis_server.url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """An asyncio client of the session's (flushed) redis-server, closed after the test."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def fresh_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of this test's own, with AOF on (for crash tests)."""
    with running_redis(tmp_path / "redis", appendonly=True) as server:
        yield server


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference; tests that need it skip with a reason when it is absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"reference material not present at {REFERENCE_DIR}")
    return REFERENCE_DIR
