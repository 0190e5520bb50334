"""Shared fixtures: a real redis-server per test session (and per test when asked)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import hypothesis
import pytest
import redis.asyncio

from tests.redis_server import RedisProcess, running_redis
from tests.redis_topologies import Cluster, SentinelGroup, running_cluster, running_sentinel

# No timed assertions (STYLE.md §15): Hypothesis' per-example deadline fails tests on a
# loaded machine, so it is off for the whole suite; speed goals live in `make bench`.
hypothesis.settings.register_profile("yure", deadline=None)
hypothesis.settings.load_profile("yure")

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


def require_reference(path: Path, *, ci: str | None) -> Path:
    """``path`` when it is a folder. Otherwise the test skips with the reason — except in
    CI (``ci`` is the ``CI`` variable, ``true`` there), where a missing corpus must not
    pass unnoticed: the test fails.
    """
    if path.is_dir():
        return path
    message = f"reference material not present at {path}"
    if (ci or "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (CI={ci}: the reference tests must run in CI)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference (see :func:`require_reference`: skip locally, fail in CI)."""
    return require_reference(REFERENCE_DIR, ci=os.environ.get("CI"))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One real 6-node Redis Cluster for the session (started on first use)."""
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture
def healthy_cluster(cluster: Cluster) -> Iterator[Cluster]:
    """The session's cluster with one replica per master; a node a test killed is
    restarted afterwards (it rejoins as a replica)."""
    cluster.wait_ok()
    yield cluster
    cluster.revive()


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[SentinelGroup]:
    """A real master + replica + three sentinels of this test's own."""
    with running_sentinel(tmp_path / "sentinel") as running:
        yield running
