"""One Redis reader per process wakes every live viewer of that process (driver).

Each inbox notification is also announced on one shared stream, ``{yure:sc}:inbox-bus``
(field ``u`` = the uids whose inboxes changed, comma-separated), capped at
:data:`BUS_MAX_ENTRIES` entries.
:class:`InboxBus` holds the process's one blocking ``XREAD`` on it and wakes the live feeds
(:mod:`safety_check.live`) of those uids, whose inboxes the process's one reader
(:mod:`safety_check.live_reader`) then reads in one batch. So 10,000 viewers cost one
blocking connection (a client of its own: ``listener``) plus a few pipelined reads when
something happens to them, instead of 10,000 blocking reads on a shared pool.

A missed wake-up (Redis down, bus trimmed) delays a notification by at most one
heartbeat: every feed also reads its inbox once per heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis.exceptions
from redis.asyncio.client import Pipeline

from yure.aio import raise_if_cancelling
from yure.backoff import Backoff
from yure.safety_check import keys, store

log = logging.getLogger(__name__)

#: Entries kept on the bus (approximate trim): wake-ups, not data, so a short tail will do.
BUS_MAX_ENTRIES = 10_000
#: Uids one bus entry names at most (a check-in's owner and friends: one entry).
UIDS_PER_ENTRY = 512
#: Entries one bus read takes at most.
BUS_READ_COUNT = 1_000
#: How long one blocking bus read waits at most (less when the client's read timeout is
#: shorter: see ``services.live_block``).
BUS_BLOCK_S = 2.0


def bus_key() -> str:
    return keys.PREFIX + "inbox-bus"


def queue_announce(pipe: Pipeline, uids: list[str]) -> None:
    """Queue on ``pipe`` the bus entries that say the inboxes of ``uids`` changed: one
    entry per :data:`UIDS_PER_ENTRY` uids (``u`` = the uids joined by commas; uids are
    base64url, never a comma)."""
    for first in range(0, len(uids), UIDS_PER_ENTRY):
        joined = ",".join(uids[first : first + UIDS_PER_ENTRY])
        pipe.xadd(bus_key(), {"u": joined}, maxlen=BUS_MAX_ENTRIES, approximate=True)


class InboxBus:
    """This process's wake-up fan-out for live feeds, keyed by uid."""

    def __init__(
        self,
        redis: store.Redis,
        *,
        timeout_s: float,
        block_s: float = BUS_BLOCK_S,
        listener: store.Redis | None = None,
    ) -> None:
        """``listener`` (default ``redis``) holds the blocking read: a client of its own
        (:func:`store.sibling`) keeps it off the shared pool and names it in CLIENT LIST."""
        self._redis = redis
        self._listener = redis if listener is None else listener
        self._timeout_s = timeout_s
        self._block_ms = max(1, round(block_s * 1000))
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self.started = asyncio.Event()

    async def announce(self, uids: list[str]) -> None:
        """Tell every process that the inboxes of ``uids`` changed (one pipelined round).

        Raises:
            StoreError: Redis failed.
        """
        if not uids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            queue_announce(pipe, uids)
            await store.call(pipe.execute(), self._timeout_s)

    @contextmanager
    def watch(self, uid: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``uid``'s inbox may have something new (while inside)."""
        event = asyncio.Event()
        self._waiters.setdefault(uid, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiters.get(uid)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[uid]

    @property
    def viewers(self) -> int:
        return sum(len(w) for w in self._waiters.values())

    def wake(self, uid: str) -> None:
        for event in self._waiters.get(uid, ()):
            event.set()

    async def run(self) -> None:
        """Read the bus until cancelled; wake the viewers named in each entry."""
        cursor = "$"
        backoff = Backoff(base_s=0.05, cap_s=5.0)
        while True:
            raise_if_cancelling()
            try:
                async with asyncio.timeout(self._timeout_s + self._block_ms / 1000):
                    if cursor == "$":
                        last = await self._listener.xrevrange(bus_key(), count=1)
                        cursor = store.text(last[0][0]) if last else "0-0"
                        self.started.set()
                    reply = await self._listener.xread(
                        {bus_key(): cursor}, count=BUS_READ_COUNT, block=self._block_ms
                    )
            except (TimeoutError, redis.exceptions.RedisError, OSError) as err:
                delay = backoff.next_delay()
                log.warning("inbox bus read failed error=%r retry_in_s=%.2f", err, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            cursor = self._dispatch(reply, cursor)

    def _dispatch(self, reply: Any, cursor: str) -> str:
        """Wake the viewers named in an ``XREAD`` reply (the wire edge); the new cursor."""
        for _stream, rows in reply or ():
            for entry_id, fields in rows:
                cursor = store.text(entry_id)
                uids = fields.get(b"u", fields.get("u"))
                if uids is not None:
                    for uid in store.text(uids).split(","):
                        self.wake(uid)
        return cursor
