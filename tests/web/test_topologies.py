"""The whole app on a real Redis Cluster and a real Redis Sentinel group.

* streams: a filtered WebSocket gets only its prefecture, and a resume with ``since`` gets
  exactly what it missed — on the cluster, and across a kill -9 of the cluster master that
  holds the timeline (replica promoted);
* check-ins: every acknowledged check-in survives the kill -9 of the master that holds the
  safety check's slot (Cluster) or of the Sentinel master, with ``YURE_REDIS_WAIT_REPLICAS=1``,
  and retries with the same Idempotency-Key never duplicate one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import websockets

from tests.broadcast.support import (
    WAIT_S,
    envelope,
    events,
    running_server,
    subscribe,
    until_ready,
)
from tests.redis_topologies import (
    FAILOVER_DEADLINE_S,
    Cluster,
    SentinelGroup,
)
from yure.safety_check import keys

pytestmark = pytest.mark.topology

#: Check-ins one test makes (under the per-account limit), and after how many acks the
#: master dies.
CHECKINS = 12
KILL_AFTER = 4
PASSWORD = "correct horse battery staple"


async def test_filtered_stream_and_resume_on_a_cluster(
    healthy_cluster: Cluster, tmp_path: Path
) -> None:
    cluster = healthy_cluster
    async with running_server(cluster.url, tmp_path, redis_wait_replicas=1) as server:
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"]))
            await until_ready(ws)
            await server.timeline.append(envelope("a", ("14",)))
            await server.timeline.append(envelope("b", ("13",)))
            got = await events(ws, 1)
            assert [m["event"]["key"] for m in got] == ["b"]
            since = got[-1]["id"]
        # Missed while away, across the kill -9 of the master that holds the timeline.
        victim = cluster.master_of("{yure:timeline}")
        await server.timeline.append(envelope("c", ("13",)))
        victim.kill()
        deadline = time.monotonic() + FAILOVER_DEADLINE_S
        for key in ("d", "e"):
            while True:
                try:
                    await server.timeline.append(envelope(key, ("13", "14")))
                    break
                except Exception:
                    assert time.monotonic() < deadline, "no append after the failover"
                    await asyncio.sleep(0.1)
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since=since))
            replay = await until_ready(ws)
            assert [m["event"]["key"] for m in replay if m["type"] == "event"] == ["c", "d", "e"]
        cluster.wait_ok()


async def _signup(session: aiohttp.ClientSession, base: str, handle: str) -> str:
    async with session.post(
        f"{base}/api/accounts", json={"handle": handle, "password": PASSWORD}
    ) as resp:
        assert resp.status == 201, await resp.text()
        return str((await resp.json())["token"])


async def _checkins_survive(base: str, kill: Callable[[], None]) -> None:
    async with aiohttp.ClientSession() as session:
        token = await _signup(session, base, "durable1")
        headers = {"Authorization": f"Bearer {token}"}
        acked: dict[str, str] = {}
        deadline = time.monotonic() + FAILOVER_DEADLINE_S * 2

        async def post(n: int) -> None:
            key = f"checkin-{n:03d}"
            while True:
                try:
                    async with session.post(
                        f"{base}/api/checkins",
                        json={"status": "safe", "note": key},
                        headers={**headers, "Idempotency-Key": key},
                        timeout=aiohttp.ClientTimeout(total=WAIT_S),
                    ) as resp:
                        if resp.status == 201:
                            acked[key] = str((await resp.json())["id"])
                            return
                        assert resp.status == 503, await resp.text()
                except (aiohttp.ClientError, TimeoutError):
                    pass
                assert time.monotonic() < deadline, f"{key} never acknowledged"
                await asyncio.sleep(0.1)

        for n in range(CHECKINS):
            if n == KILL_AFTER:
                kill()
            await post(n)
        async with session.get(f"{base}/api/checkins/mine", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            stored = [c for c in (await resp.json())["checkins"]]
    notes = [c["note"] for c in stored]
    assert len(notes) == len(set(notes)), "a check-in was stored twice"
    assert {c["id"] for c in stored} >= set(acked.values()), "an acknowledged check-in was lost"
    assert len(acked) == CHECKINS


async def test_checkins_survive_a_cluster_failover(
    healthy_cluster: Cluster, tmp_path: Path
) -> None:
    cluster = healthy_cluster
    cluster.wait_ok()
    victim = cluster.master_of(keys.HASH_TAG)
    async with running_server(cluster.url, tmp_path, redis_wait_replicas=1) as server:
        await _checkins_survive(server.base, victim.kill)
    cluster.wait_ok()


async def test_checkins_survive_a_sentinel_failover(
    sentinel: SentinelGroup, tmp_path: Path
) -> None:
    async with running_server(sentinel.url, tmp_path, redis_wait_replicas=1) as server:
        await _checkins_survive(server.base, sentinel.master.kill)
    assert sentinel.current_master_port() == sentinel.replica.port
