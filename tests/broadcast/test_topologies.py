"""The timeline contract on a real Redis Cluster and a real Redis Sentinel deployment.

Appends are idempotent, entries come back in order with no gap or duplicate when read with a
cursor, and a kill -9 of the master that holds the timeline (replica promoted) loses no
acknowledged append: every ``append`` that returned an id is readable afterwards, once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
import redis.asyncio
from redis.exceptions import RedisError

import yure.replication
from tests.redis_topologies import (
    FAILOVER_DEADLINE_S,
    Cluster,
    SentinelGroup,
    redis_cli,
)
from yure.broadcast.envelope import Envelope
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.redis_url import connect
from yure.replication import ReplicatedWriter

pytestmark = pytest.mark.topology

#: Appends the failover tests keep making while the master dies.
FAILOVER_APPENDS = 300
#: How long an append waits for its replica before it counts as failed (and is retried).
REPLICA_WAIT_MS = 500


async def _client(url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(url, max_connections=16, timeout_s=5.0)
    try:
        yield client
    finally:
        await client.aclose()


def _envelope(n: int, pref: str = "13") -> Envelope:
    payload = orjson.dumps({"n": n, "kind": "quake", "prefs": [pref]})
    return Envelope(f"k{n}", "quake", (pref,), payload)


async def _append_retrying(timeline: Timeline, env: Envelope, deadline: float) -> str:
    """What the ingest does: retry an append until it is acknowledged (idempotent by key)."""
    while True:
        try:
            return await timeline.append(env)
        except (TimelineError, RedisError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def _contract(client: redis.asyncio.Redis, stream: str) -> None:
    timeline = Timeline(client, stream=stream, retention_s=3600)
    ids = [await timeline.append(_envelope(n)) for n in range(50)]
    assert await timeline.append(_envelope(7)) == ids[7]  # idempotent by key
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    got = await timeline.read_after("0", limit=20)
    got += await timeline.read_after(got[-1].id, limit=100)
    assert [e.id for e in got] == ids
    live = await timeline.read_live(ids[-1], count=10, block_ms=50)
    assert live == []
    assert await timeline.id_of("k3") == ids[3]


async def test_timeline_contract_on_a_cluster(healthy_cluster: Cluster) -> None:
    cluster = healthy_cluster
    async for client in _client(cluster.url):
        await _contract(client, "yure:timeline:contract")
        # The stream and its index live in one slot (hash tag), as the Lua append requires.
        tagged = "{yure:timeline:contract}"
        assert cluster.master_of(tagged) is cluster.master_of(tagged + ":keys")


async def test_timeline_contract_through_sentinel(sentinel: SentinelGroup) -> None:
    async for client in _client(sentinel.url):
        await _contract(client, "yure:timeline")


async def _appends_survive(
    client: redis.asyncio.Redis, stream: str, kill: Callable[[], None], *, replicas: int = 1
) -> None:
    writer = ReplicatedWriter(client, replicas=replicas, timeout_ms=REPLICA_WAIT_MS)
    timeline = Timeline(client, stream=stream, retention_s=3600, writer=writer)
    acknowledged: dict[str, str] = {}
    deadline = time.monotonic() + FAILOVER_DEADLINE_S * 2
    for n in range(FAILOVER_APPENDS):
        if n == FAILOVER_APPENDS // 3:
            kill()
        env = _envelope(n)
        acknowledged[env.key] = await _append_retrying(timeline, env, deadline)
    entries = await timeline.read_after("0", limit=FAILOVER_APPENDS * 2)
    keys = [orjson.loads(e.payload)["n"] for e in entries]
    assert len(keys) == len(set(keys)), "a duplicate entry after failover"
    assert set(keys) == set(range(FAILOVER_APPENDS)), "an acknowledged append was lost"
    assert [e.id for e in entries] == sorted(
        (e.id for e in entries), key=lambda i: tuple(map(int, i.split("-")))
    )
    await writer.aclose()


async def test_a_degraded_master_killed_is_forgotten_too(
    healthy_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (CI, stop 18): a writer that counts a master's replicas again before
    each write (fewer attached than wanted, the re-check due) asked the dead master and
    never forgot it, so every retry failed until the deadline."""
    monkeypatch.setattr(yure.replication, "ATTACHED_RECHECK_S", 0.0)
    cluster = healthy_cluster
    stream = "yure:timeline:degraded"
    victim = cluster.master_of("{" + stream + "}")
    async for client in _client(cluster.url):
        # Two wanted, one attached: degraded from the start, so re-checked on every write.
        await _appends_survive(client, stream, victim.kill, replicas=2)
    cluster.wait_ok()


async def test_cluster_master_killed_loses_no_acknowledged_append(
    healthy_cluster: Cluster,
) -> None:
    cluster = healthy_cluster
    stream = "yure:timeline:failover"
    victim = cluster.master_of("{" + stream + "}")
    async for client in _client(cluster.url):
        await _appends_survive(client, stream, victim.kill)
    cluster.wait_ok()
    # The replica took over the slot: one fewer master process, all slots served.
    assert victim.process is None
    assert "cluster_state:ok" in redis_cli(cluster.alive()[0].port, "CLUSTER", "INFO")


async def test_sentinel_master_killed_loses_no_acknowledged_append(
    sentinel: SentinelGroup,
) -> None:
    old = sentinel.current_master_port()
    async for client in _client(sentinel.url):
        await _appends_survive(client, "yure:timeline", sentinel.master.kill)
    assert sentinel.wait_master_not(old) == sentinel.replica.port
