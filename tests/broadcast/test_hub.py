"""hub.dispatch: a batch reaches every subscriber whose filter matches, each entry once,
in order, whatever the overlap of the prefecture index (a group reached through two prefs,
several entries of one batch for one group)."""

from __future__ import annotations

import asyncio
import random
import re
import time

import redis.asyncio

from yure.aio import background
from yure.broadcast.envelope import Entry
from yure.broadcast.fanout import Encoding, Subscriber
from yure.broadcast.filter import Filter, Subscribe
from yure.broadcast.hub import Hub
from yure.broadcast.limits import Limits
from yure.broadcast.metrics import Metrics
from yure.broadcast.timeline import Timeline

PREFS = ("01", "13", "14", "27")
KINDS = ("quake", "tsunami", "eew")
FILTERS = (
    Filter(),
    Filter(prefs=frozenset({"13"})),
    Filter(prefs=frozenset({"13", "14"})),
    Filter(prefs=frozenset({"13", "14"}), kinds=frozenset({"quake"})),
    Filter(kinds=frozenset({"tsunami", "eew"})),
    Filter(prefs=frozenset({"27"}), kinds=frozenset({"eew"})),
)
_SSE_ID = re.compile(rb"^id: (\S+)$", re.MULTILINE)


class RecordingTransport(asyncio.WriteTransport):
    """A transport that keeps what the hub writes (and never fills up)."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


def batch(rng: random.Random, count: int) -> list[Entry]:
    entries = []
    for ms in range(1, count + 1):
        prefs = tuple(sorted(rng.sample(PREFS, rng.randint(0, 3))))
        entries.append(Entry(f"{ms}-0", f"k{ms}", rng.choice(KINDS), prefs, b"{}"))
    return entries


async def test_batches_reach_each_matching_subscriber_once_in_order(
    redis_client: redis.asyncio.Redis,
) -> None:
    timeline = Timeline(redis_client, stream="t:hub", retention_s=86400)
    hub = Hub(timeline, limits=Limits(), metrics=Metrics())
    async with background(hub.run(), name="hub"):
        subs: list[tuple[Subscriber, RecordingTransport]] = []
        for flt in FILTERS * 2:  # two members per group
            transport = RecordingTransport()
            sub = Subscriber(transport, Encoding.SSE, "127.0.0.1")
            hub.add(sub)
            await hub.subscribe(sub, Subscribe(filter=flt, since=None))
            subs.append((sub, transport))
        entries = batch(random.Random(7), 120)
        for start in range(0, len(entries), 40):
            hub.dispatch(entries[start : start + 40])
        for sub, transport in subs:
            assert sub.filter is not None
            expected = [e.id for e in entries if sub.filter.matches(e.kind, e.prefs)]
            got = [m.decode() for m in _SSE_ID.findall(bytes(transport.data))]
            assert expected and got == expected, sub.filter
        assert hub.position == entries[-1].id


class WritesTransport(RecordingTransport):
    """Keeps each write apart (a write is a system call on a real socket)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))


async def test_subscribes_cost_one_write_and_no_wait_when_they_can(
    redis_client: redis.asyncio.Redis,
) -> None:
    """Issue 16: a subscribe without since is answered in the step it arrives, and a
    resume from memory sends its replay and ready in one write."""
    timeline = Timeline(redis_client, stream="t:hub-writes", retention_s=86400)
    hub = Hub(timeline, limits=Limits(), metrics=Metrics())
    async with background(hub.run(), name="hub"):
        await hub.wait_started()
        now_ms = int(time.time() * 1000)
        ids = [f"{now_ms + i}-0" for i in range(3)]
        entries = [Entry(i, f"k{i}", "quake", ("13",), b"{}") for i in ids]
        hub.dispatch(entries)  # as the reader would (the stream's newest id is ahead)
        live = WritesTransport()
        sub = Subscriber(live, Encoding.WS, "127.0.0.1")
        hub.add(sub)
        assert hub.subscribe_now(sub, Subscribe(filter=Filter(), since=None))
        assert live.writes == [b'\x81\x10{"type":"ready"}']
        assert not hub.subscribe_now(sub, Subscribe(filter=Filter(), since=ids[0]))

        resumed = WritesTransport()
        sub = Subscriber(resumed, Encoding.WS, "127.0.0.1")
        hub.add(sub)
        await hub.subscribe(sub, Subscribe(filter=Filter(), since=ids[0]))
        assert len(resumed.writes) == 1
        assert resumed.writes[0].count(b'"type":"event"') == 2
        assert resumed.writes[0].endswith(b'{"type":"ready"}')


async def test_resumes_from_one_id_share_one_encoding(redis_client: redis.asyncio.Redis) -> None:
    """Issue 16: a reconnecting crowd with the same filter and last id is encoded once;
    another filter or another id gets its own bytes."""
    timeline = Timeline(redis_client, stream="t:hub-shared", retention_s=86400)
    hub = Hub(timeline, limits=Limits(), metrics=Metrics())
    async with background(hub.run(), name="hub"):
        await hub.wait_started()
        now_ms = int(time.time() * 1000)
        ids = [f"{now_ms + i}-0" for i in range(4)]
        prefs = [("13",), ("01",), ("13",), ("13",)]
        entries = [Entry(i, f"k{i}", "quake", p, b"{}") for i, p in zip(ids, prefs, strict=True)]
        hub.dispatch(entries)

        async def resume(flt: Filter, since: str) -> bytes:
            transport = WritesTransport()
            sub = Subscriber(transport, Encoding.WS, "127.0.0.1")
            hub.add(sub)
            await hub.subscribe(sub, Subscribe(filter=flt, since=since))
            [data] = transport.writes
            return data

        tokyo = Filter(prefs=frozenset({"13"}))
        first = await resume(tokyo, ids[0])
        again = await resume(Filter(prefs=frozenset({"13"})), ids[0])
        assert again == first and first.count(b'"type":"event"') == 2
        everything = await resume(Filter(), ids[0])
        assert everything.count(b'"type":"event"') == 3
        later = await resume(tokyo, ids[2])
        assert later.count(b'"type":"event"') == 1
        assert len(hub._replay_cache) == 3
