"""IngestService: the JMA poller and the optional P2P client, wired and run together.

This is what ``yure serve`` starts (driver module): one aiohttp session, one
:class:`~ingest.seen.SeenStore` (so both sources share one ledger and one lock set),
one quarantine folder, and a TaskGroup that runs :meth:`JmaPoller.run` and — when
``settings.p2p_ws_url`` is set — :meth:`P2PClient.run` until cancelled. Counters and
``last_success_at`` are read from :attr:`IngestService.poller` / :attr:`IngestService.p2p`;
its liveness from :attr:`IngestService.last_success_at` / :attr:`IngestService.error_count`
(:mod:`ingest.liveness`).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import redis.asyncio

from yure.ingest.p2p_client import FeltSink, P2PClient
from yure.ingest.places import GeoPlaces
from yure.ingest.poller import JmaPoller
from yure.ingest.quarantine import Quarantine, quarantine_dir
from yure.ingest.seen import SeenStore, Sink
from yure.settings import Settings

logger = logging.getLogger(__name__)

#: Connections kept to JMA's host at most (telegrams are fetched one after another).
MAX_HTTP_CONNECTIONS = 4


class IngestService:
    """Both sources, sharing one store; build once, then ``await run()``."""

    def __init__(
        self,
        settings: Settings,
        redis_client: redis.asyncio.Redis,
        sink: Sink,
        *,
        felt_sink: FeltSink | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.felt_sink = felt_sink
        self.store = SeenStore(redis_client)
        self.quarantine = Quarantine(quarantine_dir(settings.data_dir))
        self.poller: JmaPoller | None = None
        self.p2p: P2PClient | None = None

    @property
    def last_success_at(self) -> float | None:
        """Unix time of the poller's last successful poll, None before the first."""
        return None if self.poller is None else self.poller.last_success_at

    @property
    def error_count(self) -> int:
        """The poller's failed polls and fetches so far."""
        return 0 if self.poller is None else self.poller.counters.errors

    async def run(self) -> None:
        """Run until cancelled (``yure serve`` starts it only when
        ``settings.ingest_enabled``).

        Raises:
            GeoError: geo's tables cannot be read (P2P place names need them).
        """
        connector = aiohttp.TCPConnector(limit=MAX_HTTP_CONNECTIONS)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        ) as session:
            self.poller = JmaPoller(
                self.settings, session, self.store, self.sink, quarantine=self.quarantine
            )
            if self.settings.p2p_ws_url is not None:
                self.p2p = P2PClient(
                    self.settings,
                    self.store,
                    self.sink,
                    places=GeoPlaces.load(),
                    felt_sink=self.felt_sink,
                    quarantine=self.quarantine,
                )
            async with asyncio.TaskGroup() as group:
                group.create_task(self.poller.run(), name="jma-poller")
                if self.p2p is not None:
                    group.create_task(self.p2p.run(), name="p2p-client")
