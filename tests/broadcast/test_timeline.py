"""timeline against a real redis-server: ids, idempotency, replacements, retention."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import redis.asyncio

from tests.broadcast.support import envelope
from yure.broadcast.envelope import ZERO_ID, Envelope, parse_stream_id
from yure.broadcast.errors import EnvelopeError, TimelineError
from yure.broadcast.timeline import Timeline

DAY_S = 24 * 3600


@pytest.fixture
def timeline(redis_client: redis.asyncio.Redis) -> Timeline:
    return Timeline(redis_client, retention_s=DAY_S)


async def test_ids_increase_and_read_back(timeline: Timeline) -> None:
    ids = [await timeline.append(envelope(f"k{i}", ("13",))) for i in range(5)]
    assert [parse_stream_id(i) for i in ids] == sorted(parse_stream_id(i) for i in set(ids))
    entries = await timeline.read_after(ZERO_ID, limit=10)
    assert [e.id for e in entries] == ids
    assert entries[0].key == "k0" and entries[0].kind == "quake" and entries[0].prefs == ("13",)
    assert orjson.loads(entries[0].payload)["key"] == "k0"
    assert [e.id for e in await timeline.read_after(ids[1], limit=2)] == ids[2:4]
    assert [e.id for e in await timeline.read_after(ids[1], limit=10, until=ids[3])] == ids[2:4]
    assert [e.id for e in await timeline.read_before(None, limit=2)] == [ids[4], ids[3]]
    assert [e.id for e in await timeline.read_before(ids[2], limit=5)] == [ids[1], ids[0]]
    assert await timeline.last_id() == ids[-1]
    assert (await timeline.get(ids[2])).key == "k2"  # type: ignore[union-attr]
    assert await timeline.get("1-0") is None


async def test_append_is_idempotent(timeline: Timeline) -> None:
    first = await timeline.append(envelope("same", ("13",)))
    again = await timeline.append(envelope("same", ("01",), extra=1))
    assert first == again
    assert len(await timeline.read_after(ZERO_ID, limit=10)) == 1
    assert await timeline.id_of("same") == first
    assert await timeline.id_of("other") is None


async def test_concurrent_appends_of_one_key_make_one_entry(timeline: Timeline) -> None:
    ids = await asyncio.gather(*(timeline.append(envelope("race", ("13",))) for _ in range(20)))
    assert len(set(ids)) == 1
    assert len(await timeline.read_after(ZERO_ID, limit=50)) == 1


async def test_replacement_refs_old_entry_and_unions_prefs(timeline: Timeline) -> None:
    old = await timeline.append(envelope("quake-1", ("13", "14")))
    new = await timeline.append(envelope("quake-1-cancel", ("01",), replaces="quake-1"))
    entry = await timeline.get(new)
    assert entry is not None
    assert entry.prefs == ("01", "13", "14")
    payload = orjson.loads(entry.payload)
    assert payload["ref"] == old and payload["key"] == "quake-1-cancel"
    # A chain: the third sees the union of everything before it.
    third = await timeline.get(
        await timeline.append(envelope("quake-1-again", ("47",), replaces="quake-1-cancel"))
    )
    assert third is not None and third.prefs == ("01", "13", "14", "47")
    assert orjson.loads(third.payload)["ref"] == new


async def test_replacement_of_empty_payload_and_unknown_key(timeline: Timeline) -> None:
    await timeline.append(Envelope("a", "quake", ("13",), b"{}"))
    got = await timeline.get(await timeline.append(Envelope("b", "quake", (), b"{}", "a")))
    assert got is not None and orjson.loads(got.payload) == {"ref": await timeline.id_of("a")}
    assert got.prefs == ("13",)
    unknown = await timeline.get(await timeline.append(envelope("c", ("02",), replaces="zzz")))
    assert unknown is not None and "ref" not in orjson.loads(unknown.payload)
    assert unknown.prefs == ("02",)


async def test_bad_envelope_is_not_appended(timeline: Timeline) -> None:
    with pytest.raises(EnvelopeError):
        await timeline.append(Envelope("k", "quake", (), b"[]"))
    assert await timeline.last_id() == ZERO_ID


async def test_retention_trims_and_sets_floor(
    redis_client: redis.asyncio.Redis, timeline: Timeline
) -> None:
    # Entries from 1970 are far older than the retention: the next append trims them.
    for seq in range(3):
        fields = {"k": f"old{seq}", "t": "quake", "p": "13", "d": "{}"}
        await redis_client.xadd(timeline.stream_key, fields, id=f"1000-{seq}")  # type: ignore[arg-type]
    await redis_client.hset(timeline.keys_key, "old0", "1000-0")
    await redis_client.zadd(timeline.keytimes_key, {"old0": 1000})
    assert await timeline.floor() == ZERO_ID
    assert not await timeline.is_expired("999-0")
    kept = await timeline.append(envelope("new", ("13",)))
    assert [e.id for e in await timeline.read_after(ZERO_ID, limit=10)] == [kept]
    assert await timeline.floor() == "1000-2"
    assert await timeline.is_expired("1000-1")
    assert not await timeline.is_expired("1000-2")
    assert not await timeline.is_expired(kept)
    assert not await timeline.is_expired(ZERO_ID)
    # The idempotency key of a trimmed entry went with it.
    assert await timeline.id_of("old0") is None
    # A replacement of a trimmed entry carries no ref.
    late = await timeline.get(await timeline.append(envelope("late", ("01",), replaces="old0")))
    assert late is not None and "ref" not in orjson.loads(late.payload)


async def test_read_live_blocks_then_returns(timeline: Timeline) -> None:
    assert await timeline.read_live(ZERO_ID, count=10, block_ms=10) == []
    first = await timeline.append(envelope("first", ("13",)))
    assert [e.id for e in await timeline.read_live(ZERO_ID, count=10, block_ms=10)] == [first]
    # Blocking after an explicit id cannot miss an append made while it waits.
    waiter = asyncio.create_task(timeline.read_live(first, count=10, block_ms=2000))
    second = await timeline.append(envelope("second", ("13",)))
    got = await asyncio.wait_for(waiter, 5)
    assert [e.id for e in got] == [second]


async def test_errors_are_wrapped(redis_client: redis.asyncio.Redis, timeline: Timeline) -> None:
    await redis_client.set(timeline.stream_key, "not a stream")
    with pytest.raises(TimelineError, match="failed"):
        await timeline.last_id()
    dead = redis.asyncio.Redis(host="127.0.0.1", port=1)
    with pytest.raises(TimelineError, match="timed out"):
        await Timeline(dead, retention_s=DAY_S, timeout_s=0.2).last_id()
    await dead.aclose()


def test_hash_tag_keys(redis_client: redis.asyncio.Redis) -> None:
    tl = Timeline(redis_client, stream="yure:inbox:u1", retention_s=DAY_S)
    assert tl.stream_key == "{yure:inbox:u1}"
    assert tl.keys_key == "{yure:inbox:u1}:keys"
    tagged = Timeline(redis_client, stream="{t}:x", retention_s=DAY_S)
    assert tagged.floor_key == "{t}:x:floor"
    with pytest.raises(ValueError):
        Timeline(redis_client, retention_s=0)


async def test_expire_covers_every_key(redis_client: redis.asyncio.Redis) -> None:
    tl = Timeline(redis_client, stream="yure:inbox:u2", retention_s=DAY_S)
    fields = {"k": "old", "t": "quake", "p": "13", "d": "{}"}
    await redis_client.xadd(tl.stream_key, fields, id="1000-0")  # type: ignore[arg-type]
    # Trims "old": the floor key exists too; the subject and index sets are written.
    await tl.append(envelope("new", ("13",), event_id="e1"))
    await tl.expire(120)
    all_keys = await tl.all_keys()
    keys = {k.decode() for k in await redis_client.keys("{yure:inbox:u2}*") if isinstance(k, bytes)}
    assert keys == set(all_keys) - {tl.indexed_key}  # set only for streams indexed late
    assert {tl.subjects_key, tl.index_prefix + "quake:13"} <= keys
    for key in keys:
        assert 0 < await redis_client.pttl(key) <= 120_000, key
    # A short expiry removes all of them.
    await tl.expire(0.001)
    async with asyncio.timeout(5):
        while await redis_client.exists(*all_keys):  # noqa: ASYNC110 - Redis expiry
            await asyncio.sleep(0.005)
