"""Acknowledged check-ins survive kill -9 of Redis and of the server, and retries with the
same Idempotency-Key never duplicate them."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio

from tests.redis_server import RedisProcess
from tests.safety_check.conftest import running_api
from yure.safety_check import keys, store
from yure.safety_check.services import check_durability

ROOT = Path(__file__).resolve().parents[2]
CHECKINS = 30
KILL_AFTER = 10
RETRY_DEADLINE_S = 20.0
START_DEADLINE_S = 15.0


async def _post_until_acknowledged(
    session: aiohttp.ClientSession,
    base: Callable[[], str],
    token: str,
    key: str,
    retries: list[int],
) -> str:
    """POST one check-in to the current server ``base()``, retrying with the same
    Idempotency-Key until a 201; counts the retries in ``retries[0]`` (once acknowledged)
    and every refused or failed attempt at once in ``retries[1]``."""
    deadline = time.monotonic() + RETRY_DEADLINE_S
    attempt = 0
    while True:
        attempt += 1
        try:
            async with session.post(
                f"{base()}/api/checkins",
                json={"status": "safe", "note": key},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp:
                if resp.status == 201:
                    retries[0] += attempt - 1
                    return str((await resp.json(content_type=None))["id"])
                assert resp.status == 503, await resp.text()
        except (aiohttp.ClientError, TimeoutError):
            pass
        retries[1] += 1
        assert time.monotonic() < deadline, f"{key} never acknowledged"
        await asyncio.sleep(0.05)


async def _stored_ids(redis_url: str, uid_handle: str) -> list[str]:
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        uid = store.text(await r.get(keys.handle(uid_handle)))
        ids = [store.text(m) for m in await r.zrange(keys.user_checkins(uid), 0, -1)]
        return [cid for cid in ids if await r.exists(keys.checkin(cid))]
    finally:
        await r.aclose()


async def test_kill_redis_during_checkins(fresh_redis: RedisProcess) -> None:
    async with running_api(fresh_redis.url) as api:
        token = await api.signup("durable")
        base = str(api.client.make_url("")).rstrip("/")
        acked: dict[str, str] = {}
        retries = [0, 0]

        async def crash_redis() -> None:
            deadline = time.monotonic() + RETRY_DEADLINE_S
            while len(acked) < KILL_AFTER:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            refused_before = retries[1]
            await asyncio.to_thread(fresh_redis.kill)
            # Redis stays down until a check-in has been refused for it (not a fixed time).
            while retries[1] == refused_before:
                assert time.monotonic() < deadline, "no request met the outage"
                await asyncio.sleep(0.01)
            await asyncio.to_thread(fresh_redis.start)

        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as tg:
            tg.create_task(crash_redis())
            for i in range(CHECKINS):
                key = f"tap-{i}"
                acked[key] = await _post_until_acknowledged(
                    session, lambda: base, token, key, retries
                )
        assert retries[0] > 0, "the crash did not hit the stream"
    stored = await _stored_ids(fresh_redis.url, "durable")
    assert sorted(stored) == sorted(acked.values())  # all there, none twice


async def test_kill_server_during_checkins(fresh_redis: RedisProcess) -> None:
    def start_server() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.safety_check.serve_app", fresh_redis.url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        return proc, f"http://127.0.0.1:{int(line.split()[1])}"

    proc, url = await asyncio.wait_for(asyncio.to_thread(start_server), START_DEADLINE_S)
    current = [url]
    procs = [proc]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{url}/api/accounts", json={"handle": "survivor", "password": "correct horse"}
            ) as resp:
                assert resp.status == 201
                token = (await resp.json(content_type=None))["token"]
            acked: dict[str, str] = {}
            retries = [0, 0]

            async def crash_server() -> None:
                deadline = time.monotonic() + RETRY_DEADLINE_S
                while len(acked) < KILL_AFTER:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.01)
                procs[-1].kill()  # SIGKILL
                await asyncio.to_thread(procs[-1].wait, 10)
                new_proc, new_url = await asyncio.to_thread(start_server)
                procs.append(new_proc)
                current[0] = new_url

            async with asyncio.TaskGroup() as tg:
                tg.create_task(crash_server())
                for i in range(CHECKINS):
                    key = f"tap-{i}"
                    acked[key] = await _post_until_acknowledged(
                        session, lambda: current[0], token, key, retries
                    )
            assert len(procs) == 2 and retries[0] > 0
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
    stored = await _stored_ids(fresh_redis.url, "survivor")
    assert sorted(stored) == sorted(acked.values())


async def test_durability_check_warns(
    fresh_redis: RedisProcess, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    durable = redis.asyncio.Redis.from_url(fresh_redis.url)
    volatile = redis.asyncio.Redis.from_url(redis_url)
    try:
        with caplog.at_level(logging.WARNING, logger="yure.safety_check.services"):
            assert await check_durability(durable, timeout_s=5) is True
            assert not caplog.records
            assert await check_durability(volatile, timeout_s=5) is False
            assert "appendonly=no" in caplog.text
    finally:
        await durable.aclose()
        await volatile.aclose()
