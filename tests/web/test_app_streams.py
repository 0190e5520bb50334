"""The stream endpoints of build_app on a real server (port 0) with a real Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.broadcast.support import (
    WAIT_S,
    RawWebSocket,
    envelope,
    events,
    eventually,
    nothing_more,
    running_server,
    subscribe,
    until_ready,
)
from yure.broadcast.limits import Limits
from yure.broadcast.recent import RecentEntries
from yure.geo.codes import Region, prefs_in_region
from yure.web import keys

LIMITS = Limits(heartbeat_interval_s=0.3)
KANTO = set(prefs_in_region(Region.KANTO))


def ids(msgs: list[dict[str, Any]]) -> list[str]:
    return [m["id"] for m in msgs]


async def test_filtering_is_exact(redis_url: str, tmp_path: Path) -> None:
    table: list[tuple[str, tuple[str, ...]]] = [
        ("quake", ("13",)),
        ("quake", ("01",)),
        ("tsunami", ("14", "22")),
        ("eew", ("13", "27")),
        ("quake", ()),
        ("notice", ("09",)),
        ("tsunami", ("47",)),
        ("quake", ("12", "13", "14")),
        ("post", ("40",)),
        ("tsunami", ("13",)),  # the last one reaches every subscriber below
    ]
    filters: dict[str, dict[str, Any]] = {
        "tokyo": {"prefs": ["13"]},
        "kanto": {"prefs": ["kanto"]},
        "kanto_ja": {"prefs": ["関東"], "kinds": ["tsunami", "quake"]},
        "tsunami": {"kinds": ["tsunami"]},
        "all": {},
    }

    def wanted(name: str, kind: str, prefs: tuple[str, ...]) -> bool:
        f = filters[name]
        pref_set = {"13"} if name == "tokyo" else KANTO if name.startswith("kanto") else None
        kinds = f.get("kinds")
        return (kinds is None or kind in kinds) and (
            pref_set is None or bool(pref_set & set(prefs))
        )

    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        clients = {name: await connect(server.ws_url) for name in filters}
        try:
            for name, ws in clients.items():
                await ws.send(subscribe(**filters[name]))
                assert await until_ready(ws) == []
            published = [
                await server.timeline.append(envelope(f"e{i}", prefs, kind))
                for i, (kind, prefs) in enumerate(table)
            ]
            for name, ws in clients.items():
                expected = [
                    pid
                    for pid, (kind, prefs) in zip(published, table, strict=True)
                    if wanted(name, kind, prefs)
                ]
                got = await events(ws, len(expected))
                assert ids(got) == expected, name
                assert all(m["event"]["key"] for m in got)
                await nothing_more(ws)
        finally:
            for ws in clients.values():
                await ws.close()


async def test_resubscribe_replaces_filter(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        connect(server.ws_url) as ws,
    ):
        await ws.send(subscribe(prefs=["13"]))
        await until_ready(ws)
        a = await server.timeline.append(envelope("a", ("13",)))
        assert ids(await events(ws, 1)) == [a]
        await ws.send(subscribe(prefs=["01"]))
        await until_ready(ws)
        await server.timeline.append(envelope("b", ("13",)))
        c = await server.timeline.append(envelope("c", ("01",)))
        assert ids(await events(ws, 1)) == [c]
        # A resubscribe with an old since never repeats what this connection got.
        await ws.send(subscribe(since="0"))
        replayed = await until_ready(ws)
        assert ids(replayed) == []


async def test_resume_after_disconnect_loses_and_repeats_nothing(
    redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        tl = server.timeline
        before = [await tl.append(envelope(f"old{i}", ("13",))) for i in range(3)]
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since="0"))
            assert ids(await until_ready(ws)) == before
            live = [await tl.append(envelope(f"live{i}", ("13",))) for i in range(3)]
            got = await events(ws, 3)
            assert ids(got) == live
            last = got[-1]["id"]
        missed = [
            await tl.append(envelope(f"missed{i}", (("13",), ("01",))[i % 2])) for i in range(6)
        ]
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since=last))
            assert ids(await until_ready(ws)) == missed[0::2]
            after = await tl.append(envelope("after", ("13",)))
            assert ids(await events(ws, 1)) == [after]


async def test_burst_is_coalesced_in_order(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        tl = server.timeline
        published = [await tl.append(envelope(f"b{i}", ("13",))) for i in range(300)]
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(since="0"))
            frames = 0
            got: list[str] = []
            async with asyncio.timeout(WAIT_S):
                while len(got) < len(published):
                    msg = orjson.loads(await ws.recv())
                    if msg["type"] == "heartbeat":
                        continue  # sent at any time, also between the frames of a replay
                    frames += 1
                    items = msg["items"] if msg["type"] == "events" else [msg]
                    assert all(m["type"] == "event" for m in items), msg
                    got += [m["id"] for m in items]
            assert got == published
            assert frames < len(published) / 10


async def test_cancel_reaches_subscribers_of_the_original(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        connect(server.ws_url) as tokyo,
        connect(server.ws_url) as okinawa,
    ):
        await tokyo.send(subscribe(prefs=["13"]))
        await okinawa.send(subscribe(prefs=["47"]))
        await until_ready(tokyo)
        await until_ready(okinawa)
        original = await server.timeline.append(envelope("q1", ("13", "14"), info_type="issued"))
        cancel = await server.timeline.append(
            envelope("q1-cancel", ("01",), info_type="cancelled", replaces="q1")
        )
        got = await events(tokyo, 2)
        assert ids(got) == [original, cancel]
        assert got[1]["event"]["ref"] == original
        assert got[1]["event"]["info_type"] == "cancelled"
        await nothing_more(okinawa)


async def test_cursor_expired_then_replay_of_what_is_kept(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        tl = server.timeline
        for seq in range(2):
            fields = {"k": f"gone{seq}", "t": "quake", "p": "13", "d": "{}"}
            await server.redis.xadd(tl.stream_key, fields, id=f"1000-{seq}")  # type: ignore[arg-type]
        kept = await tl.append(envelope("kept", ("13",)))
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since="1000-0"))
            before = await until_ready(ws)
            assert before[0] == {"type": "cursor_expired", "oldest": "1000-1"}
            assert ids(before[1:]) == [kept]
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since="1000-1"))
            assert ids(await until_ready(ws)) == [kept]


async def test_stalled_client_is_dropped_and_never_slows_others(
    redis_url: str, tmp_path: Path
) -> None:
    limits = Limits(
        heartbeat_interval_s=0.3,
        max_send_buffer_bytes=64 * 2**20,
        send_buffer_high_bytes=2**20,
        slow_consumer_after_s=0.5,
    )
    big = "x" * 200_000
    count = 60  # 12 MB: more than both sockets' kernel buffers and the 1 MiB limit hold
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        stalled = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
        stalled.send_text(subscribe(prefs=["13"]))
        async with asyncio.timeout(WAIT_S):
            while orjson.loads((await stalled.read_frame())[1])["type"] != "ready":
                pass
        async with connect(server.ws_url, max_size=2**24) as ws:
            await ws.send(subscribe(prefs=["13"]))
            await until_ready(ws)
            reading = asyncio.create_task(events(ws, count))  # a reader keeps reading
            published = [
                await server.timeline.append(envelope(f"big{i}", ("13",), blob=big))
                for i in range(count)
            ]
            assert ids(await reading) == published
        metrics = server.app[keys.METRICS]
        await eventually(lambda: metrics.slow_disconnects.labels("ws")._value.get() >= 1)
        # Its buffer was dropped at once: reading now, it finds the connection reset.
        assert await stalled.close_code() is None
        stalled.close()


async def test_limits_answer_with_close_codes(redis_url: str, tmp_path: Path) -> None:
    limits = Limits(
        heartbeat_interval_s=0.3, max_subscribes_per_connection=2, max_connections_per_ip=3
    )
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        host, port = "127.0.0.1", server.port
        too_big = await RawWebSocket.connect(host, port)
        too_big.send_text('{"type":"subscribe","prefs":["' + "1" * 5000 + '"]}')
        assert await too_big.close_code() == 1009
        too_big.close()

        many = await RawWebSocket.connect(host, port)
        for _ in range(3):
            many.send_text(subscribe())
        assert await many.close_code() == 1008
        many.close()

        for bad in (
            '{"type":"hello"}',
            "nonsense",
            subscribe(prefs=["atlantis"]),
            subscribe(since="x"),
        ):
            client = await RawWebSocket.connect(host, port)
            client.send_text(bad)
            assert await client.close_code() == 1008, bad
            client.close()

        binary = await RawWebSocket.connect(host, port)
        binary.send_text(subscribe(), opcode=0x2)
        assert await binary.close_code() == 1003
        binary.close()

        hub = server.app[keys.HUB]
        await eventually(lambda: hub.connection_count == 0)
        held = [await RawWebSocket.connect(host, port) for _ in range(3)]
        await eventually(lambda: hub.connection_count == 3)
        refused = await RawWebSocket.connect(host, port)
        assert await refused.close_code() == 1013
        for client in [*held, refused]:
            client.close()


async def test_heartbeats_and_shutdown_close(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        ws = await connect(server.ws_url)
        await nothing_more(ws)  # a heartbeat arrives without any subscribe
        await server.runner.shutdown()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(WAIT_S):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_replay_beyond_memory_reads_redis(redis_url: str, tmp_path: Path) -> None:
    limits = Limits(heartbeat_interval_s=0.3, read_batch_entries=3)
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        hub = server.app[keys.HUB]
        hub.recent = RecentEntries(max_age_ms=10**12, max_entries=2)
        hub.recent.reset([], complete=False, now_ms=0)
        published = [
            await server.timeline.append(envelope(f"r{i}", (("13",), ("01",))[i % 3 == 0]))
            for i in range(12)
        ]
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since="0"))
            expected = [p for i, p in enumerate(published) if i % 3 != 0]
            assert ids(await until_ready(ws)) == expected
            assert len(hub.recent) == 2 and not hub.recent.covers((0, 0))
