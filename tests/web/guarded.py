"""A server as ``yure serve`` runs it (its runner, its connection guard), for tests of
connection-level behaviour with raw sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio
from aiohttp import web

from tests.broadcast.support import WAIT_S
from yure.broadcast.limits import Limits
from yure.settings import Settings
from yure.web import connections, keys
from yure.web.app import build_app

HEADER_TIMEOUT_S = 0.5
IDLE_TIMEOUT_S = 1.0


@asynccontextmanager
async def guarded_server(redis_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[int]:
    """build_app served as ``yure serve`` serves it (runner, guard); yields the port."""
    conf = Settings(
        redis_url=redis_url,
        data_dir=tmp_path,
        ingest_enabled=False,
        header_timeout_s=settings.pop("header_timeout_s", HEADER_TIMEOUT_S),
        idle_timeout_s=IDLE_TIMEOUT_S,
        **settings,
    )
    client = redis.asyncio.Redis.from_url(redis_url)
    app = build_app(conf, client, limits=Limits(heartbeat_interval_s=0.2))
    runner = connections.make_runner(app, conf)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        async with connections.guarding(app[keys.GUARD], runner):
            yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()
        await client.aclose()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server ends the connection within WAIT_S (reading what it sends)."""
    try:
        async with asyncio.timeout(WAIT_S):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True
