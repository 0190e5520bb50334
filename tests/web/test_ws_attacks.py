"""``/ws`` attacked as a hostile client would: raw frames a browser never sends, against a
real server, and the connection forgotten (hub, gauge) however it ends."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
from pathlib import Path

import aiohttp
import pytest

from tests.broadcast.support import (
    WAIT_S,
    RawWebSocket,
    envelope,
    eventually,
    next_text,
    running_server,
    subscribe,
)
from tests.web.guarded import HEADER_TIMEOUT_S, IDLE_TIMEOUT_S, guarded_server
from yure.broadcast import ws as ws_module
from yure.broadcast.limits import MAX_CONNECTIONS_PER_IP, Limits
from yure.web import keys

LIMITS = Limits(heartbeat_interval_s=0.3)
HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length: bytes | None = None,
) -> bytes:
    """A client frame, any field as given (``length``: the raw length field bytes)."""
    first = (0x80 if fin else 0) | rsv | opcode
    if length is None:
        size = len(payload)
        if size < 126:
            length = bytes((size,))
        elif size < 65536:
            length = bytes((126,)) + struct.pack("!H", size)
        else:
            length = bytes((127,)) + struct.pack("!Q", size)
    second = length[0] | (0x80 if masked else 0)
    head = bytes((first, second)) + length[1:]
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def pong_or_close(ws: RawWebSocket) -> tuple[int, bytes]:
    """The next frame that is not a text message (heartbeats, ready skipped)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            opcode, payload = await ws.read_frame()
            if opcode != 0x1:
                return opcode, payload


async def test_broken_frames_close_with_their_codes(redis_url: str, tmp_path: Path) -> None:
    attacks: list[tuple[str, bytes, int]] = [
        ("rsv1", frame(0x1, b"{}", rsv=0x40), 1002),
        ("rsv3", frame(0x1, b"{}", rsv=0x10), 1002),
        ("opcode 3", frame(0x3, b"x"), 1002),
        ("opcode 0xB", frame(0xB, b"x"), 1002),
        ("ping 126", frame(0x9, b"p" * 126), 1002),
        ("fragmented ping", frame(0x9, b"p", fin=False), 1002),
        ("continuation first", frame(0x0, b"x"), 1002),
        ("text in text", frame(0x1, b"{", fin=False) + frame(0x1, b"}"), 1002),
        ("binary", frame(0x2, b"\x00"), 1003),
        ("2^63-1", frame(0x1, length=bytes((127,)) + struct.pack("!Q", 2**63 - 1)), 1009),
        ("2^63 + 1", frame(0x1, length=bytes((127,)) + struct.pack("!Q", 2**63 + 1)), 1002),
        ("over the cap", frame(0x1, length=bytes((126,)) + struct.pack("!H", 4097)), 1009),
        (
            "fragments over the cap",
            frame(0x1, b"x" * 4000, fin=False) + frame(0x0, b"x" * 97),
            1009,
        ),
        ("close of 1 byte", frame(0x8, b"\x03"), 1002),
        ("close code 999", frame(0x8, struct.pack("!H", 999)), 1002),
        ("close code 1005", frame(0x8, struct.pack("!H", 1005)), 1002),
        ("close code 5000", frame(0x8, struct.pack("!H", 5000)), 1002),
        ("close reason not utf-8", frame(0x8, struct.pack("!H", 1000) + b"\xc3"), 1007),
        (
            "text not utf-8 across fragments",
            frame(0x1, b"\xe6", fin=False) + frame(0x0, b"\x9d"),
            1007,
        ),
        ("unmasked", frame(0x1, b"{}", masked=False), 1002),
        ("subscribe not json", frame(0x1, b"{"), 1008),
        (
            "bad since quoted past 123 bytes",
            frame(0x1, subscribe(since="a" + "東" * 50).encode()),
            1008,
        ),
    ]
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        metrics = server.app[keys.METRICS]
        for name, data, code in attacks:
            ws = await RawWebSocket.connect("127.0.0.1", server.port)
            ws.writer.write(data + frame(0x9, b"after"))  # nothing is read after the error
            opcode, payload = await pong_or_close(ws)
            assert opcode == 0x8, (name, opcode, payload)
            assert struct.unpack("!H", payload[:2])[0] == code, name
            payload[2:].decode()  # the reason is UTF-8 (§5.5.1) however it was cut
            async with asyncio.timeout(WAIT_S):
                while True:  # the server closes the socket, nothing after the close frame
                    rest = await ws.reader.read(4096)
                    if not rest:
                        break
            ws.close()
        await eventually(lambda: hub.connection_count == 0)
        assert metrics.ws_connections._value.get() == 0


async def test_split_at_every_byte(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        ws.writer.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        data = (
            frame(0x1, b'{"type":"sub', fin=False)
            + frame(0x9, b"mid")
            + frame(0x0, b'scribe","prefs":["13"]}')
            + frame(0x9, b"x" * 125, length=bytes((126,)) + struct.pack("!H", 125))
        )
        for i in range(len(data)):
            ws.writer.write(data[i : i + 1])
            await ws.writer.drain()
        assert await pong_or_close(ws) == (0xA, b"mid")
        assert await pong_or_close(ws) == (0xA, b"x" * 125)  # a non-minimal length is read
        published = await server.timeline.append(envelope("a", ("13",)))
        async with asyncio.timeout(WAIT_S):
            while True:
                _opcode, payload = await ws.read_frame()
                if published.encode() in payload:
                    break
        ws.close()


async def test_data_after_close_is_ignored(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        ws.writer.write(
            frame(0x8, struct.pack("!H", 1000))
            + frame(0x1, subscribe(prefs=["13"]).encode())
            + frame(0x9, b"late")
        )
        assert await pong_or_close(ws) == (0x8, struct.pack("!H", 1000))
        async with asyncio.timeout(WAIT_S):
            assert await ws.reader.read() == b""
        await eventually(lambda: server.app[keys.HUB].connection_count == 0)
        ws.close()


async def test_half_closed_and_reset_connections_are_forgotten(
    redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        metrics = server.app[keys.METRICS]
        half = []
        for _ in range(5):
            ws = await RawWebSocket.connect("127.0.0.1", server.port)
            ws.send_text(subscribe(prefs=["13"]))
            ws.writer.write_eof()
            half.append(ws)
        # a reset in the middle of a frame
        torn = await RawWebSocket.connect("127.0.0.1", server.port)
        torn.writer.write(frame(0x1, subscribe().encode())[:5])
        await torn.writer.drain()
        sock = torn.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        torn.close()
        await eventually(lambda: hub.connection_count == 0)
        assert metrics.ws_connections._value.get() == 0
        for ws in half:
            ws.close()


async def test_reset_during_a_replay_leaves_no_task(redis_url: str, tmp_path: Path) -> None:
    limits = Limits(heartbeat_interval_s=0.3, replay_chunk_bytes=1024)
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        hub = server.app[keys.HUB]
        big = "x" * 4000
        for i in range(300):
            await server.timeline.append(envelope(f"e{i}", ("13",), note=big))
        tasks_before = len(asyncio.all_tasks())
        clients = []
        for _ in range(5):
            ws = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
            ws.send_text(subscribe(prefs=["13"], since="0"))
            await ws.writer.drain()
            await ws.read_frame()  # the replay started
            clients.append(ws)
        await eventually(lambda: len(asyncio.all_tasks()) > tasks_before)
        for ws in clients:
            sock = ws.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.close()
        await eventually(lambda: hub.connection_count == 0)
        await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)
        assert server.app[keys.METRICS].ws_connections._value.get() == 0


async def test_ping_flood_from_a_client_that_never_reads(redis_url: str, tmp_path: Path) -> None:
    limits = Limits(heartbeat_interval_s=0.3, max_send_buffer_bytes=256 * 1024)
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        hub = server.app[keys.HUB]
        ws = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
        ping = frame(0x9, b"p" * 125)
        sent = 0
        try:
            async with asyncio.timeout(WAIT_S):
                while hub.connection_count and sent < 200_000:
                    ws.writer.write(ping * 100)
                    await ws.writer.drain()
                    sent += 100
        except (ConnectionResetError, BrokenPipeError):
            pass
        await eventually(lambda: hub.connection_count == 0)
        assert server.app[keys.METRICS].ws_connections._value.get() == 0
        ws.close()


async def test_subscribe_flood_closes_at_the_cap(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        one = frame(0x1, subscribe(prefs=["13"]).encode())
        resume = frame(0x1, subscribe(prefs=["13"], since="0").encode())
        ws.writer.write((one + resume) * 100)
        assert await ws.close_code() == 1008
        await eventually(lambda: server.app[keys.HUB].connection_count == 0)
        ws.close()


async def test_a_bug_while_reading_closes_only_its_connection_with_1011(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in the code that acts on a client's message (the synchronous path, as the
    replay task's) ends that connection with 1011, logged once, counted; others go on."""

    def broken(data: bytes, resolve: object) -> object:
        raise RuntimeError("bug")

    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        bystander = await RawWebSocket.connect("127.0.0.1", server.port)
        bystander.send_text(subscribe(prefs=["13"]))
        assert (await next_text(bystander))["type"] == "ready"
        monkeypatch.setattr(ws_module, "parse_subscribe", broken)
        victim = await RawWebSocket.connect("127.0.0.1", server.port)
        # the bug hit on the first of several messages in one read, bytes after it unread
        victim.writer.write(frame(0x1, subscribe().encode()) * 3 + frame(0x9, b"p"))
        assert await victim.close_code() == 1011
        # the same with the message in the handshake's packet (read before the hand-over)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(HANDSHAKE + frame(0x1, subscribe().encode()))
        early = RawWebSocket(reader, writer)
        async with asyncio.timeout(WAIT_S):
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        assert await early.close_code() == 1011
        await eventually(lambda: hub.connection_count == 1)
        assert server.app[keys.METRICS].ws_connections._value.get() == 1
        bugs = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
        assert len(bugs) == 2, bugs
        assert server.app[keys.METRICS].rejected.labels("internal")._value.get() == 2
        early.close()
        published = await server.timeline.append(envelope("a", ("13",)))
        assert (await next_text(bystander))["id"] == published
        victim.close()
        bystander.close()


async def test_close_or_error_in_the_handshake_packet(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        for data, code in [
            (frame(0x8, struct.pack("!H", 1000)), 1000),
            (frame(0x1, b"{}", masked=False), 1002),
            (frame(0x1, subscribe().encode()) * 40, 1008),
        ]:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(HANDSHAKE + data)
            async with asyncio.timeout(WAIT_S):
                assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
            ws = RawWebSocket(reader, writer)
            assert await ws.close_code() == code
            async with asyncio.timeout(WAIT_S):
                while await reader.read(4096):
                    pass
            ws.close()
        await eventually(lambda: hub.connection_count == 0)
        assert server.app[keys.METRICS].ws_connections._value.get() == 0


async def test_a_thousand_silent_connections(redis_url: str, tmp_path: Path) -> None:
    """1,000 handshakes that then say nothing, on the server as ``yure serve`` runs it: the
    address's cap admits 256 (the rest 1013); those outlive the keep-alive and header
    timeouts (they are no HTTP connections any more) and are forgotten once gone."""
    async with guarded_server(redis_url, tmp_path) as port:
        clients = [await RawWebSocket.connect("127.0.0.1", port) for _ in range(1000)]
        admitted = clients[:MAX_CONNECTIONS_PER_IP]
        for ws in clients[MAX_CONNECTIONS_PER_IP:]:
            assert await ws.close_code() == 1013
        loop = asyncio.get_running_loop()
        past = loop.time() + 2 * IDLE_TIMEOUT_S + HEADER_TIMEOUT_S
        for ws in admitted:  # heartbeats keep coming past every HTTP timeout
            async with asyncio.timeout(WAIT_S):
                while True:
                    opcode, payload = await ws.read_frame()
                    assert (opcode, payload) == (0x1, b'{"type":"heartbeat"}')
                    if loop.time() > past:
                        break
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert (await resp.json())["connections"] == MAX_CONNECTIONS_PER_IP
            for ws in clients:
                ws.close()
            async with asyncio.timeout(WAIT_S):
                while True:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as again:
                        if (await again.json())["connections"] == 0:
                            break
                    await asyncio.sleep(0.05)


async def test_resets_during_replays_from_redis_spoil_nothing(
    redis_url: str, tmp_path: Path
) -> None:
    """Clients reset while their replays wait on Redis or on their buffers: no task or
    subscriber stays, the replay gate and Redis pool are whole, the next replay is exact."""
    limits = Limits(heartbeat_interval_s=0.3, replay_chunk_bytes=1024, replay_read_entries=8)
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        hub = server.app[keys.HUB]
        published = [
            await server.timeline.append(envelope(f"e{i}", ("13",), note="x" * 4000))
            for i in range(200)
        ]
        hub.recent.reset([], complete=False, now_ms=0)  # replays read Redis
        tasks_before = len(asyncio.all_tasks())
        for _round in range(3):
            clients = []
            for _ in range(20):
                ws = await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096)
                ws.send_text(subscribe(prefs=["13"], since="0"))
                clients.append(ws)
            for ws in clients[::2]:
                await ws.read_frame()  # these are mid-replay, the others anywhere
            for ws in clients:
                sock = ws.writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                ws.close()
            await eventually(lambda: hub.connection_count == 0)
        await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)
        assert server.app[keys.METRICS].ws_connections._value.get() == 0
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        ws.send_text(subscribe(prefs=["13"], since="0"))
        got: list[object] = []
        async with asyncio.timeout(WAIT_S):
            while (msg := await next_text(ws))["type"] != "ready":
                got.extend(
                    item["id"]
                    for item in (msg["items"] if msg["type"] == "events" else [msg])  # type: ignore[attr-defined]
                )
        assert got == published
        ws.close()


async def test_pongs_nobody_reads_count_against_the_address_budget(
    redis_url: str, tmp_path: Path
) -> None:
    """Twenty connections of one address ask for pongs and read none: each stays under
    its own high mark, together they pass the address's budget, so the fullest go."""
    limits = Limits(
        heartbeat_interval_s=0.3,
        send_buffer_high_bytes=2**20,
        max_send_buffer_bytes_per_ip=2**20,
        socket_send_buffer_bytes=4096,
    )
    async with running_server(redis_url, tmp_path, limits=limits) as server:
        hub = server.app[keys.HUB]
        clients = [
            await RawWebSocket.connect("127.0.0.1", server.port, rcvbuf=4096) for _ in range(20)
        ]
        pings = frame(0x9, b"p" * 125) * 3000  # 380 KB of pongs each
        for ws in clients:
            ws.writer.write(pings)
        await eventually(lambda: hub.connection_count <= 20 - 15)
        await eventually(lambda: hub.buffered_bytes <= 2**20)
        assert server.app[keys.METRICS].slow_disconnects.labels("ws")._value.get() >= 15
        for ws in clients:
            ws.close()
        await eventually(lambda: hub.connection_count == 0)


@pytest.mark.parametrize("request_head", [HANDSHAKE, b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n"])
async def test_clients_gone_before_the_answer_log_nothing(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, request_head: bytes
) -> None:
    """A stream request reset as soon as it is sent (the server finds the socket closing
    when it answers) is no server error: no ERROR with a traceback per connection (a
    client could flood the log with them), and nothing of it stays."""
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        loop = asyncio.get_running_loop()
        for _ in range(60):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", server.port))
            await loop.sock_sendall(sock, request_head)
            sock.close()  # a reset
        hub = server.app[keys.HUB]
        await eventually(lambda: hub.connection_count == 0)
        # one more request after them: the server has handled everything before it
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        ws.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors[:3]]
