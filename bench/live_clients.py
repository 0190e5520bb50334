"""Lean signed-in viewers of ``GET /api/live`` (WebSocket): many per process, raw asyncio.

Each viewer does the RFC 6455 handshake by hand with ``Authorization: Bearer <token>``,
answers the server's pings (RFC 6455 §5.5.2–3: a masked pong with the ping's payload),
and decodes only the text frames that carry a ``checkin`` message. The bench's check-ins
carry ``b <seq> <poster> <send time>`` as their note, so a viewer knows which check-in it
got, from whom and how long after it was sent, without asking anyone.

The coordinator (:mod:`bench.safety_live_bench`) drives a process through a pipe with
small command tuples: ``connect``, ``reset``, ``results``, ``close``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson

from bench.clients import raise_fd_limit

#: Handshakes in flight per process (more overflow the listen backlog: SYN retries cost 1 s).
CONNECT_CONCURRENCY = 128
CONNECT_TIMEOUT_S = 300.0
CHECKIN_MARK = b'"type":"checkin"'
READY_MARK = b'"type":"ready"'
NOTE_TAG = "b"
_KEY = base64.b64encode(b"yure-bench-key!!").decode()
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (RFC 6455 §5.3: clients mask every frame); payloads < 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked


def checkin_note(seq: int, poster: int, sent_at: float) -> str:
    """What the bench writes as a check-in's note (≤ 100 code points, one line)."""
    return f"{NOTE_TAG} {seq} {poster} {sent_at:.6f}"


@dataclass
class Stats:
    """What one process's viewers received since the last reset."""

    #: seq → viewers that got it (the poster's own channel included).
    got: Counter[int] = field(default_factory=Counter)
    #: Delivery latency (send → receive at a friend, ms), friends only.
    latencies_ms: list[float] = field(default_factory=list)
    duplicates: int = 0
    closed: int = 0
    close_codes: Counter[int] = field(default_factory=Counter)


class Viewer(asyncio.Protocol):
    """One signed-in viewer."""

    def __init__(self, stats: Stats, index: int, request: bytes) -> None:
        self.stats = stats
        self.index = index
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.buffer = b""
        self.seen: set[int] = set()
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.closed += 1
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            if not head.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(head[:80].decode(errors="replace")))
                assert self.transport is not None
                self.transport.abort()
                return
            self.upgraded = True
            self.buffer = self.buffer[end + 4 :]
        self._frames()

    def _frames(self) -> None:
        buf = self.buffer
        at = 0
        while len(buf) - at >= 2:
            opcode = buf[at] & 0x0F
            length = buf[at + 1] & 0x7F
            start = at + 2
            if length == 126:
                if len(buf) - at < 4:
                    break
                length = struct.unpack_from("!H", buf, at + 2)[0]
                start = at + 4
            elif length == 127:
                if len(buf) - at < 10:
                    break
                length = struct.unpack_from("!Q", buf, at + 2)[0]
                start = at + 10
            if len(buf) < start + length:
                break
            payload = buf[start : start + length]
            at = start + length
            self._frame(opcode, payload)
        self.buffer = buf[at:]

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            if CHECKIN_MARK in payload:
                self._checkin(payload)
            elif not self.ready.done() and READY_MARK in payload:
                self.ready.set_result(None)
        elif opcode == OP_PING:
            assert self.transport is not None
            self.transport.write(masked_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            self.stats.close_codes[code] += 1

    def _checkin(self, payload: bytes) -> None:
        now = time.time()
        note = str(orjson.loads(payload)["checkin"]["note"]).split()
        if len(note) != 4 or note[0] != NOTE_TAG:
            return
        seq, poster, sent_at = int(note[1]), int(note[2]), float(note[3])
        if seq in self.seen:
            self.stats.duplicates += 1
            return
        self.seen.add(seq)
        self.stats.got[seq] += 1
        if poster != self.index:
            self.stats.latencies_ms.append((now - sent_at) * 1000)


class ViewerPool:
    """The viewers of one process."""

    def __init__(self, host: str, port: int, source_ip: str) -> None:
        self.host = host
        self.port = port
        self.source_ip = source_ip
        self.stats = Stats()
        self.viewers: list[Viewer] = []

    def _request(self, token: str) -> bytes:
        return (
            f"GET /api/live HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {_KEY}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()

    async def connect(self, viewers: Sequence[tuple[int, str]]) -> tuple[float, list[str]]:
        """Open one channel per ``(index, token)``; wait for every ``ready``. Returns the
        seconds taken and the errors of those that failed."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(index: int, token: str) -> Viewer:
            async with gate:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.bind((self.source_ip, 0))
                await loop.sock_connect(sock, (self.host, self.port))
                viewer = Viewer(self.stats, index, self._request(token))
                await loop.create_connection(lambda: viewer, sock=sock)
                await viewer.ready
                return viewer

        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            results = await asyncio.gather(
                *(one(index, token) for index, token in viewers), return_exceptions=True
            )
        self.viewers = [r for r in results if isinstance(r, Viewer)]
        errors = [repr(r) for r in results if not isinstance(r, Viewer)]
        return time.monotonic() - started, errors

    async def close(self) -> None:
        for viewer in self.viewers:
            if viewer.transport is not None:
                viewer.transport.abort()
        if self.viewers:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await asyncio.gather(*(v.closed for v in self.viewers))
        self.viewers = []


async def _serve_commands(conn: Connection, host: str, port: int, source_ip: str) -> None:
    loop = asyncio.get_running_loop()
    pool = ViewerPool(host, port, source_ip)
    while True:
        command: tuple[Any, ...] = await loop.run_in_executor(None, conn.recv)
        name = command[0]
        try:
            if name == "connect":
                seconds, errors = await pool.connect(command[1])
                conn.send(("ok", (seconds, errors[:5], len(errors))))
            elif name == "reset":
                pool.stats = Stats()
                for viewer in pool.viewers:
                    viewer.stats = pool.stats
                conn.send(("ok", None))
            elif name == "results":
                stats = pool.stats
                open_now = sum(1 for v in pool.viewers if not v.closed.done())
                conn.send(
                    (
                        "ok",
                        {
                            "got": dict(stats.got),
                            "latencies_ms": stats.latencies_ms,
                            "duplicates": stats.duplicates,
                            "closed": stats.closed,
                            "close_codes": dict(stats.close_codes),
                            "open": open_now,
                        },
                    )
                )
            elif name == "close":
                await pool.close()
                conn.send(("ok", None))
                return
        except Exception as err:  # reported to the coordinator
            conn.send(("error", repr(err)))


def viewer_process(conn: Connection, host: str, port: int, source_ip: str) -> None:
    """Entry point of one viewer process."""
    raise_fd_limit()
    asyncio.run(_serve_commands(conn, host, port, source_ip))
