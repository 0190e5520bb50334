""" "揺れた" reports: count them per prefecture in Redis and publish aggregates (driver).

The grouping rules are pure (:mod:`safety_check.felt`); this module keeps each prefecture's
current burst in Redis (so every worker process counts into the same burst), counts a
voice (a network, an account or a cohort of accounts: :mod:`.voices`) once per burst,
and publishes aggregates to the public timeline: at once for the first report, then at
most every ``felt_publish_interval_s`` (a background flusher picks up growth that arrived
in between). Relayed P2P地震情報 561 records enter through :meth:`FeltReports.add_p2p`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import orjson
from redis.asyncio.client import Pipeline

from yure.backoff import Backoff
from yure.broadcast.envelope import Envelope
from yure.broadcast.errors import BroadcastError, TimelineError
from yure.broadcast.timeline import Timeline
from yure.ingest.event import Kind
from yure.safety_check import keys, store, wire
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.errors import SafetyCheckError
from yure.safety_check.events import CurrentEvents
from yure.safety_check.felt import (
    FeltBurst,
    FeltSource,
    add_report,
    mark_published,
    publication_due,
)
from yure.safety_check.text import validate_pref

log = logging.getLogger(__name__)

#: A burst's state is kept this many quiet gaps after its last report, then Redis drops it.
STATE_KEEP_GAPS = 10
#: An official event is linked to a burst when issued no earlier than this before it began.
EVENT_LEAD_S = 600.0
#: Flusher backoff after a failure: capped exponential with jitter (yure.backoff).
FLUSH_BACKOFF_MAX_S = 30.0


def burst_to_json(burst: FeltBurst) -> bytes:
    """The stored form of a burst."""
    return orjson.dumps(dataclasses.asdict(burst))


def burst_from_json(raw: Any) -> FeltBurst | None:
    """A stored burst (None for None or a value that is not one)."""
    if raw is None:
        return None
    try:
        obj = orjson.loads(raw)
        return FeltBurst(**obj)
    except (orjson.JSONDecodeError, TypeError):
        return None


class FeltReports:
    """Felt-report counting and publication."""

    def __init__(
        self,
        redis: store.Redis,
        *,
        timeline: Timeline,
        events: CurrentEvents,
        config: SafetyConfig,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._timeline = timeline
        self._events = events
        self._config = config
        self._clock = clock

    async def report(
        self,
        pref: str,
        *,
        source: FeltSource,
        voice: tuple[str, ...] | None,
        at: float | None = None,
    ) -> FeltBurst | None:
        """Count one report and publish when due. A user report carries its ``voice``
        tokens (:mod:`.voices`) and is counted only if none of them was counted in this
        burst yet; a P2P record (``voice`` None) always counts. Returns the burst as it is
        now, or None for a stale P2P record.

        Raises:
            StoreError: Redis failed.
        """
        at = self._clock() if at is None else at
        cfg = self._config
        state_key = keys.felt(pref)
        keep_ms = store.ms(cfg.felt_gap_s * STATE_KEEP_GAPS)

        async def body(pipe: Pipeline) -> FeltBurst | None:
            burst = burst_from_json(await pipe.get(state_key))
            grown = add_report(burst, pref=pref, source=source, at=at, gap_s=cfg.felt_gap_s)
            if grown is None:
                return None
            voices_key = keys.felt_voices(grown.key)
            if voice is not None:
                await pipe.watch(voices_key)
                counted = await pipe.smismember(voices_key, list(voice))
                if burst is not None and grown.key == burst.key and any(counted):
                    return burst
            store.begin(pipe)
            pipe.set(state_key, burst_to_json(grown), px=keep_ms)
            if voice is not None:
                pipe.sadd(voices_key, *voice)
                pipe.pexpire(voices_key, keep_ms)
            pipe.sadd(keys.FELT_DIRTY, pref)
            return grown

        burst = await store.transaction(
            self._redis, [state_key], body, timeout_s=cfg.redis_timeout_s
        )
        if burst is not None:
            await self.flush_pref(pref)
        return burst

    async def add_p2p(self, pref: str, at: float) -> FeltBurst | None:
        """Count one P2P地震情報 561 record (its area already mapped to ``pref``, ``at`` its
        POSIX time). The poller dedupes records by their ``id``.

        Raises:
            InvalidInput: ``pref`` is not a JIS prefecture code.
            StoreError: Redis failed.
        """
        return await self.report(validate_pref(pref), source=FeltSource.P2P, voice=None, at=at)

    async def flush_pref(self, pref: str) -> bool:
        """Publish ``pref``'s burst if it has growth due; True when something was published.

        Raises:
            StoreError: Redis failed.
        """
        cfg = self._config
        timeout = cfg.redis_timeout_s
        burst = burst_from_json(await store.call(self._redis.get(keys.felt(pref)), timeout))
        now = self._clock()
        if burst is None or burst.total <= burst.published_total:
            await store.call(self._redis.srem(keys.FELT_DIRTY, pref), timeout)
            return False
        if not publication_due(burst, now, cfg.felt_publish_interval_s):
            return False
        event = await self._events.current(now)
        event_id = None
        if event is not None and event.occurred_at >= burst.started_at - EVENT_LEAD_S:
            event_id = event.event_id
        envelope = Envelope(
            key=burst.publication_key,
            kind=Kind.FELT,
            prefs=(burst.pref,),
            payload=wire.dumps(wire.felt_json(burst, event_id)),
            replaces=burst.previous_publication_key,
        )
        try:
            await self._timeline.append(envelope)
        except TimelineError as err:
            raise store.wrap_broadcast(err) from err
        await self._mark(pref, burst, now)
        return True

    async def _mark(self, pref: str, published: FeltBurst, now: float) -> None:
        state_key = keys.felt(pref)

        async def body(pipe: Pipeline) -> None:
            current = burst_from_json(await pipe.get(state_key))
            if current is None or current.key != published.key:
                return
            if current.published_total >= published.total:
                return
            marked = dataclasses.replace(
                mark_published(current, now), published_total=published.total
            )
            ttl = int(await pipe.pttl(state_key))
            store.begin(pipe)
            pipe.set(state_key, burst_to_json(marked), px=max(ttl, 1))
            if marked.total <= marked.published_total:
                pipe.srem(keys.FELT_DIRTY, pref)

        await store.transaction(
            self._redis, [state_key], body, timeout_s=self._config.redis_timeout_s
        )

    async def flush(self) -> int:
        """Publish every prefecture with due growth; returns how many were published.

        Raises:
            StoreError: Redis failed.
        """
        members = await store.call(
            self._redis.smembers(keys.FELT_DIRTY), self._config.redis_timeout_s
        )
        published = 0
        for pref in sorted(store.text(m) for m in members):
            if await self.flush_pref(pref):
                published += 1
        return published

    async def run(self) -> None:
        """Flush every ``felt_flush_every_s`` until cancelled; failures back off."""
        every_s = self._config.felt_flush_every_s
        backoff = Backoff(base_s=every_s, cap_s=max(every_s, FLUSH_BACKOFF_MAX_S))
        while True:  # Redis calls go through store.call: a lost cancel is raised there
            try:
                await self.flush()
                backoff.reset()
                delay = every_s
            except (SafetyCheckError, BroadcastError) as err:
                delay = backoff.next_delay()
                log.warning(
                    "felt flush failed error=%s failures=%d", type(err).__name__, backoff.failures
                )
            await asyncio.sleep(delay)
