"""The current official event: which quake/tsunami a check-in is about.

:func:`pick_current_event` is pure (timeline entries in, a :class:`CurrentEvent` out);
:class:`CurrentEvents` reads the newest entries of the public timeline. An event counts as
current when it is official, actual (not 訓練/試験), not cancelled, a quake or a tsunami, and
was issued no longer than ``window_s`` ago.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable

from yure.broadcast.envelope import Entry
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.ingest.errors import EventJsonError
from yure.ingest.event import InfoType, Kind, Status, event_from_payload
from yure.safety_check import store
from yure.safety_check.model import CurrentEvent

log = logging.getLogger(__name__)

#: Kinds of official items a check-in can be tied to.
CURRENT_EVENT_KINDS = frozenset({Kind.QUAKE, Kind.TSUNAMI})
#: Newest public entries scanned for the current event at most (posts and felt reports
#: between the event and now are skipped), read in pages of SCAN_PAGE_ENTRIES.
MAX_SCAN_ENTRIES = 1000
SCAN_PAGE_ENTRIES = 32


def _event_of(entry: Entry) -> tuple[CurrentEvent, bool] | None:
    """(event, cancelled) from one timeline entry, or None when it is not an actual
    official quake/tsunami event."""
    if entry.kind not in CURRENT_EVENT_KINDS:
        return None
    try:
        event = event_from_payload(entry.payload)
    except EventJsonError:
        return None
    if event.kind not in CURRENT_EVENT_KINDS or event.status is not Status.ACTUAL:
        return None
    if not event.event_id:
        return None
    current = CurrentEvent(
        event_id=event.event_id, kind=event.kind, occurred_at=event.reported_at.timestamp()
    )
    return current, event.info_type is InfoType.CANCELLED


def pick_current_event(
    newest_first: Iterable[Entry],
    *,
    now: float,
    window_s: float,
    cancelled: set[str] | None = None,
) -> CurrentEvent | None:
    """The newest official, actual, uncancelled quake/tsunami event issued within
    ``window_s`` of ``now``; entries are given newest first. ``cancelled`` collects the
    event ids seen cancelled so far (pass the same set to continue over several pages)."""
    cancelled = set() if cancelled is None else cancelled
    for entry in newest_first:
        found = _event_of(entry)
        if found is None:
            continue
        event, is_cancel = found
        if is_cancel:
            cancelled.add(event.event_id)
            continue
        if event.event_id in cancelled:
            continue
        if now - event.occurred_at > window_s:
            continue
        return event
    return None


class CurrentEvents:
    """Reads the current event from the public timeline, newest first, page by page, and
    remembers the answer for ``cache_s`` (a check-in storm reads the timeline once)."""

    def __init__(self, timeline: Timeline, *, window_s: float, cache_s: float) -> None:
        self._timeline = timeline
        self._window_s = window_s
        self._cache_s = cache_s
        self._cached: tuple[float, CurrentEvent | None] | None = None
        self._lock = asyncio.Lock()

    async def _newest_first(self) -> AsyncIterator[Entry]:
        before: str | None = None
        scanned = 0
        while scanned < MAX_SCAN_ENTRIES:
            try:
                page = await self._timeline.read_before(before, limit=SCAN_PAGE_ENTRIES)
            except TimelineError as err:
                raise store.wrap_broadcast(err) from err
            for entry in page:
                yield entry
            scanned += len(page)
            if len(page) < SCAN_PAGE_ENTRIES:
                return
            before = page[-1].id

    async def current(self, now: float) -> CurrentEvent | None:
        """The current event, or None.

        Raises:
            StoreError: Redis failed.
        """
        if self._cached is not None and 0 <= now - self._cached[0] < self._cache_s:
            return self._cached[1]
        # One look-up at a time: the check-ins that arrive meanwhile wait for its answer
        # instead of each reading the timeline again (a surge of 200/s did).
        async with self._lock:
            if self._cached is not None and 0 <= now - self._cached[0] < self._cache_s:
                return self._cached[1]
            return await self._scan(now)

    async def _scan(self, now: float) -> CurrentEvent | None:
        cancelled: set[str] = set()
        found: CurrentEvent | None = None
        async for entry in self._newest_first():
            found = pick_current_event(
                [entry], now=now, window_s=self._window_s, cancelled=cancelled
            )
            if found is not None:
                break
        self._cached = (now, found)
        return found

    async def lookup(self, event_id: str) -> CurrentEvent | None:
        """The newest retained entry of ``event_id`` (to date a check-in), or None.

        Raises:
            StoreError: Redis failed.
        """
        try:  # an index look-up: an unknown event_id costs one round trip, not a scan
            entries = await self._timeline.find_by_subject(event_id, limit=MAX_SCAN_ENTRIES)
        except TimelineError as err:
            raise store.wrap_broadcast(err) from err
        for entry in entries:
            found = _event_of(entry)
            if found is not None and found[0].event_id == event_id:
                return found[0]
        return None
