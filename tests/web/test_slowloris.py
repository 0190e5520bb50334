"""Slow or silent clients cannot hold connections (issue 10 item 7): raw sockets that
send nothing, trickle headers, go idle after a request, or pile up unserved; the
timeouts scaled down through Settings, every wait bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from websockets.asyncio.client import connect

from tests.broadcast.support import WAIT_S, next_messages, subscribe, until_ready
from tests.web.guarded import closed_by_server, guarded_server

#: Bytes a trickling client sends at most (one every TRICKLE_GAP_S: far past the timeout).
TRICKLE_BYTES = 400
TRICKLE_GAP_S = 0.05


async def test_silent_connection_is_closed(redis_url: str, tmp_path: Path) -> None:
    async with guarded_server(redis_url, tmp_path) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await closed_by_server(reader)
        writer.close()


async def test_trickled_headers_are_cut_off(redis_url: str, tmp_path: Path) -> None:
    async with guarded_server(redis_url, tmp_path) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        closed = asyncio.create_task(closed_by_server(reader))
        for _ in range(TRICKLE_BYTES):
            if closed.done():
                break
            try:
                writer.write(b"a")
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(TRICKLE_GAP_S)  # the attack: one byte at a time
        assert await closed, "headers still trickling in after the whole trickle"
        writer.close()


async def test_idle_keep_alive_is_closed(redis_url: str, tmp_path: Path) -> None:
    async with guarded_server(redis_url, tmp_path) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        async with asyncio.timeout(WAIT_S):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 ")
        assert await closed_by_server(reader)
        writer.close()


async def test_oldest_unserved_connections_go_past_the_cap(redis_url: str, tmp_path: Path) -> None:
    cap = 4
    # A long header timeout: here only the cap closes anything.
    async with guarded_server(
        redis_url, tmp_path, header_timeout_s=60.0, max_pending_connections=cap
    ) as port:
        silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(cap + 3)]
        oldest = silent[:3]
        assert all([await closed_by_server(r) for r, _ in oldest])
        # A client that sends its request is answered meanwhile.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        async with asyncio.timeout(WAIT_S):
            assert (await reader.read()).startswith(b"HTTP/1.1 ")
        for _, w in [*silent, (reader, writer)]:
            w.close()


async def test_streams_outlive_the_header_timeout(redis_url: str, tmp_path: Path) -> None:
    async with (
        guarded_server(redis_url, tmp_path) as port,
        connect(f"ws://127.0.0.1:{port}/ws") as ws,
    ):
        await ws.send(subscribe())
        await until_ready(ws)
        # Heartbeats every 0.2 s: 20 of them span eight header timeouts.
        for _ in range(20):
            assert [m["type"] for m in await next_messages(ws)] == ["heartbeat"]
