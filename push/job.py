"""The delivery job: timeline entries in, pushes out, durably. Driver module.

Runs under the Redis lease ``yure:lease:push`` (one holder per deployment; see
:func:`yure.push.service.run_delivery`). State in Redis, under ``{yure:push}``:

* ``:cursor`` — the last timeline entry taken on; entries after it are new;
* ``:pending`` — sorted set of entries taken on but not finished (score: append ms);
  taking an entry on adds it here and moves the cursor in one transaction;
* ``:done:<entry>`` — subscriptions finished for that entry (delivered, gone, rejected
  or given up), written as answers come in; deleted with the entry's ``pending`` mark;
* ``:topic:<topic>`` — subscriptions that were sent this topic: a 取消/訂正 goes to them.

After a restart the new holder resumes every pending entry and skips the
subscriptions in its ``done`` set, so nothing is lost and nothing finished is sent
again. On cancellation (shutdown, lost lease) no new request starts; requests already
sent get :data:`~yure.push.limits.DRAIN_TIMEOUT_S` to answer and are recorded. Only a
hard crash between a request and its record can repeat a push — with the same
``Topic``, so the push service replaces the first copy rather than showing two.

A subscription is retried on 5xx, timeouts and 429 (after ``Retry-After``), with
``yure.backoff`` between tries, up to :data:`~yure.push.limits.MAX_ATTEMPTS` and never
past the message's TTL; 404/410 delete the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable

import redis.asyncio
import redis.exceptions

from yure.aio import raise_if_cancelling
from yure.backoff import Backoff
from yure.broadcast.envelope import Entry, parse_stream_id
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.ingest.event import InfoType
from yure.push.alert import Alert, Message, alert_from_entry, message_of
from yure.push.encryptor import Encryptor, InlineEncryptor
from yure.push.errors import PushError, StoreError
from yure.push.limits import (
    DRAIN_TIMEOUT_S,
    FANOUT_BATCH,
    MAX_ATTEMPTS,
    MAX_ENTRIES_IN_FLIGHT,
    READ_BLOCK_MS,
    READ_ENTRIES,
    RECORD_BATCH,
    RETRY_BASE_S,
    RETRY_CAP_S,
)
from yure.push.match import should_push
from yure.push.prefs import MINUTES_PER_DAY
from yure.push.sender import Outcome, PushSender, Result, Target
from yure.push.store import PREFIX, SubscriptionStore

log = logging.getLogger(__name__)

CURSOR_KEY = PREFIX + ":cursor"
PENDING_KEY = PREFIX + ":pending"
#: Subscriptions being delivered to at once per entry (sleeping retries included).
MAX_LIVE_TARGETS = 8192
#: Japan Standard Time is UTC+9 all year (no daylight saving).
JST_OFFSET_S = 9 * 3600
#: Pause after Redis or the timeline failed in the reader.
READER_RETRY_S = 1.0


def done_key(entry_id: str) -> str:
    """The set of subscriptions finished for one entry."""
    return f"{PREFIX}:done:{entry_id}"


def topic_key(topic: str) -> str:
    """The set of subscriptions that were sent ``topic``."""
    return f"{PREFIX}:topic:{topic}"


def minute_of_day_jst(now_s: float) -> int:
    """The minute of the day in Japan (0..1439) at unix time ``now_s``."""
    return int((now_s + JST_OFFSET_S) // 60) % MINUTES_PER_DAY


@dataclasses.dataclass
class DeliveryStats:
    """Counts of one entry's delivery (logged when it finishes)."""

    delivered: int = 0
    gone: int = 0
    rejected: int = 0
    given_up: int = 0
    retries: int = 0


class DeliveryJob:
    """Follows the timeline and delivers each pushable entry to its subscribers."""

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        timeline: Timeline,
        store: SubscriptionStore,
        sender: PushSender,
        *,
        concurrency: int,
        retention_s: int,
        encryptor: Encryptor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.encryptor: Encryptor = encryptor or InlineEncryptor()
        self.timeline = timeline
        self.store = store
        self.sender = sender
        self.retention_s = retention_s
        self.clock = clock
        self._requests = asyncio.Semaphore(concurrency)
        self._slots = asyncio.Semaphore(MAX_ENTRIES_IN_FLIGHT)
        self._deliveries: set[asyncio.Task[None]] = set()
        #: The newest delivery per topic: a later entry of the same topic (a 取消 after
        #: its original) starts only when it has finished, so it sees who got the first.
        self._by_topic: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        """Resume unfinished entries, then follow the timeline until cancelled."""
        try:
            cursor = await self._start()
            while True:
                raise_if_cancelling()
                try:
                    cursor = await self._take_on(cursor)
                except (TimelineError, StoreError, redis.exceptions.RedisError) as err:
                    log.warning("push reader failed error=%s", err)
                    await asyncio.sleep(READER_RETRY_S)
        finally:
            await self._stop_deliveries()

    async def _start(self) -> str:
        cursor_raw = await self.redis.get(CURSOR_KEY)
        if cursor_raw is None:
            # First start: push what comes from now on, not the retained history.
            cursor = await self.timeline.last_id()
            await self.redis.set(CURSOR_KEY, cursor)
            log.info("push cursor started at=%s", cursor)
        else:
            cursor = _text(cursor_raw)
        pending: list[bytes] = await self.redis.zrange(PENDING_KEY, 0, -1)  # type: ignore[assignment]
        for raw in pending:
            entry_id = _text(raw)
            entry = await self.timeline.get(entry_id)
            if entry is None:
                await self._finish(entry_id)
                continue
            log.info("push resumes entry=%s", entry_id)
            await self._start_delivery(entry)
        return cursor

    async def _take_on(self, cursor: str) -> str:
        entries = await self.timeline.read_live(cursor, count=READ_ENTRIES, block_ms=READ_BLOCK_MS)
        if not entries:
            return cursor
        pushable = [e for e in entries if alert_from_entry(e) is not None]
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry in pushable:
                pipe.zadd(PENDING_KEY, {entry.id: parse_stream_id(entry.id)[0]})
            pipe.set(CURSOR_KEY, entries[-1].id)
            await pipe.execute()
        for entry in pushable:
            await self._start_delivery(entry)
        return entries[-1].id

    async def _start_delivery(self, entry: Entry) -> None:
        alert = alert_from_entry(entry)
        topic = "" if alert is None else message_of(alert).topic
        before = self._by_topic.get(topic)
        await self._slots.acquire()
        task = asyncio.create_task(self._deliver_released(entry, before), name=f"push:{entry.id}")
        self._deliveries.add(task)
        self._by_topic[topic] = task

        def forget(done: asyncio.Task[None]) -> None:
            self._deliveries.discard(done)
            if self._by_topic.get(topic) is done:
                del self._by_topic[topic]

        task.add_done_callback(forget)

    async def _deliver_released(self, entry: Entry, before: asyncio.Task[None] | None) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])
            backoff = Backoff(base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    await self.deliver(entry)
                    return
                except (PushError, TimelineError, redis.exceptions.RedisError) as err:
                    # What was finished is recorded: another try sends only the rest.
                    log.error(
                        "push delivery failed entry=%s attempt=%s error=%s", entry.id, attempt, err
                    )
                    await asyncio.sleep(backoff.next_delay())
            # Still pending: the next holder of the lease (or a restart) resumes it.
        finally:
            self._slots.release()

    async def _stop_deliveries(self) -> None:
        tasks = list(self._deliveries)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def deliver(self, entry: Entry) -> DeliveryStats:
        """Deliver one entry to every subscription it concerns that has not had it.

        Raises:
            StoreError, TimelineError, RedisError: Redis failed; the entry stays pending.
        """
        alert = alert_from_entry(entry)
        if alert is None:
            await self._finish(entry.id)
            return DeliveryStats()
        message = message_of(alert)
        started = time.monotonic()
        fanout = _Fanout(self, entry, alert, message)
        try:
            await fanout.run()
        except BaseException:
            # Cancelled, or Redis failed: no request may outlive this delivery.
            await fanout.drain()
            raise
        await fanout.recorder.flush()
        await self._finish(entry.id)
        stats = fanout.stats
        log.info(
            "push delivered entry=%s kind=%s delivered=%s gone=%s rejected=%s given_up=%s "
            "retries=%s duration_s=%.2f",
            entry.id,
            alert.kind.value,
            stats.delivered,
            stats.gone,
            stats.rejected,
            stats.given_up,
            stats.retries,
            time.monotonic() - started,
        )
        return stats

    async def _finish(self, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(PENDING_KEY, entry_id)
            pipe.delete(done_key(entry_id))
            await pipe.execute()


class _Fanout:
    """One entry's delivery: find the targets, send, retry, record."""

    def __init__(self, job: DeliveryJob, entry: Entry, alert: Alert, message: Message) -> None:
        self.job = job
        self.entry = entry
        self.alert = alert
        self.message = message
        appended_s = parse_stream_id(entry.id)[0] / 1000
        self.deadline_s = appended_s + message.ttl_s
        self.stats = DeliveryStats()
        self.stopping = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.window = asyncio.Semaphore(MAX_LIVE_TARGETS)
        self.recorder = _Recorder(job, entry.id, message.topic)

    async def run(self) -> None:
        done = {_text(m) for m in await self.job.redis.smembers(done_key(self.entry.id))}
        earlier = set()
        if self.alert.retracts:
            earlier = {
                _text(m) for m in await self.job.redis.smembers(topic_key(self.message.topic))
            }
        matching: list[str] = []
        if self.alert.info_type is not InfoType.CANCELLED:
            matching = await self.job.store.candidates(self.alert.prefs)
        minute = minute_of_day_jst(self.job.clock())
        ids = sorted((set(matching) | earlier) - done)
        for start in range(0, len(ids), FANOUT_BATCH):
            subs = [
                sub
                for sub in await self.job.store.load(ids[start : start + FANOUT_BATCH])
                if sub.id in earlier or should_push(sub.filter, self.alert, minute)
            ]
            bodies = await self.job.encryptor.encrypt(
                self.message.payload, [(sub.p256dh, sub.auth) for sub in subs]
            )
            for sub, body in zip(subs, bodies, strict=True):
                if body is None:
                    log.warning("push subscription has unusable keys id=%s", sub.id)
                    continue
                await self._spawn(Target(sub.id, sub.endpoint, body))
        # asyncio.wait, not gather: a cancel must not reach requests in flight (drain).
        if self.tasks:
            finished, _ = await asyncio.wait(list(self.tasks))
            for task in finished:
                error = task.exception()
                if error is not None:
                    raise error

    async def _spawn(self, target: Target) -> None:
        await self.window.acquire()
        task = asyncio.create_task(self._one(target))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _one(self, target: Target) -> None:
        try:
            backoff: Backoff | None = None  # made on the first retry: most never need one
            for attempt in range(1, MAX_ATTEMPTS + 1):
                if self.stopping.is_set():
                    return
                ttl_s = int(self.deadline_s - self.job.clock())
                if ttl_s <= 0:
                    break
                async with self.job._requests:
                    if self.stopping.is_set():
                        return
                    result = await self.job.sender.send(target, self.message, ttl_s=ttl_s)
                if result.outcome is not Outcome.RETRY:
                    await self.recorder.add(target.sub_id, result)
                    self._count(result)
                    return
                if attempt == MAX_ATTEMPTS:
                    break
                self.stats.retries += 1
                backoff = backoff or Backoff(base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
                delay = backoff.next_delay()
                if result.retry_after_s is not None:
                    delay = max(delay, result.retry_after_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)
            if self.stopping.is_set():
                return
            self.stats.given_up += 1
            log.warning("push gave up entry=%s sub=%s", self.entry.id, target.sub_id)
            await self.recorder.add(target.sub_id, Result(Outcome.REJECTED))
        finally:
            self.window.release()

    def _count(self, result: Result) -> None:
        if result.outcome is Outcome.DELIVERED:
            self.stats.delivered += 1
        elif result.outcome is Outcome.GONE:
            self.stats.gone += 1
        else:
            self.stats.rejected += 1

    async def drain(self) -> None:
        """On cancellation: start nothing new, let requests in flight answer (bounded),
        record what they said."""
        self.stopping.set()
        if self.tasks:
            _, late = await asyncio.wait(list(self.tasks), timeout=DRAIN_TIMEOUT_S)
            for task in late:
                task.cancel()
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT_S):
                await self.recorder.flush()
        except (TimeoutError, PushError, redis.exceptions.RedisError) as err:
            log.warning("push results not recorded entry=%s error=%r", self.entry.id, err)


class _Recorder:
    """Writes finished subscriptions to Redis in batches."""

    def __init__(self, job: DeliveryJob, entry_id: str, topic: str) -> None:
        self.job = job
        self.entry_id = entry_id
        self.topic = topic
        self.done: list[str] = []
        self.delivered: list[str] = []
        self.gone: list[str] = []
        self._lock = asyncio.Lock()

    async def add(self, sub_id: str, result: Result) -> None:
        self.done.append(sub_id)
        if result.outcome is Outcome.DELIVERED:
            self.delivered.append(sub_id)
        elif result.outcome is Outcome.GONE:
            self.gone.append(sub_id)
        if len(self.done) >= RECORD_BATCH:
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            done, delivered, gone = self.done, self.delivered, self.gone
            self.done, self.delivered, self.gone = [], [], []
            if not done:
                return
            await self._write(done, delivered)
            if gone:
                await self.job.store.delete(*gone)
                log.info("push removed gone subscriptions count=%s", len(gone))

    async def _write(self, done: Iterable[str], delivered: list[str]) -> None:
        async with self.job.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(done_key(self.entry_id), *done)
            pipe.expire(done_key(self.entry_id), self.job.retention_s)
            if delivered:
                pipe.sadd(topic_key(self.topic), *delivered)
                pipe.expire(topic_key(self.topic), self.job.retention_s)
            await pipe.execute()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
