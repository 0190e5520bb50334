"""What ingest has already handled, kept in Redis so that a restart repeats nothing.

Two kinds of state (driver module; the decisions are :mod:`ingest.ledger`'s):

* seen items per source — ``{prefix}:seen:{namespace}``, a sorted set of item ids (JMA
  feed entry ids = telegram URLs; P2P ``id``\\ s) scored by when they were handled, pruned
  after :data:`SEEN_RETENTION_S`;
* ledger streams — ``{prefix}:stream:{stream}``, the newest item's key and rank
  (:class:`~ingest.ledger.StreamState`), expiring after :data:`SEEN_RETENTION_S`.

:meth:`SeenStore.settle` is the one place where an item goes through the ledger: under a
per-stream lock it reads the stream, decides, hands a publication to the sink, and only
*then* marks the item seen and stores the new stream state, in one MULTI. A crash
between the sink and that commit leaves the item unseen: it is fetched again, decided
again from the same state, and published again with the same key, which the timeline
ignores.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import redis.asyncio
from redis.exceptions import RedisError

from yure.aio import bounded_call
from yure.ingest.errors import IngestError
from yure.ingest.event import Event
from yure.ingest.ledger import (
    Decision,
    Publication,
    StreamState,
    decide,
    decode_state,
    encode_state,
)
from yure.ingest.merge import identify

logger = logging.getLogger(__name__)

#: How long seen ids and stream states are kept: more than the long feed's "last few
#: days", so nothing it still lists is fetched twice.
SEEN_RETENTION_S = 8 * 24 * 3600
#: Deadline of one Redis round trip.
STORE_TIMEOUT_S = 5.0
#: Pruning of old seen ids runs at most this often.
PRUNE_EVERY_S = 600.0
#: Ids checked per round trip by :meth:`SeenStore.seen_among`.
SEEN_BATCH = 500
#: Striped locks serialise items of one stream within this process.
LOCK_STRIPES = 64

Sink = Callable[[Publication], Awaitable[None]]


class StoreError(IngestError):
    """Redis did not answer or answered nonsense."""


class SeenStore:
    """Seen ids and ledger streams in Redis, under ``prefix``."""

    def __init__(
        self,
        redis_client: redis.asyncio.Redis,
        *,
        prefix: str = "{yure:ingest}",
        retention_s: float = SEEN_RETENTION_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._retention_s = retention_s
        self._clock = clock
        self._locks = tuple(asyncio.Lock() for _ in range(LOCK_STRIPES))
        self._pruned_at: dict[str, float] = {}

    def _seen_key(self, namespace: str) -> str:
        return f"{self._prefix}:seen:{namespace}"

    def _stream_key(self, stream: str) -> str:
        return f"{self._prefix}:stream:{stream}"

    def lock(self, stream: str) -> asyncio.Lock:
        """The lock that serialises ``stream`` (shared by every driver of this store)."""
        return self._locks[zlib.crc32(stream.encode()) % LOCK_STRIPES]

    async def is_seen(self, namespace: str, item_id: str) -> bool:
        """Whether ``item_id`` of ``namespace`` was handled already.

        Raises:
            StoreError: Redis failed.
        """
        try:
            score = await bounded_call(
                self._redis.zscore(self._seen_key(namespace), item_id), STORE_TIMEOUT_S
            )
        except (RedisError, TimeoutError, OSError) as err:
            raise StoreError(f"is_seen failed: {err!r}") from err
        return score is not None

    async def seen_among(self, namespace: str, item_ids: list[str]) -> list[bool]:
        """For each of ``item_ids``, whether it was handled already (one round trip per
        :data:`SEEN_BATCH` ids).

        Raises:
            StoreError: Redis failed.
        """
        found: list[bool] = []
        try:
            for start in range(0, len(item_ids), SEEN_BATCH):
                batch = item_ids[start : start + SEEN_BATCH]
                scores = await bounded_call(
                    self._redis.zmscore(self._seen_key(namespace), batch), STORE_TIMEOUT_S
                )
                found.extend(score is not None for score in scores)
        except (RedisError, TimeoutError, OSError) as err:
            raise StoreError(f"seen_among failed: {err!r}") from err
        return found

    async def load_state(self, stream: str) -> StreamState | None:
        """The newest item of ``stream``, None when unknown or unreadable (logged).

        Raises:
            StoreError: Redis failed.
        """
        try:
            raw = await bounded_call(self._redis.get(self._stream_key(stream)), STORE_TIMEOUT_S)
        except (RedisError, TimeoutError, OSError) as err:
            raise StoreError(f"load_state failed: {err!r}") from err
        if raw is None:
            return None
        try:
            return decode_state(raw if isinstance(raw, bytes) else raw.encode())
        except IngestError as err:
            logger.warning("stream_state_unreadable stream=%s error=%s", stream, err)
            return None

    async def commit(
        self, namespace: str, item_id: str, *, stream: str | None = None,
        state: StreamState | None = None,
    ) -> None:  # fmt: skip
        """Mark ``item_id`` seen and, when given, store ``state`` for ``stream``, atomically.

        Raises:
            StoreError: Redis failed (nothing was written).
        """
        now = self._clock()

        async def write() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(self._seen_key(namespace), {item_id: now})
                if stream is not None and state is not None:
                    ttl = max(1, int(self._retention_s))
                    pipe.set(self._stream_key(stream), encode_state(state), ex=ttl)
                await pipe.execute()
            if now - self._pruned_at.get(namespace, -PRUNE_EVERY_S) >= PRUNE_EVERY_S:
                self._pruned_at[namespace] = now
                await self._redis.zremrangebyscore(
                    self._seen_key(namespace), "-inf", now - self._retention_s
                )

        try:
            await bounded_call(write(), STORE_TIMEOUT_S)
        except (RedisError, TimeoutError, OSError) as err:
            raise StoreError(f"commit failed: {err!r}") from err

    async def settle(
        self,
        event: Event,
        *,
        namespace: str,
        item_id: str,
        sink: Sink,
        partial: bool = False,
    ) -> Decision:
        """Run ``event`` through the ledger; publish through ``sink``; then mark it seen.
        The ledger ranks it no later than its ``provenance.received_at`` (else now).

        Raises:
            StoreError: Redis failed (the item stays unseen and will be tried again).
            Exception: whatever ``sink`` raised (likewise).
        """
        identity = identify(event, partial=partial)
        provenance = event.provenance
        received_at = (
            provenance.received_at
            if provenance is not None and provenance.received_at is not None
            else datetime.fromtimestamp(self._clock(), UTC)
        )
        async with self.lock(identity.stream):
            state = await self.load_state(identity.stream)
            decision = decide(state, event, identity.key, received_at=received_at)
            if decision.publication is not None:
                await sink(decision.publication)
            await self.commit(
                namespace,
                item_id,
                stream=identity.stream if decision.changed else None,
                state=decision.state if decision.changed else None,
            )
        if decision.future_dated:
            logger.warning(
                "future_dated source=%s id=%s reported_at=%s received_at=%s verdict=%s",
                namespace, item_id, event.reported_at.isoformat(), received_at.isoformat(),
                decision.verdict.value,
            )  # fmt: skip
        logger.debug(
            "settled source=%s id=%s key=%s verdict=%s",
            namespace, item_id, identity.key, decision.verdict.value,
        )  # fmt: skip
        return decision
