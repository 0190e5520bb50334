"""``/ws`` after the handshake: the socket served by broadcast.ws.Connection without a
request handler (issue 16), on a real server, with raw frames a client may send."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from pathlib import Path

import aiohttp
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from tests.broadcast.support import (
    WAIT_S,
    RawWebSocket,
    envelope,
    eventually,
    next_text,
    running_server,
    subscribe,
    until_ready,
)
from yure.broadcast.limits import Limits
from yure.web import keys

LIMITS = Limits(heartbeat_interval_s=0.3)


def client_frame(opcode: Opcode, data: bytes, *, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin=fin).serialize(mask=True)


async def test_subscribe_sent_with_the_handshake(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        key = base64.b64encode(os.urandom(16)).decode()
        handshake = (
            f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        # One write: the subscribe reaches the server in the handshake's packet.
        writer.write(handshake + client_frame(Opcode.TEXT, subscribe(prefs=["13"]).encode()))
        async with asyncio.timeout(WAIT_S):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        assert b"Sec-WebSocket-Extensions" not in head
        assert b"X-Content-Type-Options: nosniff" in head  # the app's hooks ran
        ws = RawWebSocket(reader, writer)
        assert await next_text(ws) == {"type": "ready"}
        published = await server.timeline.append(envelope("a", ("13",)))
        assert (await next_text(ws))["id"] == published
        ws.close()


async def test_fragments_pings_and_the_close_handshake(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        message = subscribe(prefs=["13"]).encode()
        ws.writer.write(
            client_frame(Opcode.TEXT, message[:7], fin=False)
            + client_frame(Opcode.PING, b"are you there")
            + client_frame(Opcode.CONT, message[7:], fin=True)
        )
        async with asyncio.timeout(WAIT_S):
            opcode, payload = await ws.read_frame()
            while opcode == 0x1:  # a heartbeat may come first
                opcode, payload = await ws.read_frame()
        assert (opcode, payload) == (0xA, b"are you there")
        assert await next_text(ws) == {"type": "ready"}
        hub = server.app[keys.HUB]
        assert hub.connection_count == 1
        ws.writer.write(client_frame(Opcode.CLOSE, struct.pack("!H", 1000) + b"bye"))
        async with asyncio.timeout(WAIT_S):
            opcode, payload = await ws.read_frame()
            while opcode == 0x1:
                opcode, payload = await ws.read_frame()
        assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1000
        async with asyncio.timeout(WAIT_S):
            assert await ws.reader.read() == b""  # the server closed the socket
        await eventually(lambda: hub.connection_count == 0)
        ws.close()


async def test_protocol_errors_close_with_their_codes(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        host, port = "127.0.0.1", server.port
        unmasked = await RawWebSocket.connect(host, port)
        body = subscribe().encode()
        unmasked.writer.write(struct.pack("!BB", 0x81, len(body)) + body)
        assert await unmasked.close_code() == 1002
        unmasked.close()

        not_utf8 = await RawWebSocket.connect(host, port)
        not_utf8.send_text(b'{"type":"subscribe","prefs":["\xff"]}')
        assert await not_utf8.close_code() == 1007
        not_utf8.close()

        hub = server.app[keys.HUB]
        await eventually(lambda: hub.connection_count == 0)
        metrics = server.app[keys.METRICS]
        assert metrics.rejected.labels("ws_error")._value.get() == 2


async def test_idle_connections_keep_no_task_or_handler(redis_url: str, tmp_path: Path) -> None:
    count = 20
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        hub = server.app[keys.HUB]
        http = server.runner.server
        assert http is not None
        tasks_before = len(asyncio.all_tasks())
        clients = [await connect(server.ws_url) for _ in range(count)]
        for ws in clients:
            await ws.send(subscribe(prefs=["13"]))
            await until_ready(ws)
        await eventually(lambda: hub.connection_count == count)
        # aiohttp's server forgot them (no request handler, no keep-alive timer) ...
        await eventually(lambda: len(http.connections) == 0)
        # ... and no task per connection: only the clients' own (websockets runs one each).
        assert len(asyncio.all_tasks()) - tasks_before <= count
        # A resume runs in a task that ends with its replay.
        published = [await server.timeline.append(envelope(f"r{i}", ("13",))) for i in range(3)]
        for ws in clients:
            await ws.recv()
        await clients[0].send(subscribe(prefs=["13"], since=published[0]))
        replayed = await until_ready(clients[0])
        assert [m["id"] for m in replayed] == published[1:]
        assert len(asyncio.all_tasks()) - tasks_before <= count
        for ws in clients:
            await ws.close()
        await eventually(lambda: hub.connection_count == 0)


async def test_not_a_handshake_is_a_bad_request(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        aiohttp.ClientSession() as http,
        http.get(server.base + "/ws") as resp,
    ):
        assert resp.status == 400


async def test_client_that_vanishes_is_forgotten(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path, limits=LIMITS) as server:
        ws = await RawWebSocket.connect("127.0.0.1", server.port)
        ws.send_text(subscribe(since="0"))
        assert (await next_text(ws))["type"] in {"ready", "event"}
        sock = ws.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ws.close()  # a reset, no close frame
        hub = server.app[keys.HUB]
        await eventually(lambda: hub.connection_count == 0)
