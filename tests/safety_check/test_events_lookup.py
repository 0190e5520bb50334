"""A check-in's event_id is looked up through the timeline's subject index (issue 10
item 8): an unknown id costs no scan, and a retained event is found however many
entries came after it."""

from __future__ import annotations

import orjson
import redis.asyncio

from tests.support import event_json
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.ingest.event import Kind
from yure.safety_check.events import CurrentEvents

#: More entries after the event than the old look-up scanned (1,000).
LATER_ENTRIES = 1200


async def xrevrange_calls(r: redis.asyncio.Redis) -> int:
    stats = await r.info("commandstats")
    return int(stats.get("cmdstat_xrevrange", {}).get("calls", 0))


async def test_lookup_uses_the_index(redis_client: redis.asyncio.Redis) -> None:
    timeline = Timeline(redis_client, retention_s=86400)
    quake = event_json(kind=Kind.QUAKE, event_id="20240101161010")
    await timeline.append(Envelope("q1", "quake", ("17",), orjson.dumps(quake)))
    async with redis_client.pipeline(transaction=False) as pipe:
        for n in range(LATER_ENTRIES):
            fields = {"k": f"post{n}", "t": "post", "p": "13", "d": '{"n":1}'}
            pipe.xadd(timeline.stream_key, fields)  # type: ignore[arg-type]
        await pipe.execute()
    events = CurrentEvents(timeline, window_s=86400, cache_s=0)
    before = await xrevrange_calls(redis_client)
    assert await events.lookup("20990101000000") is None
    assert await xrevrange_calls(redis_client) == before  # no page of the timeline read
    found = await events.lookup("20240101161010")
    assert found is not None and (found.event_id, found.kind) == ("20240101161010", Kind.QUAKE)
