"""What a worker's HTTP connections may cost: slow or silent clients cannot hold them
(issue 10: slowloris), malformed requests cannot flood the log, and the server does not
say which aiohttp it runs.

Driver module. Three limits, named in :class:`yure.settings.Settings`:

* ``header_timeout_s``: a new connection must complete its first request's headers in
  time, however it trickles them (aiohttp itself only times out a connection that is
  idle at its keep-alive deadline);
* ``idle_timeout_s``: aiohttp's keep-alive timeout, from the connection's start and
  after each response; a request in progress (a WebSocket, an SSE stream) is never idle;
* ``max_pending_connections``: connections that have not completed a request (nobody
  has been identified or authenticated on them yet) per worker; past it the oldest go.

And one that is not a setting: a worker raises its open-files limit to the hard limit and
keeps a reserve of descriptors for its own use (:func:`connection_fd_cap`); a connection
past that is refused as it is accepted (:class:`OpenFilesGate`), so a worker never runs out.

A connection counts as *served* once a request reached the application (the guard's
middleware sees it); the guard looks at the server's open connections on a short tick.

aiohttp answers a malformed request (bad request line or header, a body that does not
decode) with 400 itself and logs an ERROR with a traceback each time: its protocol logs
to :data:`protocol_log` here instead, where :class:`ClientFaults` keeps one line per
:data:`CLIENT_FAULT_LOG_EVERY_S` saying how many there were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import resource
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web, web_protocol, web_response
from aiohttp.http_exceptions import HttpProcessingError

from yure.aio import background
from yure.settings import Settings

log = logging.getLogger(__name__)

#: How often the open connections are looked at, at most (and a quarter of the timeout).
MAX_TICK_S = 1.0
#: One log line at most per this many seconds about malformed requests.
CLIENT_FAULT_LOG_EVERY_S = 10.0
#: The ``Server`` header of every answer (no software version: RFC 9110 §10.2.4).
SERVER_NAME = "yure"
#: Errors that are the client's fault (a malformed message), not the server's.
CLIENT_FAULTS: tuple[type[BaseException], ...] = (
    HttpProcessingError,
    web_protocol.RequestPayloadError,
)
#: A client that reset its connection before (or while) it was answered.
CLIENT_GONE: tuple[type[BaseException], ...] = (ConnectionResetError,)


class ClientFaults(logging.Filter):
    """Turns aiohttp's ERROR-with-traceback about one of ``faults`` (by default a
    malformed request) into one INFO line per ``every_s`` that counts them; everything
    else passes unchanged."""

    def __init__(
        self,
        every_s: float = CLIENT_FAULT_LOG_EVERY_S,
        *,
        faults: tuple[type[BaseException], ...] = CLIENT_FAULTS,
        what: str = "malformed requests",
    ) -> None:
        super().__init__()
        self.every_s = every_s
        self.faults = faults
        self.what = what
        self.count = 0
        self._last_logged = -math.inf

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, self.faults):
            return True
        self.count += 1
        if record.created - self._last_logged < self.every_s:
            return False
        self._last_logged = record.created
        record.msg = "%s count=%d last=%s"
        record.args = (self.what, self.count, type(exc).__name__)
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True


#: The logger of aiohttp's HTTP protocol in yure's workers (malformed requests, clients
#: gone before their answer: a log line with a traceback each would be a flood for the asking).
protocol_log = logging.getLogger("yure.web.protocol")
protocol_log.addFilter(ClientFaults())
protocol_log.addFilter(ClientFaults(faults=CLIENT_GONE, what="clients gone before the answer"))

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ConnectionGuard:
    """Closes connections that do not complete a request in time, and the oldest of
    too many that have not."""

    def __init__(self, *, header_timeout_s: float, max_pending: int) -> None:
        self.header_timeout_s = header_timeout_s
        self.max_pending = max_pending
        #: connections (aiohttp request handlers) not served yet, with when first seen
        self._pending: dict[Any, float] = {}
        #: connections a request of which reached the application
        self._served: set[Any] = set()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Mark the request's connection as served (its headers arrived in time)."""
        protocol = request.protocol
        self._served.add(protocol)
        self._pending.pop(protocol, None)
        return await handler(request)

    def sweep(self, connections: list[Any], now: float) -> int:
        """Close what is overdue among ``connections`` (aiohttp request handlers, each
        with ``force_close()``); return how many were closed."""
        open_now = set(connections)
        self._served &= open_now
        for gone in [c for c in self._pending if c not in open_now]:
            del self._pending[gone]
        for conn in connections:
            if conn not in self._served and conn not in self._pending:
                self._pending[conn] = now
        overdue = [c for c, seen in self._pending.items() if now - seen >= self.header_timeout_s]
        excess = len(self._pending) - len(overdue) - self.max_pending
        if excess > 0:
            # Oldest first: dicts keep insertion order, which is the order first seen.
            rest = [c for c in self._pending if now - self._pending[c] < self.header_timeout_s]
            overdue.extend(rest[:excess])
        for conn in overdue:
            del self._pending[conn]
            conn.force_close()
        return len(overdue)

    async def run(self, server: web.Server) -> None:
        """Sweep ``server``'s open connections every tick until cancelled."""
        loop = asyncio.get_running_loop()
        tick = min(MAX_TICK_S, self.header_timeout_s / 4)
        while True:
            await asyncio.sleep(tick)
            closed = self.sweep(server.connections, loop.time())
            if closed:
                log.info("closed slow connections count=%d pending=%d", closed, len(self._pending))


def make_guard(settings: Settings) -> ConnectionGuard:
    """The guard of one worker, from its settings."""
    return ConnectionGuard(
        header_timeout_s=settings.header_timeout_s, max_pending=settings.max_pending_connections
    )


def make_runner(app: web.Application, settings: Settings) -> web.AppRunner:
    """An app runner whose connections close after ``idle_timeout_s`` without a request,
    whose protocol errors go to :data:`protocol_log`, and whose answers name no version."""
    # aiohttp's own answers (400 to a malformed request) never pass the app's hooks: the
    # default Server value is aiohttp's one module constant.
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]
    return web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=settings.idle_timeout_s,
        logger=protocol_log,
    )


@contextlib.asynccontextmanager
async def guarding(guard: ConnectionGuard, runner: web.AppRunner) -> AsyncIterator[None]:
    """Run ``guard`` over ``runner``'s connections (after ``runner.setup()``) for the block."""
    server = runner.server
    if server is None:
        raise RuntimeError("runner is not set up")
    async with background(guard.run(server), name="connection guard"):
        yield


async def add_common_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: ``X-Content-Type-Options: nosniff`` on every answer (JSON
    included: a browser must never take an API answer for script or HTML), and a
    ``Server`` header without a software version."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers["Server"] = SERVER_NAME


# -- open files ------------------------------------------------------------------------------

#: File descriptors a worker keeps for everything but client connections (its Redis pool,
#: the archive database, push deliveries, logs): at least this many ...
FD_RESERVE_MIN = 256
#: ... or this share of its open-files limit, whichever is more.
FD_RESERVE_SHARE = 0.05
#: Sockets asyncio accepts per wake-up of a listening socket (its loop would take up to
#: the whole listen backlog at once, past any reserve, before the gate sees one).
ACCEPT_BATCH = 32
#: One log line at most per this many seconds about connections refused at the cap.
FD_REFUSED_LOG_EVERY_S = 10.0


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (what nginx's
    ``worker_rlimit_nofile`` does); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_fd_cap(open_files_limit: int) -> int:
    """The highest descriptor number a client connection may have, from the limit."""
    reserve = max(FD_RESERVE_MIN, math.ceil(open_files_limit * FD_RESERVE_SHARE))
    return max(1, open_files_limit - reserve)


class OpenFilesGate(asyncio.Protocol):
    """The first protocol of every accepted connection: one whose socket is numbered at or
    past ``cap`` is closed at once, every other is handed to ``make()``'s protocol.

    Linux gives a new socket the lowest free number, so a socket numbered ``cap`` means
    ``cap`` descriptors are open: the worker refuses connections while it still has the
    reserve for its own, instead of running out (then asyncio logs a traceback for every
    failed ``accept()``, and the worker can no longer reach Redis or answer /healthz).
    """

    def __init__(self, make: Callable[[], asyncio.BaseProtocol], cap: int, counter: Refusals):
        self.make = make
        self.cap = cap
        self.counter = counter

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.fileno() >= self.cap:
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()  # a reset: its descriptor is free at once
            else:
                transport.close()
            self.counter.refused()
            return
        protocol = self.make()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        """Only a refused connection ends here (the others changed protocol)."""


class Refusals:
    """Counts connections refused at the open-files cap; logs one line per period."""

    def __init__(self, cap: int, every_s: float = FD_REFUSED_LOG_EVERY_S) -> None:
        self.cap = cap
        self.every_s = every_s
        self.count = 0
        self._last_logged = -math.inf

    def refused(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._last_logged >= self.every_s:
            self._last_logged = now
            log.warning(
                "connections refused: worker at its open-files cap cap=%d refused=%d",
                self.cap,
                self.count,
            )


class GatedSockSite(web.SockSite):
    """aiohttp's ``SockSite`` with the listen backlog kept and every connection passing
    an :class:`OpenFilesGate` first."""

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        fd_cap: int,
        backlog: int,
        shutdown_timeout: float,
    ) -> None:
        super().__init__(runner, sock, shutdown_timeout=shutdown_timeout, backlog=backlog)
        self.refusals = Refusals(fd_cap)

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        if server is None:
            raise RuntimeError("runner is not set up")
        refusals = self.refusals
        # asyncio accepts up to ``backlog`` sockets per wake-up before any of their
        # protocols runs: a small batch keeps the sockets the gate has not yet seen well
        # inside the reserve. The kernel's queue is then raised to the real backlog
        # (listen() again on a listening socket only changes its backlog).
        self._server = await asyncio.get_running_loop().create_server(
            lambda: OpenFilesGate(server, refusals.cap, refusals),
            sock=self._sock,
            backlog=ACCEPT_BATCH,
        )
        self._sock.listen(self._backlog)
