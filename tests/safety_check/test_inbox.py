"""Private inbox streams (safety_check.inbox) through broadcast's Timeline API."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio

from tests.safety_check.conftest import fast_config
from yure.aio import background
from yure.safety_check.bus import InboxBus, bus_key
from yure.safety_check.inbox import Inboxes, checkin_deleted_notice, checkin_notice

RETENTION_S = 600


async def test_an_inbox_expires_whole_after_its_last_notice(
    redis_client: redis.asyncio.Redis,
) -> None:
    bus = InboxBus(redis_client, timeout_s=5.0)
    inboxes = Inboxes(redis_client, config=fast_config(inbox_retention_s=RETENTION_S), bus=bus)
    await inboxes.push("u1", checkin_notice("c1"))
    await inboxes.push("u1", checkin_deleted_notice("c1"))  # writes the replaces index too
    timeline = inboxes.timeline("u1")
    present = [key for key in await timeline.all_keys() if await redis_client.exists(key)]
    assert timeline.stream_key in present and len(present) >= 3
    for key in present:
        ttl_ms = await redis_client.pttl(key)
        assert 0 < ttl_ms <= RETENTION_S * 1000, key
    assert await inboxes.push_many(["u2", "u3"], checkin_notice("c2")) == 0
    assert await redis_client.pttl(inboxes.timeline("u3").stream_key) > 0


async def test_push_many_writes_each_inbox_as_push_does(
    redis_client: redis.asyncio.Redis,
) -> None:
    """Issue 16: one script appends a notice to every friend's inbox; each inbox gets its
    own entry, its own indexes (under its own prefix), its replaces link and its expiry,
    exactly as one push per inbox would."""
    bus = InboxBus(redis_client, timeout_s=5.0)
    inboxes = Inboxes(redis_client, config=fast_config(inbox_retention_s=RETENTION_S), bus=bus)
    assert await inboxes.push_many(["u2", "u3", "u2"], checkin_notice("c2")) == 0
    assert await inboxes.push_many(["u3", "u2"], checkin_deleted_notice("c2")) == 0
    assert await inboxes.push_many(["u2"], checkin_notice("c2")) == 0  # idempotent
    for uid in ("u2", "u3"):
        timeline = inboxes.timeline(uid)
        entries = await timeline.read_after("0-0", limit=10)
        assert [e.kind for e in entries] == ["checkin", "checkin_deleted"]
        assert orjson.loads(entries[1].payload)["ref"] == entries[0].id
        found = await timeline.all_keys()
        index_sets = [k for k in found if k.startswith(timeline.index_prefix)]
        assert index_sets, uid
        for key in found:
            if await redis_client.exists(key):
                assert 0 < await redis_client.pttl(key) <= RETENTION_S * 1000, key
    stray = [
        k
        for k in await redis_client.keys("*inbox:u2:i:*")
        if b"inbox:u3" in k or "inbox:u3" in str(k)
    ]
    assert stray == []


async def test_one_bus_entry_wakes_every_named_viewer(
    redis_client: redis.asyncio.Redis,
) -> None:
    bus = InboxBus(redis_client, timeout_s=5.0, block_s=0.2)
    async with background(bus.run(), name="bus"):
        await asyncio.wait_for(bus.started.wait(), 5)
        with bus.watch("u1") as one, bus.watch("u2") as two, bus.watch("u3") as three:
            await bus.announce(["u1", "u2"])
            await asyncio.wait_for(asyncio.gather(one.wait(), two.wait()), 5)
            assert not three.is_set()
    assert await redis_client.xlen(bus_key()) == 1


async def test_push_many_after_redis_lost_its_scripts_still_writes_and_wakes(
    redis_client: redis.asyncio.Redis,
) -> None:
    """The fan-out and its bus entry share one round trip (EVALSHA by hand); when Redis
    no longer knows the script (a restart), the script is loaded and the bus entry sent
    again after it."""
    bus = InboxBus(redis_client, timeout_s=5.0)
    inboxes = Inboxes(redis_client, config=fast_config(inbox_retention_s=RETENTION_S), bus=bus)
    assert await inboxes.push_many(["u4"], checkin_notice("c4")) == 0
    await redis_client.script_flush()
    before = await redis_client.xlen(bus_key())
    assert await inboxes.push_many(["u4", "u5"], checkin_notice("c5")) == 0
    for uid, kinds in (("u4", ["checkin", "checkin"]), ("u5", ["checkin"])):
        entries = await inboxes.timeline(uid).read_after("0-0", limit=10)
        assert [e.kind for e in entries] == kinds
    assert await redis_client.xlen(bus_key()) > before
    last = await redis_client.xrevrange(bus_key(), "+", "-", count=1)
    assert last is not None
    assert last[0][1] == {b"u": b"u4,u5"}
