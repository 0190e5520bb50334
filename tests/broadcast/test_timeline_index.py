"""The timeline's secondary indexes give exactly what a full scan gives: narrow filters,
replacements (取消/訂正 reach the union of prefs), retention trimming, subjects, and
streams indexed after the fact."""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest
import redis.asyncio

from tests.broadcast.support import envelope
from yure.broadcast.envelope import ZERO_ID, Entry, parse_stream_id
from yure.broadcast.filter import Filter
from yure.broadcast.timeline import MAX_INDEX_KEYS, Timeline

PREFS = ("01", "13", "14", "27", "47")
KINDS = ("quake", "tsunami", "eew", "post")
FILTERS = [
    Filter(prefs=frozenset({"47"}), kinds=frozenset({"tsunami"})),
    Filter(prefs=frozenset({"13"})),
    Filter(prefs=frozenset({"13", "14"}), kinds=frozenset({"quake", "eew"})),
    Filter(kinds=frozenset({"post"})),
    Filter(kinds=frozenset({"nothing_has_this"})),
    Filter(prefs=frozenset({"99"})),
]


def scan(entries: list[Entry], flt: Filter) -> list[Entry]:
    return [e for e in entries if flt.matches(e.kind, e.prefs)]


async def fill(timeline: Timeline, rng: random.Random, count: int, tag: str) -> list[str]:
    keys: list[str] = []
    for n in range(count):
        key = f"{tag}{n}"
        replaces = rng.choice(keys) if keys and rng.random() < 0.2 else None
        prefs = tuple(rng.sample(PREFS, rng.randint(0, 2)))
        fields = {"event_id": f"ev{rng.randint(0, 5)}"} if rng.random() < 0.7 else {}
        env = envelope(key, prefs, kind=rng.choice(KINDS), replaces=replaces, **fields)
        await timeline.append(env)
        keys.append(key)
    return keys


async def assert_same_as_scan(timeline: Timeline, rng: random.Random) -> None:
    everything = await timeline.read_after(ZERO_ID, limit=10_000)
    ids = [e.id for e in everything]
    for flt in FILTERS:
        matched = scan(everything, flt)
        for limit in (1, 3, 500):
            page = await timeline.read_matching(flt, limit=limit)
            assert page is not None
            assert page.entries == matched[::-1][:limit], flt
            assert page.newest_id == ids[-1]
            for since in [ZERO_ID, *rng.sample(ids, 5)]:
                after = await timeline.read_matching(flt, limit=limit, after=since)
                assert after is not None
                later = [e for e in matched if parse_stream_id(e.id) > parse_stream_id(since)]
                assert after.entries == later[:limit], (flt, since)
                before = await timeline.read_matching(flt, limit=limit, before=since)
                assert before is not None
                earlier = [e for e in matched if parse_stream_id(e.id) < parse_stream_id(since)]
                assert before.entries == earlier[::-1][:limit], (flt, since)
    for subject in ("ev0", "ev3", "ev9"):
        want = [e for e in everything if orjson.loads(e.payload).get("event_id") == subject]
        assert await timeline.find_by_subject(subject, limit=100) == want[::-1]


async def test_index_matches_a_full_scan(redis_client: redis.asyncio.Redis) -> None:
    timeline = Timeline(redis_client, stream="t:index", retention_s=86400)
    rng = random.Random(10)
    await fill(timeline, rng, 150, "k")
    everything = await timeline.read_after(ZERO_ID, limit=10_000)
    assert any(b"ref" in e.payload for e in everything)  # replacements are in the table
    await assert_same_as_scan(timeline, rng)


async def test_trimming_removes_index_members(redis_client: redis.asyncio.Redis) -> None:
    timeline = Timeline(redis_client, stream="t:trim", retention_s=1)
    rng = random.Random(11)
    await fill(timeline, rng, 40, "old")
    first = parse_stream_id((await timeline.read_after(ZERO_ID, limit=1))[0].id)[0]
    async with asyncio.timeout(10):  # Redis time must pass the retention of the first batch
        while int((await redis_client.time())[0]) * 1000 <= first + 1500:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    kept = await fill(timeline, rng, 20, "new")
    everything = await timeline.read_after(ZERO_ID, limit=10_000)
    assert [e.key for e in everything] == kept
    await assert_same_as_scan(timeline, rng)
    # No index set still names a trimmed entry.
    for key in await timeline.all_keys():
        if key.startswith(timeline.index_prefix):
            members = await redis_client.zrange(key, 0, -1)
            assert len(members) <= len(everything), key


async def test_a_stream_from_before_the_indexes(redis_client: redis.asyncio.Redis) -> None:
    timeline = Timeline(redis_client, stream="t:legacy", retention_s=86400)
    for n in range(30):
        body = orjson.dumps({"event_id": f"ev{n % 4}", "n": n})
        pref = PREFS[n % len(PREFS)]
        fields = {"k": f"legacy{n}", "t": KINDS[n % len(KINDS)], "p": pref, "d": body}
        await redis_client.xadd(timeline.stream_key, fields)  # type: ignore[arg-type]
    assert await timeline.read_matching(FILTERS[1], limit=10) is None  # scan until indexed
    await timeline.build_index()
    await timeline.build_index()  # once is enough; again is a no-op
    await fill(timeline, random.Random(12), 10, "k")
    await assert_same_as_scan(timeline, random.Random(13))


async def test_filters_the_indexes_do_not_answer(redis_client: redis.asyncio.Redis) -> None:
    timeline = Timeline(redis_client, stream="t:wide", retention_s=86400)
    await timeline.append(envelope("a", ("13",)))
    assert await timeline.read_matching(Filter(), limit=10) is None
    wide = Filter(prefs=frozenset(f"{i:02d}" for i in range(1, 48)), kinds=frozenset(KINDS))
    assert len(wide.prefs or ()) * len(wide.kinds or ()) > MAX_INDEX_KEYS
    assert await timeline.read_matching(wide, limit=10) is None
    assert await timeline.find_by_subject("", limit=10) == []
    assert await timeline.find_by_subject("x" * 200, limit=10) == []


@pytest.mark.parametrize("subject", ["a:b", "1:x", "ev", "e"])
async def test_subjects_do_not_run_into_each_other(
    redis_client: redis.asyncio.Redis, subject: str
) -> None:
    timeline = Timeline(redis_client, stream="t:subjects", retention_s=86400)
    for n, value in enumerate(["a:b", "a:bc", "1:x", "ev", "eva", "e"]):
        await timeline.append(envelope(f"s{n}", ("13",), event_id=value))
    found = await timeline.find_by_subject(subject, limit=10)
    assert [orjson.loads(e.payload)["event_id"] for e in found] == [subject]
