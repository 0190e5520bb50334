"""The storage layout version: stamped, migrated, and a newer one refused at start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio

from tests.redis_server import RedisProcess
from yure.schema import (
    SCHEMA_KEY,
    SCHEMA_VERSION,
    UNVERSIONED,
    Plan,
    SchemaError,
    check_schema,
    hash_tagged_name,
    plan,
)


@pytest.mark.parametrize(
    ("stored", "has_data", "expected"),
    [
        (None, False, Plan(SCHEMA_VERSION, SCHEMA_VERSION, ())),
        (None, True, Plan(UNVERSIONED, SCHEMA_VERSION, tuple(range(UNVERSIONED, SCHEMA_VERSION)))),
        (SCHEMA_VERSION, True, Plan(SCHEMA_VERSION, SCHEMA_VERSION, ())),
    ],
)
def test_plan(stored: int | None, has_data: bool, expected: Plan) -> None:
    assert plan(stored, has_data=has_data) == expected


def test_plan_refuses_newer_and_unknown_steps() -> None:
    with pytest.raises(SchemaError, match="newer yure"):
        plan(SCHEMA_VERSION + 1, has_data=True)
    with pytest.raises(SchemaError, match="no migration from layout 5"):
        plan(5, has_data=True, current=7)


async def test_empty_redis_is_stamped_and_unversioned_data_migrated(
    redis_client: redis.asyncio.Redis,
) -> None:
    assert (await check_schema(redis_client)).steps == ()
    assert await redis_client.get(SCHEMA_KEY) == str(SCHEMA_VERSION).encode()
    await redis_client.flushall()
    await redis_client.set("yure:sc:user:u1", "x")  # a layout from before versioning
    checked = await check_schema(redis_client)
    assert checked.stored == UNVERSIONED and checked.steps
    assert await redis_client.get(SCHEMA_KEY) == str(SCHEMA_VERSION).encode()
    await redis_client.set(SCHEMA_KEY, "banana")
    with pytest.raises(SchemaError, match="not a number"):
        await check_schema(redis_client)


async def test_serve_refuses_a_newer_layout(
    redis_url: str, redis_server: RedisProcess, tmp_path: Path
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.set(SCHEMA_KEY, str(SCHEMA_VERSION + 1))
    await client.aclose()
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "YURE_PORT": "0",
        "YURE_INGEST": "false",
        "YURE_DATA_DIR": str(tmp_path),
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "yure", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"storage layout {SCHEMA_VERSION + 1}" in result.stderr
    assert "listening" not in result.stdout


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("yure:sc:user:u1", "{yure:sc}:user:u1"),
        ("yure:sc:felt:who:13:abc", "{yure:sc}:felt:who:13:abc"),
        ("{yure:inbox:u1}", "{yure:sc}:inbox:u1"),
        ("{yure:inbox:u1}:keys", "{yure:sc}:inbox:u1:keys"),
        ("yure:ingest:seen:jma", "{yure:ingest}:seen:jma"),
        ("yure:ingest:stream:VXSE53", "{yure:ingest}:stream:VXSE53"),
        ("yure:ingest:last_success", None),
        ("{yure:timeline}", None),
        ("{yure:sc}:user:u1", None),
        ("{yure:inbox:broken", None),
    ],
)
def test_hash_tagged_names(old: str, new: str | None) -> None:
    assert hash_tagged_name(old) == new


async def test_layout_1_keys_move_under_their_hash_tags(
    redis_client: redis.asyncio.Redis,
) -> None:
    await redis_client.set(SCHEMA_KEY, "1")
    await redis_client.hset("yure:sc:user:u1", mapping={"handle": "alice1"})
    await redis_client.set("yure:sc:session:abc", "u1", ex=3600)
    await redis_client.xadd("{yure:inbox:u1}", {"k": "x"})
    await redis_client.zadd("yure:ingest:seen:jma", {"id1": 1.0})
    await redis_client.set("yure:ingest:last_success", "5")
    checked = await check_schema(redis_client)
    assert (checked.stored, checked.steps) == (1, (1,))
    assert await redis_client.hget("{yure:sc}:user:u1", "handle") == b"alice1"
    assert 0 < await redis_client.pttl("{yure:sc}:session:abc") <= 3600_000
    assert await redis_client.xlen("{yure:sc}:inbox:u1") == 1
    assert await redis_client.zscore("{yure:ingest}:seen:jma", "id1") == 1.0
    assert await redis_client.get("yure:ingest:last_success") == b"5"
    for gone in ("yure:sc:user:u1", "yure:sc:session:abc", "{yure:inbox:u1}"):
        assert not await redis_client.exists(gone)
    assert await redis_client.get(SCHEMA_KEY) == b"2"
