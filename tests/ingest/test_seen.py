"""ingest.seen: seen ids and ledger streams in a real Redis, and settle()'s ordering."""

from __future__ import annotations

from datetime import datetime

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tests.ingest.telegrams import JST
from tests.redis_server import RedisProcess, free_port
from yure.ingest.event import Event, InfoType, Kind, Status
from yure.ingest.ledger import Publication, StreamState, Verdict
from yure.ingest.seen import LOCK_STRIPES, SEEN_BATCH, SeenStore, StoreError


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def eew(serial: int, info: InfoType = InfoType.ISSUED) -> Event:
    return Event(
        type_code="VXSE43",
        kind=Kind.EEW,
        status=Status.ACTUAL,
        info_type=info,
        event_id="20240417231454",
        serial=serial,
        reported_at=datetime(2024, 4, 17, 23, 14, 59, tzinfo=JST),
        title="緊急地震速報（警報）",
        headline="",
    )


async def test_seen_ids_survive_a_new_store_and_are_pruned(
    redis_client: redis.asyncio.Redis,
) -> None:
    clock = Clock()
    store = SeenStore(redis_client, prefix="t", retention_s=100, clock=clock)
    await store.commit("jma", "u1")
    again = SeenStore(redis_client, prefix="t", retention_s=100, clock=clock)
    assert await again.is_seen("jma", "u1")
    assert not await again.is_seen("p2p", "u1")  # namespaces are separate
    ids = [f"x{i}" for i in range(SEEN_BATCH + 3)]
    await again.commit("jma", ids[-1])
    assert await again.seen_among("jma", ids) == [False] * (len(ids) - 1) + [True]
    clock.now += 1000  # past retention and past the prune period
    await again.commit("jma", "u2")
    assert not await again.is_seen("jma", "u1")
    assert await again.is_seen("jma", "u2")


async def test_stream_state_round_trips_with_expiry(redis_client: redis.asyncio.Redis) -> None:
    store = SeenStore(redis_client, prefix="t", retention_s=3600)
    state = StreamState("jma:VXSE43:1:1:issued", (1, 2))
    await store.commit("jma", "u", stream="eew:1", state=state)
    assert await store.load_state("eew:1") == state
    assert 0 < await redis_client.ttl("t:stream:eew:1") <= 3600
    assert await store.load_state("eew:2") is None
    await redis_client.set("t:stream:bad", b"{nonsense")
    assert await store.load_state("bad") is None  # unreadable: treated as unknown


async def test_settle_publishes_before_marking_seen(redis_client: redis.asyncio.Redis) -> None:
    store = SeenStore(redis_client, prefix="t")
    seen_during_sink: list[bool] = []
    published: list[Publication] = []

    async def sink(publication: Publication) -> None:
        seen_during_sink.append(await store.is_seen("p2p", "id1"))
        published.append(publication)

    first = await store.settle(eew(1), namespace="p2p", item_id="id1", sink=sink)
    assert first.verdict is Verdict.NEW and seen_during_sink == [False]
    assert await store.is_seen("p2p", "id1")
    second = await store.settle(
        eew(2, InfoType.CANCELLED), namespace="jma", item_id="u2", sink=sink
    )
    assert second.verdict is Verdict.REPLACES
    assert published[1].replaces == published[0].key
    stale = await store.settle(eew(1), namespace="jma", item_id="u1", sink=sink)
    assert stale.verdict is Verdict.STALE and len(published) == 2
    assert await store.is_seen("jma", "u1")  # stale items are marked seen too


async def test_settle_leaves_the_item_unseen_when_the_sink_fails(
    redis_client: redis.asyncio.Redis,
) -> None:
    store = SeenStore(redis_client, prefix="t")

    async def broken(publication: Publication) -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        await store.settle(eew(1), namespace="jma", item_id="u1", sink=broken)
    assert not await store.is_seen("jma", "u1")
    assert await store.load_state("eew:20240417231454") is None


def test_one_stream_one_lock() -> None:
    store = SeenStore(redis.asyncio.Redis(), prefix="t")
    assert store.lock("eew:1") is store.lock("eew:1")
    assert len({id(store.lock(f"s{i}")) for i in range(1000)}) == LOCK_STRIPES


async def test_redis_failures_raise_store_error() -> None:
    client = redis.asyncio.Redis(
        port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    store = SeenStore(client, prefix="t")
    try:
        with pytest.raises(StoreError):
            await store.is_seen("jma", "x")
        with pytest.raises(StoreError):
            await store.seen_among("jma", ["x"])
        with pytest.raises(StoreError):
            await store.load_state("s")
        with pytest.raises(StoreError):
            await store.commit("jma", "x")
    finally:
        await client.aclose()


async def test_seen_ids_survive_a_redis_crash(fresh_redis: RedisProcess) -> None:
    client = redis.asyncio.Redis.from_url(fresh_redis.url)
    try:
        await SeenStore(client, prefix="t").commit(
            "jma", "u1", stream="s", state=StreamState("k", (1, 1))
        )
    finally:
        await client.aclose()
    fresh_redis.kill()  # kill -9
    fresh_redis.start()
    client = redis.asyncio.Redis.from_url(fresh_redis.url)
    try:
        store = SeenStore(client, prefix="t")
        assert await store.is_seen("jma", "u1")
        assert await store.load_state("s") == StreamState("k", (1, 1))
    finally:
        await client.aclose()
