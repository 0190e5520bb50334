"""One reader per process serves every live viewer's Redis work, in batches (driver).

A live feed (:mod:`safety_check.live`) does not call Redis itself while it is open: it
hands the reader its inbox cursor (or its seat to renew) and waits. The reader takes
every request waiting at that moment (up to :data:`MAX_BATCH_VIEWERS`) and answers them
all with a few pipelined round trips, however many viewers there are:

1. the seats to renew (``ZADD``/``EXPIRE``);
2. the inboxes after each cursor (``XRANGE``);
3. the check-ins those notifications name (``HGETALL``), once each;
4. the friends (``SMEMBERS``) and handles of their owners, once each.

Sessions are not read per viewer either: every ``session_check_s`` one sweep asks which
of the watched sessions still exist (``EXISTS``, pipelined) and ends the channels of the
others (:class:`SessionWatch`). So a check-in that wakes 20 friends' channels costs the
process a handful of round trips, not 20 viewers × 5 reads, and an idle viewer costs
nothing between its heartbeats (issue 16: 10,000 viewers on one worker, 200 check-ins/s).
What a viewer may see is still decided per viewer, from these reads, by
:func:`safety_check.policy.may_view_checkin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import orjson

from yure.aio import raise_if_cancelling
from yure.broadcast.envelope import Entry
from yure.safety_check.accounts import Accounts
from yure.safety_check.checkins import Checkins
from yure.safety_check.errors import StoreError
from yure.safety_check.friends import Friends
from yure.safety_check.inbox import Inboxes, NoticeKind
from yure.safety_check.model import CheckIn
from yure.safety_check.seats import Seats
from yure.safety_check.sessions import Sessions

log = logging.getLogger(__name__)

T = TypeVar("T")
FRIEND_NOTICES = (NoticeKind.FRIEND_ADDED, NoticeKind.FRIEND_REMOVED)

#: Viewers served by one batch at most (the rest wait for the next one).
MAX_BATCH_VIEWERS = 1000
#: Work that is not urgent (idle re-reads, seat renewals) waits at most this long for a
#: batch (10,000 idle viewers: one batch a second instead of 1,300 small ones).
LAZY_S = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class Lookups:
    """What one batch read about the notifications it found (shared by its viewers)."""

    checkins: dict[str, CheckIn]
    #: Friends of each check-in's owner.
    friends: dict[str, frozenset[str]]
    handles: dict[str, str]
    #: The notification of each inbox payload the batch read (:func:`notice_of`), parsed
    #: once for every viewer whose inbox holds the same payload.
    notices: dict[bytes, tuple[str, str] | None] = dataclasses.field(default_factory=dict)
    #: Encoded check-in messages by check-in id, filled by the first viewer that may see
    #: one (:func:`safety_check.live.render`): the bytes are the same for every viewer.
    bodies: dict[str, bytes] = dataclasses.field(default_factory=dict)

    def notice(self, entry: Entry) -> tuple[str, str] | None:
        """:func:`notice_of` ``entry``, parsed once per payload."""
        try:
            return self.notices[entry.payload]
        except KeyError:
            found = self.notices[entry.payload] = notice_of(entry)
            return found


@dataclasses.dataclass(frozen=True, slots=True)
class Reading:
    """What is new in one viewer's inbox, and what the batch found about it."""

    entries: list[Entry]
    lookups: Lookups


@dataclasses.dataclass(eq=False, slots=True)
class SessionWatch:
    """One live channel's session, as the process's sweep last saw it."""

    #: Set (with :attr:`ended`) when the sweep finds the session gone.
    wake: asyncio.Event
    ended: bool = False


@dataclasses.dataclass(slots=True)
class _Read:
    uid: str
    cursor: str
    answer: asyncio.Future[Reading]


@dataclasses.dataclass(slots=True)
class _Renewal:
    uid: str
    seat: str
    lease_s: float
    answer: asyncio.Future[None]


def notice_of(entry: Entry) -> tuple[str, str] | None:
    """``(kind, id or uid)`` of an inbox notification, None when it is not one (the wire
    edge of the inbox payloads)."""
    try:
        obj = orjson.loads(entry.payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if kind in (NoticeKind.CHECKIN, NoticeKind.CHECKIN_DELETED):
        return str(kind), str(obj.get("id", ""))
    if kind in (NoticeKind.FRIEND_ADDED, NoticeKind.FRIEND_REMOVED):
        return str(kind), str(obj.get("uid", ""))
    return None


class LiveReader:
    """The process's batched reader for live feeds, and its session sweep."""

    def __init__(
        self,
        *,
        sessions: Sessions,
        inboxes: Inboxes,
        checkins: Checkins,
        friends: Friends,
        accounts: Accounts,
        seats: Seats,
        gate: asyncio.Semaphore,
        timeout_s: float,
        entries_per_read: int,
        session_check_s: float,
    ) -> None:
        self._sessions = sessions
        self._inboxes = inboxes
        self._checkins = checkins
        self._friends = friends
        self._accounts = accounts
        self._seats = seats
        self._gate = gate
        self._timeout_s = timeout_s
        self._entries_per_read = entries_per_read
        self._session_check_s = session_check_s
        self._reads: list[_Read] = []
        self._lazy_reads: list[_Read] = []
        self._lazy_s = min(LAZY_S, session_check_s)
        self._renewals: list[_Renewal] = []
        self._pending = asyncio.Event()
        self._sessions_watched: dict[str, set[SessionWatch]] = {}
        #: Batches served so far (for tests and logs).
        self.batches = 0
        #: Session sweeps done so far.
        self.sweeps = 0

    @contextmanager
    def watch_session(self, token_hash: str, wake: asyncio.Event) -> Iterator[SessionWatch]:
        """Have the sweep check the session ``token_hash`` at least every
        ``session_check_s`` while inside; when it is gone, the watch is marked ended and
        ``wake`` is set."""
        watch = SessionWatch(wake)
        self._sessions_watched.setdefault(token_hash, set()).add(watch)
        try:
            yield watch
        finally:
            watching = self._sessions_watched.get(token_hash)
            if watching is not None:
                watching.discard(watch)
                if not watching:
                    del self._sessions_watched[token_hash]

    async def read(self, uid: str, cursor: str, *, urgent: bool = True) -> Reading:
        """The new notifications of one viewer, read in the next batch; a read that is not
        ``urgent`` (an idle re-read: a lost wake-up is only a delay) may wait up to
        ``lazy_s`` to share a batch with others.

        Raises:
            StoreError: Redis failed, or the batch did not come in time.
        """
        ask = _Read(uid, cursor, asyncio.get_running_loop().create_future())
        (self._reads if urgent else self._lazy_reads).append(ask)
        return await self._wait(ask.answer, urgent=urgent)

    async def renew_seat(self, uid: str, seat: str, lease_s: float) -> None:
        """Renew one channel's seat (:meth:`Seats.renew`) within ``lazy_s``, batched with
        the other channels' (a lease lasts several heartbeats: never urgent).

        Raises:
            StoreError: Redis failed, or the batch did not come in time.
        """
        ask = _Renewal(uid, seat, lease_s, asyncio.get_running_loop().create_future())
        self._renewals.append(ask)
        await self._wait(ask.answer, urgent=False)

    async def _wait(self, answer: asyncio.Future[T], *, urgent: bool) -> T:
        if urgent:
            self._pending.set()
        try:
            # Bounded: a batch is a few round trips, each under the Redis timeout.
            async with asyncio.timeout(self._timeout_s * 4):
                # A cancelled wait cancels the answer: the batch skips done answers.
                return await answer
        except TimeoutError as err:
            raise StoreError("live reads are too slow, retry later") from err

    async def run(self) -> None:
        """Serve batches and sweep sessions until cancelled."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._serve_batches())
            tg.create_task(self._sweep_sessions())

    async def _serve_batches(self) -> None:
        while True:
            raise_if_cancelling()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._lazy_s):
                    await self._pending.wait()
            self._pending.clear()
            while True:
                # Whatever is not urgent rides along with every batch (or goes at least
                # every lazy_s): a viewer waiting in a lazy read is not woken by its bus
                # wake-up, so a lazy read left behind while urgent batches follow one
                # another (a surge) held that viewer's notifications for seconds.
                self._reads.extend(self._lazy_reads)
                self._lazy_reads.clear()
                if not (self._reads or self._renewals):
                    break
                reads = [a for a in self._reads[:MAX_BATCH_VIEWERS] if not a.answer.done()]
                renewals = [a for a in self._renewals[:MAX_BATCH_VIEWERS] if not a.answer.done()]
                del self._reads[:MAX_BATCH_VIEWERS]
                del self._renewals[:MAX_BATCH_VIEWERS]
                await self._serve(reads, renewals)

    async def _serve(self, reads: list[_Read], renewals: list[_Renewal]) -> None:
        asks: list[_Read | _Renewal] = [*reads, *renewals]
        try:
            async with self._gate:
                if renewals:
                    await self._seats.renew_many([(a.uid, a.seat, a.lease_s) for a in renewals])
                readings = await self._read(reads) if reads else []
        except StoreError as err:
            log.warning("live batch failed viewers=%d error=%s", len(asks), err)
            for ask in asks:
                if not ask.answer.done():
                    ask.answer.set_exception(StoreError(str(err)))
            return
        self.batches += 1
        for renewal in renewals:
            if not renewal.answer.done():
                renewal.answer.set_result(None)
        for read, reading in zip(reads, readings, strict=True):
            if not read.answer.done():
                read.answer.set_result(reading)

    async def _read(self, batch: list[_Read]) -> list[Reading]:
        inboxes = await self._inboxes.read_many(
            [(ask.uid, ask.cursor) for ask in batch], limit=self._entries_per_read
        )
        lookups = await self._look_up([e for entries in inboxes.values() for e in entries])
        return [Reading(inboxes[(ask.uid, ask.cursor)], lookups) for ask in batch]

    async def _look_up(self, entries: list[Entry]) -> Lookups:
        parsed = {e.payload: notice_of(e) for e in entries}
        notices = [n for n in parsed.values() if n is not None]
        cids = sorted({ref for kind, ref in notices if kind == NoticeKind.CHECKIN})
        checkins = await self._checkins.get_many(cids)
        owners = sorted({c.owner for c in checkins.values()})
        named = {ref for kind, ref in notices if kind in FRIEND_NOTICES}
        friends = await self._friends.friends_of_many(owners)
        handles = await self._accounts.handles_of(sorted(set(owners) | named))
        return Lookups(checkins=checkins, friends=friends, handles=handles, notices=parsed)

    async def _sweep_sessions(self) -> None:
        """Every ``session_check_s``: which watched sessions still exist (one pipelined
        round per :data:`MAX_BATCH_VIEWERS`); the channels of the others end."""
        while True:
            await asyncio.sleep(self._session_check_s)
            hashes = list(self._sessions_watched)
            for first in range(0, len(hashes), MAX_BATCH_VIEWERS):
                chunk = hashes[first : first + MAX_BATCH_VIEWERS]
                try:
                    async with self._gate:
                        alive = await self._sessions.alive(chunk)
                except StoreError as err:
                    # Nobody is let go on a Redis failure; the next sweep tries again.
                    log.warning("live session sweep failed error=%s", err)
                    break
                for token_hash in chunk:
                    if token_hash not in alive:
                        for watch in self._sessions_watched.get(token_hash, ()):
                            watch.ended = True
                            watch.wake.set()
            self.sweeps += 1
