"""The newest timeline entries, kept in memory by each hub for fast replays.

Core module: no I/O. A reconnecting crowd (a server restart, a network blip) asks
for "everything after my last id", which is almost always a few seconds or minutes
old: serving that from memory instead of one Redis range read per client is what
lets 10,000 clients resume in well under the protocol's budget.

Invariant: the buffer holds *every* entry with an id greater than :attr:`covered_from`
up to the newest entry added, in id order. Entries older than the timeline's retention
leave it (ids are millisecond timestamps), so a cursor that old goes to Redis and gets
``cursor_expired`` exactly as without this buffer.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from yure.broadcast.envelope import Entry, StreamId, parse_stream_id

#: Entries kept at most.
RECENT_MAX_ENTRIES = 20_000
#: Payload bytes kept at most.
RECENT_MAX_BYTES = 64 * 1024 * 1024


class RecentEntries:
    """A bounded, ordered window of the newest entries."""

    def __init__(
        self,
        *,
        max_age_ms: int,
        max_entries: int = RECENT_MAX_ENTRIES,
        max_bytes: int = RECENT_MAX_BYTES,
    ) -> None:
        if max_entries < 1 or max_bytes < 1 or max_age_ms < 1:
            raise ValueError("limits must be positive")
        self.max_age_ms = max_age_ms
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: list[Entry] = []
        self._ids: list[StreamId] = []
        self._bytes = 0
        #: Every entry after this id is held (``None``: nothing is known yet).
        self.covered_from: StreamId | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def reset(self, newest_first: Sequence[Entry], *, complete: bool, now_ms: int) -> None:
        """Start over from a read of the stream's newest entries (newest first).

        ``complete``: the read returned the whole stream, so nothing older exists.
        """
        self._entries = list(reversed(newest_first))
        self._ids = [parse_stream_id(e.id) for e in self._entries]
        self._bytes = sum(len(e.payload) for e in self._entries)
        if complete:
            self.covered_from = (0, 0)
        else:
            self.covered_from = self._ids[0] if self._ids else None
        self._evict(now_ms)

    def add(self, entries: Sequence[Entry], *, now_ms: int) -> None:
        """Append entries newer than everything held (as the hub dispatches them)."""
        for entry in entries:
            self._entries.append(entry)
            self._ids.append(parse_stream_id(entry.id))
            self._bytes += len(entry.payload)
        if self.covered_from is None and self._ids:
            self.covered_from = self._ids[0]
        self._evict(now_ms)

    def covers(self, cursor: StreamId) -> bool:
        """Whether every entry after ``cursor`` is held."""
        return self.covered_from is not None and cursor >= self.covered_from

    def after(self, cursor: StreamId) -> list[Entry]:
        """The held entries with ids after ``cursor`` (meaningful when :meth:`covers`)."""
        return self._entries[bisect.bisect_right(self._ids, cursor) :]

    def _evict(self, now_ms: int) -> None:
        too_old = bisect.bisect_left(self._ids, (now_ms - self.max_age_ms, 0))
        drop = max(0, len(self._entries) - self.max_entries, too_old)
        dropped_bytes = sum(len(e.payload) for e in self._entries[:drop])
        while self._bytes - dropped_bytes > self.max_bytes and drop < len(self._entries) - 1:
            dropped_bytes += len(self._entries[drop].payload)
            drop += 1
        if drop:
            self.covered_from = self._ids[drop - 1]
            del self._entries[:drop]
            del self._ids[:drop]
            self._bytes -= dropped_bytes
