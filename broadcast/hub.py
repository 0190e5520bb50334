"""The in-process fan-out: one timeline reader per process feeding every connection.

Driver module. The hub follows the timeline with one ``XREAD BLOCK`` loop and
dispatches each batch of entries synchronously:

* subscribers with the same filter and encoding form a *group*; the index
  (:mod:`broadcast.index`, pure) finds the groups each entry reaches;
* each entry's message is encoded once, and each distinct set of matched entries
  is encoded once into WebSocket frames / an SSE chunk (a burst for one group is
  coalesced into ``{"type":"events"}`` frames, docs/protocol.md);
* the same bytes are written to every member's transport without awaiting; the
  transport buffer is the connection's bounded send queue, checked before each
  write (:mod:`broadcast.buffers`): a client too slow is dropped and never slows
  anyone else.

A subscription replays ``(since, hub position]`` (from memory, else Redis) with the
filter, one chunk at a time as the client drains them, then joins its group in the
same event-loop step it saw it had caught up, so ids reach a connection in
increasing order, once each, none skipped.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import Gauge

from yure.backoff import Backoff
from yure.broadcast.buffers import SendBuffers
from yure.broadcast.envelope import (
    ZERO_ID,
    Entry,
    StreamId,
    format_stream_id,
    parse_stream_id,
)
from yure.broadcast.errors import TimelineError
from yure.broadcast.fanout import Encoding, Frames, Subscriber, limit_kernel_buffer, write_each
from yure.broadcast.filter import Filter, Subscribe
from yure.broadcast.frames import (
    HEARTBEAT,
    READY,
    CloseCode,
    cursor_expired_message,
    event_message,
    http_chunk,
    sse_event,
    ws_close_frame,
    ws_text_frame,
)
from yure.broadcast.index import Group, SubscriberIndex
from yure.broadcast.limits import REDIS_TIMEOUT_S, Limits
from yure.broadcast.metrics import Metrics
from yure.broadcast.recent import RecentEntries
from yure.broadcast.timeline import Timeline

log = logging.getLogger(__name__)

#: Newest entries read into memory at start (replays after a restart need no Redis).
PRELOAD_ENTRIES = 5000
#: Replays reading Redis at once (the rest wait; Redis and its pool stay responsive).
REPLAY_CONCURRENCY = 16
#: Encoded replay chunks kept for other resumes (each at most ``replay_chunk_bytes``).
REPLAY_CACHE_ENTRIES = 64
#: How long a subscription waits for the hub to reach the stream's newest entry.
CATCH_UP_TIMEOUT_S = 10.0


class Hub:
    """Fan-out of one timeline to this process's connections."""

    def __init__(self, timeline: Timeline, *, limits: Limits, metrics: Metrics) -> None:
        self.timeline = timeline
        self.limits = limits
        self.metrics = metrics
        #: id of the last entry dispatched (everything up to it reached the groups)
        self.position = ZERO_ID
        self._pos: StreamId = (0, 0)
        self._started = asyncio.Event()
        self._moved = asyncio.Event()
        self._subscribers: set[Subscriber] = set()
        self._per_peer: collections.Counter[str] = collections.Counter()
        self._index: SubscriberIndex[Subscriber] = SubscriberIndex()
        #: the newest entries, for replays without Redis
        self.recent = RecentEntries(max_age_ms=timeline.retention_s * 1000)
        self._replay_gate = asyncio.Semaphore(REPLAY_CONCURRENCY)
        self._inflight: dict[str, asyncio.Future[str]] = {}
        #: bytes waiting per connection and per address
        self.buffers = SendBuffers(limits, self._drop_slow)
        self._ws_heartbeat = ws_text_frame(HEARTBEAT)
        self._sse_heartbeat = http_chunk(sse_event(HEARTBEAT))
        self._ws_ready = ws_text_frame(READY)
        self._sse_ready = http_chunk(sse_event(READY))
        #: set when the last connection is removed, while :meth:`wait_empty` waits
        self._emptied: asyncio.Event | None = None
        #: encoded replay chunks by (first id, last id, count, filter, encoding)
        self._replay_cache: dict[tuple[str, str, int, Filter, Encoding], tuple[bytes, int]] = {}

    # -- lifetime ---------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the timeline and send heartbeats until cancelled."""
        await self._start_position()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._read_loop())
            tasks.create_task(self._heartbeat_loop())
            tasks.create_task(self.buffers.run())
            tasks.create_task(self._index_once())

    async def wait_started(self, timeout_s: float = 2 * REDIS_TIMEOUT_S) -> None:
        """Wait until the hub knows its start position.

        Raises:
            TimelineError: not started within ``timeout_s`` (Redis unreachable).
        """
        if self._started.is_set():
            return
        try:
            async with asyncio.timeout(timeout_s):
                await self._started.wait()
        except TimeoutError as err:
            raise TimelineError("timeline reader not started") from err

    def close_all(self, code: CloseCode, reason: str) -> None:
        """Close every connection (server shutdown: 1001, clients resume with since)."""
        for sub in list(self._subscribers):
            self.kick(sub, code, reason)

    async def wait_empty(self, timeout_s: float) -> bool:
        """Wait until every connection was removed (their sockets closed), at most
        ``timeout_s``; whether they were. Shutdown waits here after :meth:`close_all`:
        WebSocket connections have no request handler for the HTTP server to wait for."""
        if not self._subscribers:
            return True
        self._emptied = emptied = asyncio.Event()
        try:
            async with asyncio.timeout(timeout_s):
                await emptied.wait()
        except TimeoutError:
            return False
        finally:
            self._emptied = None
        return True

    @property
    def connection_count(self) -> int:
        return len(self._subscribers)

    @property
    def buffered_bytes(self) -> int:
        """Bytes waiting in the send buffers of this process's stream connections."""
        return sum(sub.transport.get_write_buffer_size() for sub in self._subscribers)

    # -- connections --------------------------------------------------------------------

    def admit(self, peer: str) -> bool:
        """Whether ``peer`` may open one more connection (per-address cap)."""
        return self._per_peer[peer] < self.limits.max_connections_per_ip

    def add(self, sub: Subscriber) -> None:
        """Register a new connection (it gets heartbeats; events after a subscribe)."""
        limit_kernel_buffer(sub.transport, self.limits.socket_send_buffer_bytes)
        self._subscribers.add(sub)
        self._per_peer[sub.peer] += 1
        self._gauge(sub).inc()

    def remove(self, sub: Subscriber) -> None:
        """Forget a connection (its handler ended). Idempotent."""
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._per_peer[sub.peer] -= 1
            if self._per_peer[sub.peer] <= 0:
                del self._per_peer[sub.peer]
            self._gauge(sub).dec()
            if not self._subscribers and self._emptied is not None:
                self._emptied.set()
        self._finish(sub)

    def kick(self, sub: Subscriber, code: CloseCode, reason: str) -> None:
        """Close ``sub`` from the server side.

        A slow consumer with bytes still waiting is aborted: its buffer is freed at once
        (issue 10: a kicked client's buffer was kept 5 s). Otherwise a close frame
        (WebSocket), then the socket; a client that does not read it within
        ``slow_close_grace_s`` is aborted.
        """
        if sub.closed:
            return
        self._finish(sub)
        transport = sub.transport
        if code is CloseCode.SLOW_CONSUMER and transport.get_write_buffer_size():
            transport.abort()
            return
        if transport.is_closing():
            return
        if sub.encoding is Encoding.WS:
            transport.write(ws_close_frame(code, reason))
        transport.close()
        asyncio.get_running_loop().call_later(self.limits.slow_close_grace_s, transport.abort)

    def send_message(self, sub: Subscriber, message: bytes) -> None:
        """Write one control message (ready, cursor_expired, …) to ``sub``."""
        if sub.encoding is Encoding.WS:
            self.write(sub, ws_text_frame(message))
        else:
            self.write(sub, http_chunk(sse_event(message)))

    def subscribe_now(self, sub: Subscriber, request: Subscribe) -> bool:
        """Subscribe ``sub`` in this step when that needs no wait (no ``since`` and the hub
        started): join, say ready, return True. Otherwise change nothing and return False
        (the caller awaits :meth:`subscribe`). A connect costs no task this way."""
        if request.since is not None or not self._started.is_set():
            return False
        self._leave(sub)
        sub.subscribes += 1
        sub.filter = request.filter
        if not sub.closed:
            self._join(sub, request.filter)
            self.write(sub, self._ws_ready if sub.encoding is Encoding.WS else self._sse_ready)
        return True

    async def subscribe(self, sub: Subscriber, request: Subscribe) -> None:
        """Replace ``sub``'s filter: replay after ``since`` (if given), join, say ready.

        Raises:
            TimelineError: Redis failed while replaying.
        """
        if not self._started.is_set():
            await self.wait_started()
        if self.subscribe_now(sub, request):
            return
        self._leave(sub)
        sub.subscribes += 1
        sub.filter = flt = request.filter
        held = b""
        if request.since is not None:
            held = await self._replay(sub, flt, parse_stream_id(request.since))
        # No await between the loop's last check and joining: nothing can slip between.
        if sub.closed:
            return
        self._join(sub, flt)
        # The replay's last chunk and ready in one write: one system call per resume.
        self.write(sub, held + (self._ws_ready if sub.encoding is Encoding.WS else self._sse_ready))

    async def _replay(self, sub: Subscriber, flt: Filter, since: StreamId) -> bytes:
        """Send ``sub`` the matching entries after ``since`` up to this hub's position.

        Returns with the connection caught up with :attr:`position` in the same step as
        its last check (the caller joins without awaiting in between), and the encoded
        last chunk of the replay, checked against the buffer limits but not yet written:
        the caller writes it together with ``ready``.
        """
        # "ready" promises everything appended before this subscribe arrived: let the
        # hub reach the stream's newest entry first (it is milliseconds away).
        await self._reach(parse_stream_id(await self._shared(self.timeline.last_id)))
        cursor = max(since, sub.last_pos)
        if cursor > self._pos:
            return b""  # beyond the newest entry: not an id of this stream; from now on
        if not self.recent.covers(cursor) and await self._expired(cursor):
            floor = await self._shared(self.timeline.floor)
            self.send_message(sub, cursor_expired_message(floor))
            cursor = max(cursor, parse_stream_id(floor))
        held = b""
        while cursor < self._pos and not sub.closed:
            if held:  # written before anything awaits
                self.write(sub, held)
                held = b""
            target = self._pos
            if self.recent.covers(cursor):
                matched = [e for e in self.recent.after(cursor) if flt.matches(e.kind, e.prefs)]
            else:
                limit = self.limits.replay_read_entries
                async with self._replay_gate:
                    entries = await self.timeline.read_after(
                        format_stream_id(cursor), limit=limit, until=format_stream_id(target)
                    )
                if len(entries) == limit:
                    target = parse_stream_id(entries[-1].id)
                matched = [e for e in entries if flt.matches(e.kind, e.prefs)]
            if matched:
                held = await self._send_paced(sub, flt, matched)
            cursor = max(cursor, target)
        return held

    async def _send_paced(self, sub: Subscriber, flt: Filter, entries: list[Entry]) -> bytes:
        """Write ``entries`` to ``sub`` in chunks of about ``replay_chunk_bytes``, each
        only when it fits in the connection's buffer (a client that stops reading stops
        its replay, and is dropped if it stays stopped). The last chunk, once it fits, is
        returned encoded instead of written (b"" when ``sub`` was closed meanwhile)."""
        chunk_bytes = self.limits.replay_chunk_bytes
        start = 0
        while start < len(entries):
            end, size = start + 1, len(entries[start].payload)
            while end < len(entries) and size + len(entries[end].payload) <= chunk_bytes:
                size += len(entries[end].payload)
                end += 1
            await self.buffers.room(sub, size)
            if sub.closed:
                return b""
            data = self._encode_entries(sub, flt, entries[start:end])
            start = end
            if start == len(entries):
                return data
            self.write(sub, data)
            await asyncio.sleep(0)  # let live dispatch and other replays run between chunks
        return b""

    async def _expired(self, cursor: StreamId) -> bool:
        if cursor == (0, 0):
            return False
        return cursor < parse_stream_id(await self._shared(self.timeline.floor))

    async def _shared(self, call: Callable[[], Awaitable[str]]) -> str:
        """One Redis round trip shared by every subscribe that asks while it runs (a
        reconnecting crowd asks the same question thousands of times at once)."""
        key = call.__name__
        task = self._inflight.get(key)
        if task is None or task.done():
            task = asyncio.ensure_future(call())
            self._inflight[key] = task
        return await asyncio.shield(task)

    # -- dispatch (the hot path) ----------------------------------------------------------

    def dispatch(self, entries: Sequence[Entry]) -> None:
        """Deliver a batch of new entries (ids after :attr:`position`) to every group."""
        if not entries:
            return
        matches = self._index.match(entries)
        self.position = entries[-1].id
        self._pos = parse_stream_id(self.position)
        self.recent.add(entries, now_ms=int(time.time() * 1000))
        if matches:
            self._deliver(entries, matches)
        self._moved.set()
        self._moved = asyncio.Event()

    def _deliver(
        self, entries: Sequence[Entry], matches: dict[Group[Subscriber], list[int]]
    ) -> None:
        messages: dict[int, bytes] = {}
        positions: dict[int, StreamId] = {}
        built: dict[tuple[int, ...], Frames] = {}
        budget = self.buffers.budget()
        frames_sent = {Encoding.WS: 0, Encoding.SSE: 0}
        events_sent = {Encoding.WS: 0, Encoding.SSE: 0}
        for group, indexes in matches.items():
            key = tuple(indexes)
            frames = built.get(key)
            if frames is None:
                matched = [entries[i] for i in indexes]
                for i in indexes:
                    if i not in messages:
                        messages[i] = event_message(entries[i])
                frames = Frames(matched, [messages[i] for i in indexes], self.limits)
                built[key] = frames
            last = indexes[-1]
            pos = positions.get(last)
            if pos is None:
                pos = positions[last] = parse_stream_id(entries[last].id)
            group.last_pos = pos
            members = group.snapshot()
            encoding = group.encoding
            write_each(members, frames.encoded(encoding), budget)
            frames_sent[encoding] += len(members) * frames.frames_for(encoding)
            events_sent[encoding] += len(members) * len(indexes)
        for sub in budget.slow:
            self._drop_slow(sub)
        for encoding, count in events_sent.items():
            if count:
                self.metrics.events_sent.labels(encoding.value).inc(count)
                self.metrics.frames_sent.labels(encoding.value).inc(frames_sent[encoding])

    # -- internals -------------------------------------------------------------------------

    def _gauge(self, sub: Subscriber) -> Gauge:
        if sub.encoding is Encoding.WS:
            return self.metrics.ws_connections
        return self.metrics.sse_connections

    def _drop_slow(self, sub: Subscriber) -> None:
        if sub.closed:
            return
        if sub.transport.is_closing():
            self._finish(sub)
            return
        log.info("slow consumer peer=%s transport=%s", sub.peer, sub.encoding.value)
        self.metrics.slow_disconnects.labels(sub.encoding.value).inc()
        self.kick(sub, CloseCode.SLOW_CONSUMER, "slow consumer: resume with since")

    def write(self, sub: Subscriber, data: bytes) -> None:
        """Write ready-made bytes to ``sub``; a client over its buffer limit is dropped."""
        if sub.closed:
            return
        budget = self.buffers.budget()
        write_each((sub,), data, budget)
        if budget.slow:
            self._drop_slow(sub)  # closing already (finished quietly) or over the hard limit

    def _encode_entries(self, sub: Subscriber, flt: Filter, entries: list[Entry]) -> bytes:
        """The bytes carrying ``entries`` (matched by ``flt``) to ``sub``, counted as sent
        to it (the caller writes them before it awaits anything).

        A replay chunk is every entry its filter matches from its first id to its last,
        so ``(first, last, count, filter, encoding)`` names its bytes: a reconnecting
        crowd resuming from the same id with the same filter shares one encoding.
        """
        key = (entries[0].id, entries[-1].id, len(entries), flt, sub.encoding)
        cached = self._replay_cache.get(key)
        if cached is None:
            frames = Frames(entries, [event_message(e) for e in entries], self.limits)
            cached = (frames.encoded(sub.encoding), frames.frames_for(sub.encoding))
            if len(self._replay_cache) >= REPLAY_CACHE_ENTRIES:
                self._replay_cache.clear()
            self._replay_cache[key] = cached
        data, frame_count = cached
        sub.last_pos = parse_stream_id(entries[-1].id)
        label = sub.encoding.value
        self.metrics.events_sent.labels(label).inc(len(entries))
        self.metrics.frames_sent.labels(label).inc(frame_count)
        return data

    def _finish(self, sub: Subscriber) -> None:
        self._leave(sub)
        self.buffers.forget(sub)
        if not sub.done.done():
            sub.done.set_result(None)

    def _join(self, sub: Subscriber, flt: Filter) -> None:
        sub.group = group = self._index.join(sub, flt, sub.encoding)
        sub.filter = group.filter  # an equal filter, shared by the group's members
        sub.joined_at = self._pos

    def _leave(self, sub: Subscriber) -> None:
        group = sub.group
        if group is None:
            return
        sub.group = None
        # Deliveries to the group after this member joined reached this member too.
        if group.last_pos > sub.joined_at:
            sub.last_pos = max(sub.last_pos, group.last_pos)
        self._index.leave(sub, group)

    async def _reach(self, target: StreamId) -> None:
        """Wait until this hub has dispatched ``target`` (an id already in the stream)."""
        if self._pos >= target:
            return
        try:
            async with asyncio.timeout(CATCH_UP_TIMEOUT_S):
                while self._pos < target:
                    await self._moved.wait()
        except TimeoutError as err:
            raise TimelineError("timeline reader is behind") from err

    async def _start_position(self) -> None:
        backoff = Backoff()
        while True:  # Timeline calls raise a cancel that redis-py lost
            try:
                newest = await self.timeline.read_before(None, limit=PRELOAD_ENTRIES)
                break
            except TimelineError as err:
                self.metrics.timeline_errors.inc()
                delay = backoff.next_delay()
                log.warning("timeline unavailable error=%s retry_in_s=%.2f", err, delay)
                await asyncio.sleep(delay)
        self.position = newest[0].id if newest else ZERO_ID
        self._pos = parse_stream_id(self.position)
        self.recent.reset(
            newest, complete=len(newest) < PRELOAD_ENTRIES, now_ms=int(time.time() * 1000)
        )
        self._started.set()
        log.info("hub started stream=%s position=%s", self.timeline.name, self.position)

    async def _index_once(self) -> None:
        """Index a stream appended before it had indexes (an upgrade); retried until done."""
        backoff = Backoff()
        while True:  # Timeline calls raise a cancel that redis-py lost
            try:
                await self.timeline.build_index()
                return
            except TimelineError as err:
                delay = backoff.next_delay()
                log.warning("timeline indexing failed error=%s retry_in_s=%.2f", err, delay)
                await asyncio.sleep(delay)

    async def _read_loop(self) -> None:
        backoff = Backoff()
        while True:  # Timeline calls raise a cancel that redis-py lost
            try:
                entries = await self.timeline.read_live(
                    self.position,
                    count=self.limits.read_batch_entries,
                    block_ms=self.limits.read_block_ms,
                )
            except TimelineError as err:
                self.metrics.timeline_errors.inc()
                delay = backoff.next_delay()
                log.warning("timeline read failed error=%s retry_in_s=%.2f", err, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if entries:
                self.metrics.timeline_reads.inc(len(entries))
                self.dispatch(entries)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.heartbeat_interval_s)
            for sub in list(self._subscribers):
                if sub.encoding is Encoding.WS:
                    self.write(sub, self._ws_heartbeat)
                else:
                    self.write(sub, self._sse_heartbeat)
