"""P2PClient: P2P地震情報 WebSocket API → ledger → sink (websockets driver).

Connects to ``settings.p2p_ws_url`` (``wss://api.p2pquake.net/v2/ws``), reads one JSON
object per text frame (:mod:`ingest.p2p`), and:

* relayed JMA items (551/552/556) get ``Provenance(source=Source.P2P, …)`` and go
  through the same ledger and sink as the JMA feed (:meth:`ingest.seen.SeenStore.settle`),
  so an item seen through both sources is published once (:mod:`ingest.merge`);
* felt reports (561) and their evaluations (9611) go to ``felt_sink``;
* every item is handled once: P2P may deliver an ``id`` more than once (spec: 「同一の
  情報を複数回配信する可能性があります」), ids are remembered in Redis.

The connection is kept alive with WebSocket pings (RFC 6455 §5.5.2: a missing pong
within :data:`PING_TIMEOUT_S` closes it) and re-established after any failure with
capped exponential backoff and jitter; the backoff resets after a connection that
stayed up :data:`HEALTHY_CONNECTION_S`. A bad message is logged, kept aside and
skipped; the connection stays up. P2P does not replay what was sent while we were
disconnected: 551/552 come again through JMA's feed (backfill), EEW do not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from yure.aio import raise_if_cancelling
from yure.backoff import Backoff
from yure.ingest.event import Provenance, Source
from yure.ingest.fetch import USER_AGENT
from yure.ingest.ledger import VerdictCounters
from yure.ingest.p2p import (
    MAX_P2P_MESSAGE_BYTES,
    FeltEvaluation,
    FeltReport,
    Ignored,
    P2PError,
    Places,
    Relayed,
    parse_message,
)
from yure.ingest.quarantine import Quarantine, quarantine_dir
from yure.ingest.seen import SeenStore, Sink
from yure.settings import Settings

logger = logging.getLogger(__name__)

#: Seen-store namespace of P2P ids.
NAMESPACE = "p2p"
#: Opening handshake deadline.
OPEN_TIMEOUT_S = 10.0
#: Keepalive ping period and the deadline of its pong (RFC 6455 §5.5.2 / §5.5.3).
PING_INTERVAL_S = 30.0
PING_TIMEOUT_S = 20.0
#: Closing handshake deadline.
CLOSE_TIMEOUT_S = 5.0
#: Frames buffered by websockets before reading stops (back-pressure to the server).
MAX_QUEUED_FRAMES = 64
#: Reconnect backoff: first ceiling and cap.
RECONNECT_BASE_S = 1.0
RECONNECT_CAP_S = 60.0
#: A connection that lasted this long resets the backoff.
HEALTHY_CONNECTION_S = 60.0

FeltRecord = FeltReport | FeltEvaluation
FeltSink = Callable[[FeltRecord], Awaitable[None]]


@dataclasses.dataclass
class P2PCounters(VerdictCounters):
    """Monotonic counters for metrics (the ledger's verdicts, and these)."""

    connections: int = 0
    messages: int = 0
    ignored: int = 0
    felt: int = 0
    errors: int = 0
    partial: int = 0


class P2PClient:
    """Reads P2P地震情報 and publishes what it relays of JMA's information."""

    def __init__(
        self,
        settings: Settings,
        store: SeenStore,
        sink: Sink,
        *,
        places: Places,
        felt_sink: FeltSink | None = None,
        quarantine: Quarantine | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if settings.p2p_ws_url is None:
            raise ValueError("P2PClient needs settings.p2p_ws_url")
        self.url: str = settings.p2p_ws_url
        self.store = store
        self.sink = sink
        self.felt_sink = felt_sink
        self.places = places
        self.quarantine = quarantine or Quarantine(quarantine_dir(settings.data_dir))
        self.counters = P2PCounters()
        self.connected = False
        #: When the last message arrived (``clock`` seconds).
        self.last_message_at: float | None = None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def _refuse(self, data: bytes, err: P2PError) -> None:
        self.counters.errors += 1
        logger.warning("p2p_message_refused id=%s error=%s", err.p2p_id, err)
        origin = f"{self.url}#{err.p2p_id or 'unknown'}"
        await self.quarantine.keep(data, origin=origin, reason=str(err))
        if err.p2p_id is not None:
            await self.store.commit(NAMESPACE, err.p2p_id)

    async def _relay(self, item: Relayed, data: bytes, received_at: datetime) -> None:
        provenance = Provenance(
            source=Source.P2P,
            source_url=f"{self.url}#{item.p2p_id}",
            sha256=hashlib.sha256(data).hexdigest(),
            received_at=received_at,
        )
        event = dataclasses.replace(item.event, provenance=provenance)
        if item.partial:
            self.counters.partial += 1
        decision = await self.store.settle(
            event, namespace=NAMESPACE, item_id=item.p2p_id, sink=self.sink, partial=item.partial
        )
        self.counters.count(decision.verdict)
        logger.info(
            "p2p id=%s code=%s type=%s event_id=%s partial=%s verdict=%s agent=%r",
            item.p2p_id, item.code.value, event.type_code, event.event_id, item.partial,
            decision.verdict.value, item.user_agent,
        )  # fmt: skip

    async def handle_message(self, data: bytes) -> None:
        """Handle one message; never raises except for cancellation.

        Failures (bad message, Redis, sink) are logged and counted; an item whose sink
        or store failed stays unseen, so a repeated delivery is handled again.
        """
        self.counters.messages += 1
        now = self._clock()
        self.last_message_at = now
        try:
            try:
                item = parse_message(data, self.places)
            except P2PError as err:
                await self._refuse(data, err)
                return
            if isinstance(item, Ignored):
                self.counters.ignored += 1
                return
            if await self.store.is_seen(NAMESPACE, item.p2p_id):
                self.counters.duplicates += 1
                return
            if isinstance(item, Relayed):
                await self._relay(item, data, datetime.fromtimestamp(now, UTC))
                return
            if self.felt_sink is not None:
                await self.felt_sink(item)
            await self.store.commit(NAMESPACE, item.p2p_id)
            self.counters.felt += 1
        except asyncio.CancelledError:
            raise
        except Exception as err:  # never let one message end the connection
            self.counters.errors += 1
            logger.warning("p2p_message_failed error=%r", err)

    async def _session(self) -> None:
        async with connect(
            self.url,
            open_timeout=OPEN_TIMEOUT_S,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            max_size=MAX_P2P_MESSAGE_BYTES,
            max_queue=MAX_QUEUED_FRAMES,
            user_agent_header=USER_AGENT,
        ) as websocket:
            self.connected = True
            self.counters.connections += 1
            logger.info("p2p_connected url=%s", self.url)
            message: Any
            async for message in websocket:
                data = message.encode() if isinstance(message, str) else bytes(message)
                await self.handle_message(data)
                # A cancel lost inside a Redis call would leave this loop waiting on a
                # quiet socket for ever (yure.aio.raise_if_cancelling).
                raise_if_cancelling()

    async def run(self) -> None:
        """Stay connected until cancelled, reconnecting with backoff."""
        backoff = Backoff(base_s=RECONNECT_BASE_S, cap_s=RECONNECT_CAP_S, rng=self._rng)
        while True:
            raise_if_cancelling()
            started = self._clock()
            try:
                await self._session()
                reason = "closed"
            except (OSError, TimeoutError, WebSocketException) as err:
                reason = repr(err)
            finally:
                self.connected = False
            if self._clock() - started >= HEALTHY_CONNECTION_S:
                backoff.reset()
            delay = backoff.next_delay()
            logger.warning(
                "p2p_disconnected reason=%s failures=%d retry_in_s=%.1f",
                reason, backoff.failures, delay,
            )  # fmt: skip
            raise_if_cancelling()
            await self._sleep(delay)
