"""Clients that never read cannot make the server hold their history (issue 10, item 2).

Each connection's send buffer stays within its cap *before* anything is written (replays
are paced on the buffer draining), a stalled connection is dropped with its buffer at
once, and the connections of one address share one memory budget. Buffers are measured
(the hub's own count of bytes waiting in transports), never time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from websockets.asyncio.client import connect

from tests.broadcast.support import (
    WAIT_S,
    RawWebSocket,
    envelope,
    events,
    eventually,
    running_server,
    subscribe,
    until_ready,
)
from yure.broadcast.hub import Hub
from yure.broadcast.limits import Limits
from yure.web import keys

#: History the stalled clients ask for: far more than the caps and the kernel's buffers.
ENTRIES = 240
BLOB = "x" * 20_000
STALLED = 8
HIGH = 128 * 1024
LIMITS = Limits(
    heartbeat_interval_s=0.3,
    max_send_buffer_bytes=512 * 1024,
    send_buffer_high_bytes=HIGH,
    slow_consumer_after_s=0.5,
)


def transport_buffers() -> int:
    """Bytes waiting in every asyncio transport of this process: the server's, including
    connections the hub already let go of (the test's clients keep theirs near zero)."""
    total = 0
    for obj in gc.get_objects():
        with contextlib.suppress(ReferenceError):  # weak proxies of collected objects
            if isinstance(obj, asyncio.WriteTransport):
                total += obj.get_write_buffer_size()
    return total


@contextlib.asynccontextmanager
async def peak_buffer(hub: Hub) -> AsyncIterator[list[int]]:
    """Sample the hub's buffered bytes on every loop turn; ``[peak]`` after the block."""
    peak = [0]
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], hub.buffered_bytes)
            await asyncio.sleep(0)

    task = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        stop.set()
        await task


async def test_stalled_replays_stay_within_their_caps(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        history = [
            await server.timeline.append(envelope(f"h{i}", ("13",), blob=BLOB))
            for i in range(ENTRIES)
        ]
        async with peak_buffer(hub) as peak:
            stalled = []
            for _ in range(STALLED):
                client = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
                client.send_text(subscribe(prefs=["13"], since="0"))
                stalled.append(client)
            async with connect(server.ws_url, max_size=2**24) as healthy:
                await healthy.send(subscribe(prefs=["13"], since="0"))
                got = await until_ready(healthy)
                assert [m["id"] for m in got] == history
                live = await server.timeline.append(envelope("live", ("13",)))
                assert [m["id"] for m in await events(healthy, 1)] == [live]
                # Every stalled client is dropped; the healthy one stays.
                await eventually(lambda: hub.connection_count == 1)
                assert transport_buffers() <= HIGH
        # A stalled replay holds at most a high mark plus one chunk (never its history).
        per_connection = HIGH + 128 * 1024
        assert peak[0] <= (STALLED + 1) * per_connection, peak[0]
        for client in stalled:
            client.close()


async def test_stalled_client_buffer_dropped_at_once(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        for i in range(ENTRIES):
            await server.timeline.append(envelope(f"h{i}", ("13",), blob=BLOB))
        client = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
        client.send_text(subscribe(prefs=["13"], since="0"))
        metrics = server.app[keys.METRICS]
        await eventually(lambda: metrics.slow_disconnects.labels("ws")._value.get() >= 1)
        # Dropped means gone: no buffer kept for a grace period after the kick.
        assert transport_buffers() == 0
        await eventually(lambda: hub.connection_count == 0)
        with contextlib.suppress(OSError):
            async with asyncio.timeout(WAIT_S):
                while await client.reader.read(2**16):
                    pass
        client.close()


async def test_one_address_shares_one_budget(redis_url: str, tmp_path: Path) -> None:
    cap = 256 * 1024
    limits = Limits(
        heartbeat_interval_s=0.3,
        max_send_buffer_bytes=2**20,
        send_buffer_high_bytes=64 * 1024,
        slow_consumer_after_s=60.0,  # only the address budget can drop anyone here
        max_send_buffer_bytes_per_ip=cap,
    )
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        hub = server.app[keys.HUB]
        stalled = []
        for _ in range(STALLED):
            client = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
            client.send_text(subscribe(prefs=["13"]))
            stalled.append(client)
        async with connect(server.ws_url, max_size=2**24) as healthy:
            await healthy.send(subscribe(prefs=["13"]))
            await until_ready(healthy)
            await eventually(lambda: hub.connection_count == STALLED + 1)
            # Small kernel buffers on the server's side, as on a busy server: the bytes
            # a client does not read stay in the process, where the budget applies.
            for sub in list(hub._subscribers):
                sock = sub.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
            count = ENTRIES // 4
            async with peak_buffer(hub) as peak:
                published, got = [], []
                for i in range(count):
                    # Paced on the healthy client: it reads, so what waits for it stays one
                    # event. (Unpaced, this process's own publisher outruns its own client
                    # by bursts larger than the whole address budget, which no server can
                    # both hold and keep within the budget.)
                    published.append(
                        await server.timeline.append(envelope(f"l{i}", ("13",), blob=BLOB))
                    )
                    got += await events(healthy, 1)
                # The healthy connection (same address) gets every event and stays.
                assert [m["id"] for m in got] == published
                metrics = server.app[keys.METRICS]
                await eventually(lambda: metrics.slow_disconnects.labels("ws")._value.get() >= 1)
                assert hub.connection_count >= 1
        # Over the budget only by what connections below their high mark may still take.
        assert peak[0] <= cap + (STALLED + 1) * (64 + 32) * 1024, peak[0]
        for client in stalled:
            client.close()
