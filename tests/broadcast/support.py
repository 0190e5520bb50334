"""Helpers for stream tests: a real server on port 0 and small WebSocket client tools."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio
from aiohttp import web
from websockets.asyncio.client import ClientConnection

from tests.support import base_url, serving
from yure.broadcast.envelope import Envelope
from yure.broadcast.limits import Limits
from yure.broadcast.timeline import Timeline
from yure.redis_url import connect
from yure.settings import Settings
from yure.web import keys
from yure.web.app import build_app

#: Deadline of any single wait in these tests (a unit, not a sleep).
WAIT_S = 10.0


def envelope(key: str, prefs: tuple[str, ...], kind: str = "quake", **fields: Any) -> Envelope:
    """An envelope whose payload records its own key (to check what arrived)."""
    replaces = fields.pop("replaces", None)
    payload = orjson.dumps({"key": key, "kind": kind, **fields})
    return Envelope(key=key, kind=kind, prefs=prefs, payload=payload, replaces=replaces)


@dataclass
class Server:
    app: web.Application
    runner: web.AppRunner
    base: str
    redis: redis.asyncio.Redis

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    @property
    def timeline(self) -> Timeline:
        return self.app[keys.TIMELINE]

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@asynccontextmanager
async def running_server(
    redis_url: str, tmp_path: Path, *, limits: Limits | None = None, **settings: Any
) -> AsyncIterator[Server]:
    """build_app on 127.0.0.1:0 with the hub started; everything closed afterwards."""
    client = connect(redis_url, max_connections=64, timeout_s=WAIT_S)
    conf = Settings(redis_url=redis_url, data_dir=tmp_path, ingest_enabled=False, **settings)
    app = build_app(conf, client, limits=limits)
    try:
        async with serving(app) as runner:
            await app[keys.HUB].wait_started()
            yield Server(app=app, runner=runner, base=base_url(runner), redis=client)
    finally:
        await client.aclose()


async def next_messages(ws: ClientConnection, wait_s: float = WAIT_S) -> list[dict[str, Any]]:
    """The messages of the next frame (a coalesced frame is unpacked)."""
    async with asyncio.timeout(wait_s):
        raw = await ws.recv()
    msg = orjson.loads(raw)
    if msg.get("type") == "events":
        items: list[dict[str, Any]] = msg["items"]
        assert len(items) >= 2, "a coalesced frame carries several events"
        return items
    return [msg]


async def until_ready(ws: ClientConnection, wait_s: float = WAIT_S) -> list[dict[str, Any]]:
    """Every message before ``ready`` (heartbeats dropped)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(wait_s):
        while True:
            for msg in await next_messages(ws):
                if msg["type"] == "ready":
                    return seen
                if msg["type"] != "heartbeat":
                    seen.append(msg)


async def events(ws: ClientConnection, count: int, wait_s: float = WAIT_S) -> list[dict[str, Any]]:
    """Exactly the next ``count`` event messages (heartbeats dropped)."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(wait_s):
        while len(got) < count:
            for msg in await next_messages(ws):
                if msg["type"] == "event":
                    got.append(msg)
                elif msg["type"] != "heartbeat":
                    raise AssertionError(f"unexpected message {msg}")
    assert len(got) == count, f"more events than expected: {got[count:]}"
    return got


async def nothing_more(ws: ClientConnection, marker_wait: float = WAIT_S) -> None:
    """Assert no event arrives before the server's next heartbeat."""
    async with asyncio.timeout(marker_wait):
        while True:
            msgs = await next_messages(ws)
            for msg in msgs:
                assert msg["type"] == "heartbeat", f"unexpected {msg}"
            return


async def eventually(predicate: Callable[[], bool], wait_s: float = WAIT_S) -> None:
    """Wait until ``predicate()`` holds (server state seen from outside), within ``wait_s``."""
    async with asyncio.timeout(wait_s):
        while not predicate():  # noqa: ASYNC110 - polling another component's state
            await asyncio.sleep(0.01)


def subscribe(**fields: Any) -> str:
    return orjson.dumps({"type": "subscribe", **fields}).decode()


class RawWebSocket:
    """A minimal blocking-free WebSocket client over a raw socket, for tests that need
    control over reading (a stalled client) or over what is sent (oversized frames)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, host: str, port: int, *, rcvbuf: int | None = None) -> RawWebSocket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        # A small limit: a client that stops reading stops absorbing data soon.
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        async with asyncio.timeout(WAIT_S):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send_text(self, text: str | bytes, opcode: int = 0x1) -> None:
        payload = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)

    async def read_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next server frame."""
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return head[0] & 0x0F, await self.reader.readexactly(length)

    async def close_code(self, wait_s: float = WAIT_S) -> int | None:
        """Read until a close frame; its code (None if the socket ends without one)."""
        try:
            async with asyncio.timeout(wait_s):
                while True:
                    opcode, payload = await self.read_frame()
                    if opcode == 0x8:
                        return int(struct.unpack("!H", payload[:2])[0])
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return None

    def close(self) -> None:
        self.writer.close()


async def next_text(ws: RawWebSocket) -> dict[str, object]:
    """The next text message other than a heartbeat."""
    async with asyncio.timeout(WAIT_S):
        while True:
            opcode, payload = await ws.read_frame()
            assert opcode == 0x1, (opcode, payload)
            msg: dict[str, object] = orjson.loads(payload)
            if msg["type"] != "heartbeat":
                return msg
