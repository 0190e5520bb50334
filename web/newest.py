"""The newest official events of the timeline, scanned backwards (driver).

One owner for "the newest N official items touching these prefectures", which the Atom feeds
(:mod:`web.feeds`) and the light page (:mod:`web.lite`) both show. Posts and felt reports are
refused by :func:`ingest.event.event_from_payload`, so only official items come back.
"""

from __future__ import annotations

from yure.broadcast.envelope import Entry
from yure.broadcast.limits import READ_BATCH_ENTRIES
from yure.broadcast.timeline import Timeline
from yure.ingest.errors import EventJsonError
from yure.ingest.event import Event, event_from_payload


async def newest_official(
    timeline: Timeline, prefs: frozenset[str], *, limit: int, max_scan_entries: int
) -> list[tuple[Entry, Event]]:
    """Up to ``limit`` official events touching ``prefs`` (any, when empty), newest first,
    looking at ``max_scan_entries`` timeline entries at most.

    Raises:
        TimelineError: Redis failed.
    """
    found: list[tuple[Entry, Event]] = []
    before: str | None = None
    scanned = 0
    while len(found) < limit and scanned < max_scan_entries:
        batch = await timeline.read_before(before, limit=READ_BATCH_ENTRIES)
        if not batch:
            break
        for entry in batch:
            scanned += 1
            before = entry.id
            if prefs and prefs.isdisjoint(entry.prefs):
                continue
            try:
                found.append((entry, event_from_payload(entry.payload)))
            except EventJsonError:
                continue
            if len(found) >= limit:
                break
    return found
