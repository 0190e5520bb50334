"""JmaPoller: JMA's Atom feeds → telegrams → ledger → sink (aiohttp driver).

Each poll (``settings.poll_interval_s``; JMA refreshes the high-frequency feed every
minute) fetches ``settings.jma_feeds`` with a conditional GET, and — at start-up and
for an hour after any gap longer than :data:`BACKFILL_GAP_S` — also
``settings.jma_backfill_feeds`` (the long feed, refreshed hourly, lists the last few
days). New entries are handled oldest first, short feed before long feed: each
telegram URL is fetched (once, unless a crash falls between publishing it and marking it
seen; seen ids live in Redis, :mod:`ingest.seen`), parsed
(:func:`ingest.telegram.parse_telegram`), given its :class:`~ingest.event.Provenance`
and settled through the ledger. A document that cannot be used is logged, kept aside
(:mod:`ingest.quarantine`) and marked seen; a fetch that failed for a transient reason
is retried on later polls, up to :data:`MAX_TELEGRAM_ATTEMPTS` times. Feed failures
make :meth:`JmaPoller.poll_once` raise, and :meth:`JmaPoller.run` backs off.
Everything about the policy is in docs/ingest.md.
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

import aiohttp

from yure.aio import raise_if_cancelling
from yure.backoff import Backoff
from yure.ingest.errors import FeedError, TelegramError
from yure.ingest.event import Event, Provenance, Source
from yure.ingest.feed import MAX_FEED_BYTES, FeedEntry, parse_feed
from yure.ingest.fetch import FetchError, Validators, fetch, same_host
from yure.ingest.ledger import VerdictCounters
from yure.ingest.quarantine import Quarantine, quarantine_dir
from yure.ingest.seen import SeenStore, Sink
from yure.ingest.telegram import MAX_TELEGRAM_BYTES, parse_telegram
from yure.settings import Settings

logger = logging.getLogger(__name__)

#: Seen-store namespace of JMA feed entries.
NAMESPACE = "jma"
#: A gap between successful polls longer than this means the short feed (≥ 10 min of
#: entries) may have moved past something: backfill from the long feed.
BACKFILL_GAP_S = 300.0
#: After start-up or a gap, keep reading the long feed this long: it is refreshed only
#: hourly, so what was missed may appear in it up to an hour later.
BACKFILL_WINDOW_S = 3900.0
#: While backfilling, the long feed is fetched (conditionally) at most this often.
BACKFILL_EVERY_S = 300.0
#: Telegrams fetched per poll at most; the rest wait for the next poll so that the
#: short feed keeps being read during a large backfill.
MAX_TELEGRAMS_PER_POLL = 200
#: Transient failures of one telegram before it is given up (and marked seen).
MAX_TELEGRAM_ATTEMPTS = 5
#: Ceiling of the wait after a failed poll, in seconds; the poll interval is the other
#: ceiling. A failed poll is retried after a jittered ``[ceiling / 2, ceiling]``: never
#: later than a normal poll, so items flow within one interval of JMA recovering (it used
#: to back off to 300 s); never sooner than half of it, so a failing JMA is not hammered
#: (and only the lease holder polls).
MAX_BACKOFF_S = 60.0


@dataclasses.dataclass
class PollerCounters(VerdictCounters):
    """Monotonic counters for metrics (the ledger's verdicts, and these)."""

    polls: int = 0
    not_modified: int = 0
    telegrams: int = 0
    errors: int = 0
    quarantined: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class _Candidate:
    entry: FeedEntry
    feed_url: str


class JmaPoller:
    """Polls JMA's feeds and publishes each new official telegram once."""

    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession,
        store: SeenStore,
        sink: Sink,
        *,
        quarantine: Quarantine | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.session = session
        self.store = store
        self.sink = sink
        self.quarantine = quarantine or Quarantine(quarantine_dir(settings.data_dir))
        self.counters = PollerCounters()
        #: When the last poll that read every short feed finished, in unix seconds (``clock``
        #: is wall time: it also stamps ``received_at``, and /healthz compares it with now).
        self.last_success_at: float | None = None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._validators: dict[str, Validators] = {}
        self._attempts: dict[str, int] = {}
        self._backfill_until: float | None = None
        self._backfill_fetched_at: float | None = None
        self._pending_validators: dict[str, Validators] = {}
        self._budget = MAX_TELEGRAMS_PER_POLL

    # --- feeds ---------------------------------------------------------------------

    def _feeds_to_read(self, now: float) -> tuple[tuple[str, ...], tuple[str, ...]]:
        last = self.last_success_at
        if last is None or now - last > BACKFILL_GAP_S:
            if self._backfill_until is None or now > self._backfill_until:
                logger.info("backfill_start gap_s=%s", "start" if last is None else now - last)
                self._backfill_fetched_at = None
            self._backfill_until = now + BACKFILL_WINDOW_S
        backfill: tuple[str, ...] = ()
        due = self._backfill_fetched_at is None or now - self._backfill_fetched_at >= (
            BACKFILL_EVERY_S
        )
        if self._backfill_until is not None and now <= self._backfill_until and due:
            backfill = self.settings.jma_backfill_feeds
        return self.settings.jma_feeds, backfill

    async def _read_feed(self, url: str) -> tuple[FeedEntry, ...] | None:
        """Entries of the feed at ``url``; None when it did not change (304).

        Raises:
            FeedError: fetch or parse failed.
        """
        fetched = await fetch(
            self.session,
            url,
            max_bytes=MAX_FEED_BYTES,
            timeout_s=self.settings.http_timeout_s,
            validators=self._validators.get(url),
        )
        if fetched.not_modified:
            self.counters.not_modified += 1
            return None
        feed = parse_feed(fetched.body)
        for reason in feed.skipped:
            logger.warning("feed_entry_skipped feed=%s reason=%s", url, reason)
        if feed.truncated:
            logger.warning("feed_truncated feed=%s dropped=%d", url, feed.truncated)
        self._validators.pop(url, None)
        self._pending_validators[url] = fetched.validators
        return feed.entries

    # --- telegrams -----------------------------------------------------------------

    async def _give_up(self, candidate: _Candidate, reason: str, data: bytes | None) -> None:
        entry = candidate.entry
        self.counters.errors += 1
        logger.warning(
            "telegram_refused url=%s type=%s reason=%s", entry.url, entry.type_code, reason
        )
        kept = data and await self.quarantine.keep(data, origin=entry.url, reason=reason)
        if kept:
            self.counters.quarantined += 1
        await self.store.commit(NAMESPACE, entry.id)
        self._attempts.pop(entry.id, None)

    async def _fetch_telegram(self, candidate: _Candidate) -> bytes | None:
        entry = candidate.entry
        try:
            fetched = await fetch(
                self.session,
                entry.url,
                max_bytes=MAX_TELEGRAM_BYTES,
                timeout_s=self.settings.http_timeout_s,
            )
        except FetchError as err:
            attempts = self._attempts.get(entry.id, 0) + 1
            if err.permanent or attempts >= MAX_TELEGRAM_ATTEMPTS:
                await self._give_up(candidate, str(err), err.body)
            else:
                self._attempts[entry.id] = attempts
                self.counters.errors += 1
                logger.warning(
                    "telegram_fetch_failed url=%s attempt=%d error=%s", entry.url, attempts, err
                )
            return None
        return fetched.body

    def _with_provenance(self, event: Event, url: str, data: bytes) -> Event:
        provenance = Provenance(
            source=Source.JMA,
            source_url=url,
            sha256=hashlib.sha256(data).hexdigest(),
            received_at=datetime.fromtimestamp(self._clock(), UTC),
        )
        return dataclasses.replace(event, provenance=provenance)

    async def _handle(self, candidate: _Candidate) -> bool:
        """Fetch, parse and settle one entry. Returns False when it stays pending."""
        entry = candidate.entry
        if not same_host(candidate.feed_url, entry.url):
            await self._give_up(candidate, "telegram URL not on the feed's host", None)
            return True
        data = await self._fetch_telegram(candidate)
        if data is None:
            return entry.id not in self._attempts
        try:
            event = parse_telegram(data, file_name=entry.file_name)
        except TelegramError as err:
            await self._give_up(candidate, f"not a usable telegram: {err}", data)
            return True
        self.counters.telegrams += 1
        self._attempts.pop(entry.id, None)
        event = self._with_provenance(event, entry.url, data)
        decision = await self.store.settle(
            event, namespace=NAMESPACE, item_id=entry.id, sink=self.sink
        )
        self.counters.count(decision.verdict)
        logger.info(
            "telegram url=%s type=%s event_id=%s serial=%s info=%s verdict=%s",
            entry.url, event.type_code, event.event_id, event.serial,
            event.info_type.value, decision.verdict.value,
        )  # fmt: skip
        return True

    # --- polls ---------------------------------------------------------------------

    async def _collect(
        self, urls: tuple[str, ...], failures: list[str]
    ) -> list[tuple[str, tuple[FeedEntry, ...]]]:
        found: list[tuple[str, tuple[FeedEntry, ...]]] = []
        for url in urls:
            try:
                entries = await self._read_feed(url)
            except FeedError as err:
                self.counters.errors += 1
                failures.append(url)
                logger.warning("feed_failed url=%s error=%s", url, err)
                continue
            if entries is not None:
                found.append((url, entries))
        return found

    async def _settle_feed(
        self, url: str, entries: tuple[FeedEntry, ...], handled: set[str], oldest_kept: float
    ) -> bool:
        """Handle the new entries of one feed; True when none is left pending."""
        fresh = [e for e in entries if e.id not in handled and e.updated.timestamp() >= oldest_kept]
        handled.update(e.id for e in fresh)
        seen = await self.store.seen_among(NAMESPACE, [e.id for e in fresh])
        complete = True
        for entry, already in zip(fresh, seen, strict=True):
            if already:
                continue
            if self._budget <= 0:
                return False
            self._budget -= 1
            complete = await self._handle(_Candidate(entry, url)) and complete
        return complete

    async def poll_once(self) -> None:
        """Read the feeds once and settle every new entry (up to the per-poll cap).

        Raises:
            FeedError: a high-frequency feed could not be read (the others were).
            StoreError: Redis failed; Exception: the sink failed (the item stays
                unseen and is retried by the next poll).
        """
        self.counters.polls += 1
        now = self._clock()
        short, backfill = self._feeds_to_read(now)
        self._pending_validators = {}
        self._budget = MAX_TELEGRAMS_PER_POLL
        short_failures: list[str] = []
        backfill_failures: list[str] = []
        feeds = await self._collect(short, short_failures)
        feeds += await self._collect(backfill, backfill_failures)
        oldest_kept = now - self.settings.retention_s
        handled: set[str] = set()
        backfill_complete = not backfill_failures
        for url, entries in feeds:
            complete = await self._settle_feed(url, entries, handled, oldest_kept)
            if complete and url in self._pending_validators:
                # Only a feed whose every entry was handled may answer 304 next time.
                self._validators[url] = self._pending_validators[url]
            if url in backfill and not complete:
                backfill_complete = False
        if backfill and backfill_complete:
            self._backfill_fetched_at = now
        if short_failures:
            raise FeedError(f"feeds failed: {', '.join(short_failures)}")
        self.last_success_at = self._clock()

    async def run(self) -> None:
        """Poll until cancelled; after a failure wait a jittered delay no longer than the
        interval nor :data:`MAX_BACKOFF_S`."""
        interval = self.settings.poll_interval_s
        ceiling = min(interval, MAX_BACKOFF_S)
        backoff = Backoff(base_s=ceiling, cap_s=ceiling, rng=self._rng)
        while True:
            raise_if_cancelling()
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # never die: log, back off, try again
                delay = backoff.next_delay()
                logger.warning(
                    "poll_failed failures=%d retry_in_s=%.1f error=%r", backoff.failures, delay, err
                )
            else:
                backoff.reset()
                delay = interval
            raise_if_cancelling()
            await self._sleep(delay)
