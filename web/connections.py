"""Slow or silent clients cannot hold connections (issue 10: slowloris).

Driver module. Three limits, named in :class:`yure.settings.Settings`:

* ``header_timeout_s``: a new connection must complete its first request's headers in
  time, however it trickles them (aiohttp itself only times out a connection that is
  idle at its keep-alive deadline);
* ``idle_timeout_s``: aiohttp's keep-alive timeout, from the connection's start and
  after each response; a request in progress (a WebSocket, an SSE stream) is never idle;
* ``max_pending_connections``: connections that have not completed a request (nobody
  has been identified or authenticated on them yet) per worker; past it the oldest go.

A connection counts as *served* once a request reached the application (the guard's
middleware sees it); the guard looks at the server's open connections on a short tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from yure.aio import background
from yure.settings import Settings

log = logging.getLogger(__name__)

#: How often the open connections are looked at, at most (and a quarter of the timeout).
MAX_TICK_S = 1.0

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
    """An app runner whose connections close after ``idle_timeout_s`` without a request."""
    return web.AppRunner(
        app, handle_signals=False, access_log=None, keepalive_timeout=settings.idle_timeout_s
    )


@contextlib.asynccontextmanager
async def guarding(guard: ConnectionGuard, runner: web.AppRunner) -> AsyncIterator[None]:
    """Run ``guard`` over ``runner``'s connections (after ``runner.setup()``) for the block."""
    server = runner.server
    if server is None:
        raise RuntimeError("runner is not set up")
    async with background(guard.run(server), name="connection guard"):
        yield
