"""Live archiving, done by the ingest lease holder: the sink, the repair, the pruning.

Driver module. Each official publication is first appended to the timeline, then
archived (:func:`archive_sink`, which the composition root puts after the timeline's
sink). The archive is idempotent by publication key, so an item offered twice is kept
once. A crash between the append and the archive write leaves an item that is on the
timeline and not in the archive: :func:`repair` replays the retained timeline into the
archive when the holder takes the lease, before anything new is ingested
(:func:`keep`). :func:`keep` then prunes events past ``YURE_ARCHIVE_RETENTION_DAYS``
every :data:`PRUNE_EVERY_S`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from yure.aio import raise_if_cancelling
from yure.archive.errors import StorageError
from yure.archive.facts import ARCHIVED_KINDS
from yure.archive.store import Archive
from yure.broadcast.envelope import ZERO_ID
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.ingest.errors import EventJsonError
from yure.ingest.event import Event, event_from_payload
from yure.ingest.ledger import Publication

log = logging.getLogger(__name__)

#: Timeline entries read per round trip while repairing.
REPAIR_BATCH = 500
#: Pause before a failed repair is tried again.
REPAIR_RETRY_S = 30.0
#: How often old events are pruned (when a retention is set).
PRUNE_EVERY_S = 3600.0
_ARCHIVED_KIND_NAMES = frozenset(kind.value for kind in ARCHIVED_KINDS)

Sink = Callable[[Publication], Awaitable[None]]


def archive_sink(archive: Archive) -> Sink:
    """A publication sink that archives official items (others are skipped).

    It raises (StorageError) when the database fails, so ingest does not mark the item
    as handled and offers it again; the timeline and the archive both ignore repeats.
    """

    async def sink(publication: Publication) -> None:
        await archive.add([(publication.key, publication.event)])

    return sink


async def repair(archive: Archive, timeline: Timeline) -> int:
    """Archive every official timeline entry the archive lacks; return how many.

    Raises:
        TimelineError: Redis failed.
        StorageError: the database failed.
    """
    since = ZERO_ID
    added = 0
    while True:
        raise_if_cancelling()
        entries = await timeline.read_after(since, limit=REPAIR_BATCH)
        if not entries:
            break
        since = entries[-1].id
        candidates = [e for e in entries if e.kind in _ARCHIVED_KIND_NAMES]
        absent = await archive.missing([e.key for e in candidates])
        items: list[tuple[str, Event]] = []
        for entry in candidates:
            if entry.key not in absent:
                continue
            try:
                items.append((entry.key, event_from_payload(entry.payload)))
            except EventJsonError as err:
                log.warning("archive repair skipped key=%s error=%s", entry.key, err)
        added += await archive.add(items)
    if added:
        log.warning("archive repaired from timeline added=%s", added)
    return added


async def keep(
    archive: Archive,
    timeline: Timeline,
    *,
    retention_days: int | None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Repair (retried every :data:`REPAIR_RETRY_S` until it succeeds), then prune every
    :data:`PRUNE_EVERY_S` until cancelled when a retention is set (else return). A
    failure is logged and never stops the ingest it runs beside."""
    while True:
        raise_if_cancelling()
        try:
            await repair(archive, timeline)
            break
        except (StorageError, TimelineError) as err:
            log.error("archive repair failed error=%s retry_in_s=%s", err, REPAIR_RETRY_S)
        await sleep(REPAIR_RETRY_S)
    if retention_days is None:
        return
    while True:
        raise_if_cancelling()
        try:
            await archive.prune(retention_days)
        except StorageError as err:
            log.warning("archive prune failed error=%s", err)  # tried again next turn
        await sleep(PRUNE_EVERY_S)
