"""Local stand-ins for the outside world: JMA's feed server and P2P地震情報's WebSocket.

Both serve documents in the real formats (:mod:`tests.ingest.telegrams`,
:mod:`tests.ingest.p2p_items`) on 127.0.0.1, port 0, and can misbehave on request:
5xx, replies that never come, oversized bodies, redirects to another host, dropped
connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve

from tests.ingest.telegrams import AtomEntry, atom_feed
from yure.ingest.ledger import Publication

FEED_PATH = "/developer/xml/feed/"
DATA_PATH = "/developer/xml/data/"


class Behaviour:
    """What a telegram URL does instead of answering 200."""

    SLOW = "slow"  # never answers (until the server closes)
    OVERSIZE = "oversize"  # streams more than the cap, without Content-Length
    REDIRECT_OTHER_HOST = "redirect_other_host"
    REDIRECT_SAME_HOST = "redirect_same_host"
    REDIRECT_LOOP = "redirect_loop"


@dataclasses.dataclass
class _Feed:
    entries: list[AtomEntry] = dataclasses.field(default_factory=list)
    version: int = 1
    #: Scripted answers before the normal one: an HTTP status, or Behaviour.SLOW.
    script: deque[int | str] = dataclasses.field(default_factory=deque)


class FakeJma:
    """JMA's ``www.data.jma.go.jp/developer/xml/`` on a local port."""

    def __init__(self, *, oversize_bytes: int = 0) -> None:
        self.feeds: dict[str, _Feed] = {"eqvol.xml": _Feed(), "eqvol_l.xml": _Feed()}
        self.telegrams: dict[str, bytes] = {}
        self.behaviour: dict[str, str] = {}
        #: Scripted statuses per telegram name, answered before the document.
        self.telegram_script: dict[str, deque[int]] = {}
        self.hits: Counter[str] = Counter()
        self.conditional_hits: Counter[str] = Counter()
        self.oversize_bytes = oversize_bytes
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- set-up ----------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def feed_url(self, name: str = "eqvol.xml") -> str:
        return f"{self.base}{FEED_PATH}{name}"

    def telegram_url(self, name: str) -> str:
        return f"{self.base}{DATA_PATH}{name}"

    def publish(
        self,
        name: str,
        data: bytes,
        *,
        updated: datetime,
        title: str = "震源・震度に関する情報",
        feeds: tuple[str, ...] = ("eqvol.xml", "eqvol_l.xml"),
        url: str | None = None,
    ) -> str:
        """Serve ``data`` as telegram ``name`` and list it in ``feeds``; returns its URL."""
        self.telegrams[name] = data
        link = url or self.telegram_url(name)
        for feed_name in feeds:
            feed = self.feeds[feed_name]
            feed.entries.append(AtomEntry(link, title, updated))
            feed.version += 1
        return link

    def script_feed(self, name: str, *answers: int | str) -> None:
        self.feeds[name].script.extend(answers)

    # --- handlers ----------------------------------------------------------------------

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[FEED_PATH + name] += 1
        feed = self.feeds.get(name)
        if feed is None:
            raise web.HTTPNotFound()
        if feed.script:
            answer = feed.script.popleft()
            if answer == Behaviour.SLOW:
                await self._release.wait()
            return web.Response(status=int(answer) if isinstance(answer, int) else 503)
        etag = f'"v{feed.version}"'
        last_modified = format_datetime(datetime.fromtimestamp(feed.version, UTC), usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            self.conditional_hits[FEED_PATH + name] += 1
            return web.Response(status=304, headers={"ETag": etag})
        updated = max((e.updated for e in feed.entries), default=datetime(2024, 1, 1, tzinfo=UTC))
        body = atom_feed(feed.entries, self_url=self.feed_url(name), updated=updated)
        headers = {"ETag": etag, "Last-Modified": last_modified}
        return web.Response(body=body, content_type="application/atom+xml", headers=headers)

    async def _telegram(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[DATA_PATH + name] += 1
        behaviour = self.behaviour.get(name)
        if behaviour == Behaviour.SLOW:
            await self._release.wait()
            raise web.HTTPServiceUnavailable()
        if behaviour == Behaviour.OVERSIZE:
            return await self._oversize(request)
        if behaviour == Behaviour.REDIRECT_OTHER_HOST:
            # Same port, other host name: a fetch that followed it would succeed.
            target = f"http://localhost:{self.port}{DATA_PATH}{name.removeprefix('moved-')}"
            raise web.HTTPFound(target)
        if behaviour == Behaviour.REDIRECT_SAME_HOST:
            raise web.HTTPMovedPermanently(self.telegram_url(name.removeprefix("moved-")))
        if behaviour == Behaviour.REDIRECT_LOOP:
            raise web.HTTPFound(self.telegram_url(name))
        script = self.telegram_script.get(name)
        if script:
            return web.Response(status=script.popleft())
        data = self.telegrams.get(name)
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/xml")

    async def _oversize(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        await response.prepare(request)
        chunk = b"<" + b"x" * (64 * 1024 - 1)
        with contextlib.suppress(ConnectionError):
            for _ in range(self.oversize_bytes // len(chunk) + 2):
                await response.write(chunk)
        return response

    # --- life ----------------------------------------------------------------------------

    async def start(self) -> FakeJma:
        app = web.Application()
        app.router.add_get(FEED_PATH + "{name}", self._feed)
        app.router.add_get(DATA_PATH + "{name}", self._telegram)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()


@dataclasses.dataclass
class P2PConnectionScript:
    """What the fake P2P server does on one connection."""

    messages: list[bytes]
    #: After sending: "close" (close frame 1011), "abort" (TCP reset) or "stay".
    then: str = "close"


class FakeP2P:
    """P2P地震情報's ``/v2/ws`` on a local port: one JSON object per text frame."""

    def __init__(self, scripts: list[P2PConnectionScript]) -> None:
        self.scripts = scripts
        self.connections = 0
        self.user_agents: list[str | None] = []
        self._release = asyncio.Event()
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/ws"

    async def _handler(self, websocket: ServerConnection) -> None:
        index = self.connections
        self.connections += 1
        self.user_agents.append(
            websocket.request.headers.get("User-Agent") if websocket.request else None
        )
        script = (
            self.scripts[index] if index < len(self.scripts) else P2PConnectionScript([], "stay")
        )
        for message in script.messages:
            await websocket.send(message.decode())
        # A ping answered means every frame before it reached the client.
        pong = await websocket.ping()
        await pong
        if script.then == "close":
            await websocket.close(1011, "server going away")
        elif script.then == "abort":
            websocket.transport.abort()
        else:
            await self._release.wait()

    async def start(self) -> FakeP2P:
        self._server = await serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0
        return self

    async def close(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class FakeTimeline:
    """The sink as broadcast's Timeline behaves: appending a key twice is a no-op."""

    def __init__(self, *, fail_after: int | None = None) -> None:
        self.calls: list[Publication] = []
        self.entries: dict[str, Publication] = {}
        self.fail_after = fail_after

    async def __call__(self, publication: Publication) -> None:
        self.calls.append(publication)
        self.entries.setdefault(publication.key, publication)
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise ConnectionError("timeline down after recording (crash before commit)")

    @property
    def keys(self) -> list[str]:
        return list(self.entries)


async def wait_for(condition: Callable[[], bool], *, timeout_s: float = 10.0) -> None:
    """Wait until ``condition()`` holds: a bounded loop with a deadline, not a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    for _ in range(100_000):
        if condition():
            return
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met before the deadline")
