"""``login_flood``: a real login while 150 junk logins from 10 addresses hash (issue 10 #5).

The safety-check API runs with production argon2id parameters (t=3, m=64 MiB, p=4) and
production limits over an embedded redis-server, in this process. 150 logins with wrong
passwords arrive at once from 10 addresses (127.0.10.1 … 127.0.19.1: distinct loopback
addresses, so distinct networks), then the owner logs in from 127.0.99.1; we time that
login. Goal: ≤ 2 s. The fairness itself is tested in tests/safety_check/test_fair_hashing.py.
"""

from __future__ import annotations

import asyncio
import collections
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

import yure.safety_check.http
from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.broadcast.timeline import Timeline
from yure.infra.embedded_redis import EmbeddedRedis
from yure.redis_url import connect
from yure.settings import Settings
from yure.web.problems import problem_middleware
from yure.web.serve import REDIS_MAX_CONNECTIONS

FLOOD_ADDRESSES = 10
FLOOD_LOGINS = 150
OWNER_ADDRESS = "127.0.99.1"
PASSWORD = "a long and unusual passphrase"
GOAL_S = 2.0


async def _login(base: str, address: str, handle: str, password: str) -> tuple[int, float]:
    connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True)
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.post(base + "/api/sessions", json={"handle": handle, "password": password}) as resp,
    ):
        await resp.read()
        return resp.status, time.perf_counter() - started


async def _flood(redis_url: str, data_dir: Path) -> dict[str, Any]:
    client = connect(redis_url, max_connections=REDIS_MAX_CONNECTIONS, timeout_s=REDIS_TIMEOUT_S)
    app = web.Application(middlewares=[problem_middleware])
    settings = Settings(data_dir=data_dir)
    public = Timeline(client, retention_s=settings.retention_s)
    yure.safety_check.http.setup(app, redis=client, settings=settings, public=public)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                base + "/api/accounts", json={"handle": "owner", "password": PASSWORD}
            ) as resp,
        ):
            assert resp.status == 201, await resp.text()
        flood = [
            asyncio.create_task(
                _login(base, f"127.0.{10 + n % FLOOD_ADDRESSES}.1", f"junk{n}", "wrong password")
            )
            for n in range(FLOOD_LOGINS)
        ]
        await asyncio.sleep(0.2)  # the flood is in: its hashes are queued or running
        status, owner_s = await _login(base, OWNER_ADDRESS, "owner", PASSWORD)
        await asyncio.gather(*flood)
        # The same login on the idle server: what one argon2id verification costs here.
        _, idle_s = await _login(base, OWNER_ADDRESS, "owner", PASSWORD)
        answers = [task.result() for task in flood]
    finally:
        await runner.cleanup()
        await client.aclose()
    statuses = collections.Counter(str(code) for code, _ in answers)
    return {
        "owner_login_status": status,
        "owner_login_s": round(owner_s, 3),
        "goal_s": GOAL_S,
        "met": status == 200 and owner_s <= GOAL_S,
        "flood_statuses": dict(sorted(statuses.items())),
        "idle_login_s": round(idle_s, 3),
        "flood_slowest_s": round(max(s for _, s in answers), 3),
    }


def run() -> dict[str, Any]:
    """Run the flood once; the numbers go under ``login_flood`` in latest.json."""
    with tempfile.TemporaryDirectory(prefix="yure-bench-login-") as tmp:
        data_dir = Path(tmp)
        with EmbeddedRedis(data_dir / "redis-home") as server:
            return asyncio.run(_flood(server.url, data_dir))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
