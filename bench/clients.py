"""A lean WebSocket load client: many connections per process, raw asyncio protocols.

Each client process owns a share of the subscribers. It does the RFC 6455 handshake by
hand, sends one masked ``subscribe`` frame, then never parses frames: it counts event
markers in the received bytes (server frames are unmasked text, so the JSON is
visible on the wire), remembers the last event id (for resume) and, while latency is
being measured, reads the ``t0`` publish time of each alert. That keeps the load
generator cheap enough to measure a server on the same two cores.

The same client speaks to nginx + Nchan (``nchan=True``, :mod:`bench.nchan_server`):
there is no subscribe message (the 101 response is ``ready``), it asks for the
``ws+meta.nchan`` subprotocol so that each message starts with an ``id: …`` line (the
last one is remembered) and reconnects with that id in ``Last-Event-ID``. The bench
publishes to Nchan bodies shaped like yure's event frames, so the same markers count.

The coordinator drives a process through a pipe with small command tuples.
"""

from __future__ import annotations

import asyncio
import base64
import os
import resource
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson

EVENT_MARK = b'"type":"event","id":"'
READY_MARK = b'{"type":"ready"}'
T0_MARK = b'"t0":'
#: Nchan's ``ws+meta.nchan`` metadata line before each message body.
NCHAN_ID_MARK = b"id: "
NCHAN_SUBPROTOCOL = "ws+meta.nchan"
#: Bytes kept from the end of a chunk so a marker split over two reads is still seen.
OVERLAP_BYTES = 64
#: Handshakes in flight per process (more overflow the listen backlog: SYN retries cost 1 s).
CONNECT_CONCURRENCY = 256
CONNECT_TIMEOUT_S = 60.0
_KEY = base64.b64encode(b"yure-bench-key!!").decode()


def raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE to its hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def masked_text_frame(payload: bytes) -> bytes:
    """A client frame (RFC 6455 §5.3: clients mask every frame)."""
    mask = os.urandom(4)
    length = len(payload)
    header = (
        struct.pack("!BB", 0x81, 0x80 | length)
        if length < 126
        else struct.pack("!BBH", 0x81, 0x80 | 126, length)
    )
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


@dataclass
class Stats:
    """What one process's connections received since the last reset."""

    events: int = 0
    ready: int = 0
    latencies_ms: list[float] = field(default_factory=list)


class LeanClient(asyncio.Protocol):
    """One subscriber."""

    def __init__(
        self,
        stats: Stats,
        host: str,
        port: int,
        path: str,
        subscribe: bytes,
        measure: list[bool],
        *,
        nchan: bool = False,
    ) -> None:
        self.stats = stats
        self.request_line = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {_KEY}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
        )
        self.nchan = nchan
        self.subscribe = subscribe
        self.measure = measure
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.head = b""
        self.tail = b""
        self.last_id = ""
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.handshake())

    def handshake(self) -> bytes:
        """The upgrade request; Nchan's carries the subprotocol and the id to resume from."""
        extra = ""
        if self.nchan:
            extra = f"Sec-WebSocket-Protocol: {NCHAN_SUBPROTOCOL}\r\n"
            if self.pending_since is not None:
                extra += f"Last-Event-ID: {self.pending_since}\r\n"
        return (self.request_line + extra + "\r\n").encode()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))

    def send_subscribe(self, since: str | None) -> None:
        body = (
            self.subscribe
            if since is None
            else self.subscribe[:-1] + b',"since":"%s"}' % since.encode()
        )
        assert self.transport is not None
        self.transport.write(masked_text_frame(body))

    def data_received(self, data: bytes) -> None:
        if not self.upgraded:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(self.head[:80].decode(errors="replace"))
            self.upgraded = True
            data = self.head[end + 4 :]
            self.head = b""
            if self.nchan:
                self.stats.ready += 1
                self.ready.set_result(None)
            else:
                self.send_subscribe(self.pending_since)
            if not data:
                return
        chunk = self.tail + data
        events = chunk.count(EVENT_MARK) - self.tail.count(EVENT_MARK)
        if self.nchan:
            # The id line precedes its body: look for it in every chunk, not only in
            # those where an event marker completes.
            at = chunk.rfind(NCHAN_ID_MARK)
            end = chunk.find(b"\n", at) if at >= 0 else -1
            if end > 0:
                self.last_id = chunk[at + len(NCHAN_ID_MARK) : end].decode()
        if events:
            self.stats.events += events
            if not self.nchan:
                at = chunk.rfind(EVENT_MARK)
                end = chunk.find(b'"', at + len(EVENT_MARK))
                if end > 0:
                    self.last_id = chunk[at + len(EVENT_MARK) : end].decode()
            if self.measure[0]:
                now = time.time()
                start = len(self.tail)
                while True:
                    at = chunk.find(T0_MARK, start)
                    if at < 0:
                        break
                    stop = chunk.find(b"}", at)
                    comma = chunk.find(b",", at)
                    if 0 < comma < stop:
                        stop = comma
                    if stop < 0:
                        break
                    self.stats.latencies_ms.append((now - float(chunk[at + 5 : stop])) * 1000)
                    start = stop
        if not self.ready.done() and READY_MARK in chunk:
            self.stats.ready += 1
            self.ready.set_result(None)
        self.tail = chunk[-OVERLAP_BYTES:]

    pending_since: str | None = None


class ClientPool:
    """The subscribers of one process."""

    def __init__(
        self, host: str, port: int, path: str, source_ip: str, *, nchan: bool = False
    ) -> None:
        self.nchan = nchan
        self.host = host
        self.port = port
        self.path = path
        self.source_ip = source_ip
        self.stats = Stats()
        self.measure = [False]
        self.clients: list[LeanClient] = []
        self.subscribes: list[bytes] = []

    async def connect(
        self, prefs: Sequence[str], since: Sequence[str | None] | None = None
    ) -> float:
        """Open one connection per pref; wait for every ``ready``; return seconds taken."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        self.subscribes = [orjson.dumps({"type": "subscribe", "prefs": [p]}) for p in prefs]

        async def one(index: int) -> LeanClient:
            async with gate:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.bind((self.source_ip, 0))
                await loop.sock_connect(sock, (self.host, self.port))
                client = LeanClient(
                    self.stats,
                    self.host,
                    self.port,
                    self.path,
                    self.subscribes[index],
                    self.measure,
                    nchan=self.nchan,
                )
                client.pending_since = None if since is None else since[index]
                await loop.create_connection(lambda: client, sock=sock)
                await client.ready
                return client

        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            self.clients = list(await asyncio.gather(*(one(i) for i in range(len(prefs)))))
        return time.monotonic() - started

    async def close(self) -> list[str]:
        """Close every connection; return each one's last event id."""
        last = [c.last_id for c in self.clients]
        for client in self.clients:
            if client.transport is not None:
                client.transport.abort()
        if self.clients:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await asyncio.gather(*(c.closed for c in self.clients))
        self.clients = []
        return last


async def _serve_commands(
    conn: Connection, host: str, port: int, path: str, source_ip: str, nchan: bool
) -> None:
    loop = asyncio.get_running_loop()
    pool = ClientPool(host, port, path, source_ip, nchan=nchan)
    # yure replays everything after "0" to a client that has no id yet; Nchan wants none.
    no_id = None if nchan else "0"
    while True:
        command: tuple[Any, ...] = await loop.run_in_executor(None, conn.recv)
        name = command[0]
        try:
            if name == "connect":
                seconds = await pool.connect(command[1])
                conn.send(("ok", seconds))
            elif name == "resume":
                last = await pool.close()
                conn.send(("closed", last))
                await loop.run_in_executor(None, conn.recv)  # go
                seconds = await pool.connect(command[1], since=[i or no_id for i in last])
                conn.send(("ok", seconds))
            elif name == "measure":
                pool.measure[0] = bool(command[1])
                conn.send(("ok", None))
            elif name == "reset":
                pool.stats.events = 0
                pool.stats.latencies_ms = []
                conn.send(("ok", None))
            elif name == "stats":
                conn.send(("ok", (pool.stats.events, [])))
            elif name == "latencies":
                conn.send(("ok", (pool.stats.events, pool.stats.latencies_ms)))
                pool.stats.latencies_ms = []
            elif name == "close":
                await pool.close()
                conn.send(("ok", None))
                return
        except Exception as err:  # reported to the coordinator
            conn.send(("error", repr(err)))


def client_process(
    conn: Connection, host: str, port: int, path: str, source_ip: str, nchan: bool = False
) -> None:
    """Entry point of one load-client process (``nchan``: speak to nginx + Nchan)."""
    raise_fd_limit()
    asyncio.run(_serve_commands(conn, host, port, path, source_ip, nchan))
