"""The archive: telegrams in, events out, over one :class:`~archive.db.Database`.

Driver module (the statements are :mod:`archive.sql`'s, the folding
:mod:`archive.facts`'). Writing is idempotent by publication key: archiving a key
that is there already changes nothing, so the live sink, the repair at start and a
backfill can all offer the same telegram safely.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

import orjson

from yure.archive import sql
from yure.archive.db import Database, Transaction, open_database
from yure.archive.errors import StorageError, UnknownEvent
from yure.archive.facts import EventSummary, TelegramFacts, facts_of, is_archived, summarize
from yure.archive.query import Cursor, HistoryQuery
from yure.ingest.event import Event, event_to_json

log = logging.getLogger(__name__)

#: Keys looked up per statement by :meth:`Archive.missing`.
KEY_BATCH = 500
#: Events removed per transaction by :meth:`Archive.prune`.
PRUNE_BATCH = 500
#: Rows per page read while exporting.
EXPORT_PAGE_ROWS = 1000
_DAY_S = 86400
_JST_OFFSET_S = 9 * 3600


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """One page of search results, newest first, and where the next one starts."""

    items: tuple[EventSummary, ...]
    next: Cursor | None


@dataclasses.dataclass(frozen=True, slots=True)
class ArchivedTelegram:
    """One telegram of an event as archived: its key and its event JSON (orjson bytes)."""

    key: str
    payload: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class EventRecord:
    """An event with all its telegrams, oldest first."""

    summary: EventSummary
    telegrams: tuple[ArchivedTelegram, ...]


class Archive:
    """Archived telegrams and events in SQLite or PostgreSQL."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self._dialect = sql.Dialect(database.name)
        self._clock = clock

    @classmethod
    async def open(
        cls, database_url: str | None, data_dir: Path, *, clock: Callable[[], float] = time.time
    ) -> Archive:
        """Open the archive's database and bring its schema up to date.

        Raises:
            StorageError: the database cannot be opened or has a newer schema.
        """
        database = await open_database(database_url, data_dir)
        archive = cls(database, clock=clock)
        try:
            await archive.migrate()
        except BaseException:
            await database.close()
            raise
        return archive

    async def close(self) -> None:
        """Close the database."""
        await self.database.close()

    async def migrate(self) -> int:
        """Apply the migrations this database lacks; return the schema version.

        Raises:
            StorageError: the database has a newer schema than this code knows.
        """

        async def work(tx: Transaction) -> int:
            await tx.execute(sql.Statement(sql.CREATE_MIGRATIONS_TABLE))
            rows = await tx.fetch(sql.Statement(sql.SELECT_SCHEMA_VERSION))
            current = int(rows[0][0] or 0)
            if current > sql.SCHEMA_VERSION:
                raise StorageError(
                    f"archive schema is version {current}, newer than this yure's "
                    f"{sql.SCHEMA_VERSION}: upgrade yure"
                )
            for migration in sql.MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    await tx.execute(sql.Statement(statement))
                await tx.execute(
                    sql.Statement(
                        sql.INSERT_MIGRATION,
                        (migration.version, migration.name, int(self._clock())),
                    )
                )
                log.info("archive migrated version=%s name=%s", migration.version, migration.name)
            return sql.SCHEMA_VERSION

        return await self.database.write(work)

    async def add(self, items: Iterable[tuple[str, Event]]) -> int:
        """Archive each ``(key, event)`` not archived yet (others are skipped: not
        official, 訓練/試験, or the key is there); one transaction; return how many
        telegrams were added.

        Raises:
            StorageError: the database failed (nothing of this call was written).
        """
        rows = [
            (facts_of(key, event), orjson.dumps(event_to_json(event)).decode())
            for key, event in items
            if is_archived(event)
        ]
        if not rows:
            return 0
        now = int(self._clock())

        async def counted(tx: Transaction) -> int:
            added = 0
            touched: dict[str, None] = {}
            for start in range(0, len(rows), sql.INSERT_BATCH_ROWS):
                batch = rows[start : start + sql.INSERT_BATCH_ROWS]
                for (event_id,) in await tx.fetch(sql.insert_telegrams(batch, now)):
                    added += 1
                    touched[str(event_id)] = None
            event_ids = list(touched)
            for start in range(0, len(event_ids), KEY_BATCH):
                by_event: dict[str, list[TelegramFacts]] = {}
                found = await tx.fetch(
                    sql.select_telegram_facts(event_ids[start : start + KEY_BATCH])
                )
                for row in found:
                    facts = sql.facts_from_row(row)
                    by_event.setdefault(facts.event_id, []).append(facts)
                for telegrams in by_event.values():
                    for statement in sql.write_event(summarize(telegrams)):
                        await tx.execute(statement)
            return added

        return await self.database.write(counted)

    async def missing(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are not archived.

        Raises:
            StorageError: the database failed.
        """
        absent = set(keys)
        for start in range(0, len(keys), KEY_BATCH):
            batch = keys[start : start + KEY_BATCH]
            for row in await self.database.read(sql.select_keys(batch)):
                absent.discard(str(row[0]))
        return absent

    async def search(self, query: HistoryQuery) -> Page:
        """One page of events matching ``query``, newest first.

        Raises:
            StorageError: the database failed.
        """
        rows = await self.database.read(sql.search(query, self._dialect, limit=query.limit + 1))
        items = tuple(sql.summary_from_row(row) for row in rows[: query.limit])
        more = len(rows) > query.limit
        last = items[-1] if items else None
        cursor = Cursor(last.first_at, last.event_id) if more and last is not None else None
        return Page(items=items, next=cursor)

    async def export(self, query: HistoryQuery, *, max_rows: int) -> AsyncIterator[EventSummary]:
        """Every event matching ``query`` (from its cursor on), newest first, at most
        ``max_rows``, read a page at a time.

        Raises:
            StorageError: the database failed.
        """
        remaining = max_rows
        page_query = query
        while remaining > 0:
            size = min(EXPORT_PAGE_ROWS, remaining)
            rows = await self.database.read(sql.search(page_query, self._dialect, limit=size))
            for row in rows:
                yield sql.summary_from_row(row)
            remaining -= len(rows)
            if len(rows) < size:
                return
            last = sql.summary_from_row(rows[-1])
            page_query = dataclasses.replace(
                page_query, cursor=Cursor(last.first_at, last.event_id)
            )

    async def count_per_day(self, query: HistoryQuery) -> list[tuple[date, int]]:
        """How many events matching ``query`` were filed on each JST day, oldest first.

        Raises:
            StorageError: the database failed.
        """
        rows = await self.database.read(sql.count_per_day(query, _JST_OFFSET_S, self._dialect))
        epoch = date(1970, 1, 1)
        return [(epoch + timedelta(days=int(row[0] or 0)), int(row[1] or 0)) for row in rows]

    async def event(self, event_id: str) -> EventRecord:
        """The event ``event_id`` with all its telegrams.

        Raises:
            UnknownEvent: nothing is archived under ``event_id``.
            StorageError: the database failed.
        """
        rows = await self.database.read(sql.select_event(event_id))
        if not rows:
            raise UnknownEvent(f"no archived event {event_id!r}")
        telegrams = await self.database.read(sql.select_payloads(event_id))
        return EventRecord(
            summary=sql.summary_from_row(rows[0]),
            telegrams=tuple(
                ArchivedTelegram(str(key), str(payload).encode()) for key, payload in telegrams
            ),
        )

    async def prune(self, retention_days: int) -> int:
        """Delete events whose last telegram is older than ``retention_days``; return
        how many were deleted.

        Raises:
            StorageError: the database failed.
        """
        before = int(self._clock()) - retention_days * _DAY_S
        deleted = 0
        while True:
            rows = await self.database.read(sql.select_expired_events(before, PRUNE_BATCH))
            ids = [str(row[0]) for row in rows]
            if not ids:
                break

            async def work(tx: Transaction, ids: list[str] = ids) -> None:
                for statement in sql.delete_events(ids):
                    await tx.execute(statement)

            await self.database.write(work)
            deleted += len(ids)
        if deleted:
            log.info("archive pruned events=%s retention_days=%s", deleted, retention_days)
        return deleted
