"""Every SQL statement of the archive, for SQLite and PostgreSQL alike.

Core module: values in, :class:`Statement`\\ s out; the drivers (:mod:`archive.sqlite_db`,
:mod:`archive.postgres_db`) only run them. One schema serves both databases: portable
types only (``TEXT``, ``INTEGER``, ``BIGINT``, ``DOUBLE PRECISION``; booleans as 0/1,
times as POSIX seconds), ``INSERT … ON CONFLICT`` (SQLite ≥ 3.24, PostgreSQL ≥ 9.5) and
``?`` placeholders, which the PostgreSQL driver turns into ``%s``.

Tables (schema version :data:`SCHEMA_VERSION`)::

    schema_migrations(version, name, applied_at)       one row per applied migration
    telegrams(key PK, event_id, … facts …, payload)     every archived telegram, once
    events(event_id PK, … summary …, pref_mask, kind_mask)   one row per event
    event_prefs(pref, first_at, event_id)                    prefecture index (v2)
    event_kinds(kind, first_at, event_id)                    kind index (v2)

Searching: every filter is a column of one covering index, ``events_scan`` (time, id,
intensity, magnitude, depth, prefecture bits, kind bits), walked newest first, so any
combination of filters is answered from the index and only the rows of the page are
read (:func:`search` asks for the page's ids first: SQLite reads no row while it
walks). Prefectures and kinds are bit sets (bit ``n − 1`` for JIS code ``n``; bit ``i``
for the ``i``-th archived kind), tested with ``&``. Separate single-column indexes are left
out on purpose: with them SQLite's planner picked a magnitude or intensity range and
then sorted every match (a 10-year archive: 90–200 ms instead of a few). PostgreSQL
cannot test non-leading index columns before reading the row, so for it prefectures
and kinds go through their index tables instead (``event_id IN (SELECT … WHERE pref IN
(…) AND first_at …)``), which it joins well; the other filters are the same
(:class:`Dialect`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from enum import StrEnum

from yure.archive.facts import ARCHIVED_KINDS, EventSummary, TelegramFacts, intensity_rank
from yure.archive.query import HistoryQuery
from yure.ingest.event import InfoType, Intensity, Kind, TsunamiGrade

SqlValue = str | int | float | None
Row = Sequence[SqlValue]


class Dialect(StrEnum):
    """Which database a search is written for (the drivers' ``name``)."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclasses.dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement with ``?`` placeholders and its parameters."""

    sql: str
    params: tuple[SqlValue, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema; applied once, in order, inside a transaction."""

    version: int
    name: str
    statements: tuple[str, ...]


CREATE_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
)
SELECT_SCHEMA_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
INSERT_MIGRATION = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"

_FACT_COLUMNS = """
    title TEXT NOT NULL,
    headline TEXT NOT NULL,
    foreign_quake INTEGER NOT NULL,
    max_intensity TEXT,
    intensity_rank INTEGER,
    magnitude DOUBLE PRECISION,
    magnitude_text TEXT,
    depth_km DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    hypocenter_name TEXT,
    tsunami_grade TEXT,
    prefs TEXT NOT NULL"""

#: JIS code and bit of every prefecture, as rows (for migration 2's backfill).
_PREF_BIT_ROWS = " UNION ALL ".join(
    f"SELECT '{n:02d}' AS code, {n - 1} AS bit" for n in range(1, 48)
)
_KIND_BIT_ROWS = " UNION ALL ".join(
    f"SELECT '{kind.value}' AS kind, {bit} AS bit" for bit, kind in enumerate(ARCHIVED_KINDS)
)
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "telegrams, events and their indexes",
        (
            "CREATE TABLE telegrams ("
            " key TEXT PRIMARY KEY, event_id TEXT NOT NULL, type_code TEXT NOT NULL,"
            " kind TEXT NOT NULL, info_type TEXT NOT NULL, serial INTEGER,"
            " reported_at BIGINT NOT NULL," + _FACT_COLUMNS + ","
            " payload TEXT NOT NULL, archived_at BIGINT NOT NULL)",
            "CREATE INDEX telegrams_event ON telegrams (event_id, reported_at)",
            "CREATE TABLE events ("
            " event_id TEXT PRIMARY KEY, first_at BIGINT NOT NULL, last_at BIGINT NOT NULL,"
            " kinds TEXT NOT NULL, type_code TEXT NOT NULL, cancelled INTEGER NOT NULL,"
            + _FACT_COLUMNS
            + ", telegram_count INTEGER NOT NULL,"
            " pref_mask BIGINT NOT NULL, kind_mask INTEGER NOT NULL)",
            "CREATE INDEX events_scan ON events"
            " (first_at, event_id, intensity_rank, magnitude, depth_km, pref_mask, kind_mask)",
            "CREATE INDEX events_last ON events (last_at)",
        ),
    ),
    Migration(
        2,
        "prefecture and kind index tables (PostgreSQL searches use them)",
        (
            "CREATE TABLE event_prefs ("
            " pref TEXT NOT NULL, first_at BIGINT NOT NULL, event_id TEXT NOT NULL,"
            " PRIMARY KEY (pref, first_at, event_id))",
            "CREATE INDEX event_prefs_event ON event_prefs (event_id)",
            "CREATE TABLE event_kinds ("
            " kind TEXT NOT NULL, first_at BIGINT NOT NULL, event_id TEXT NOT NULL,"
            " PRIMARY KEY (kind, first_at, event_id))",
            "CREATE INDEX event_kinds_event ON event_kinds (event_id)",
            "INSERT INTO event_prefs (pref, first_at, event_id)"
            f" SELECT p.code, e.first_at, e.event_id FROM events e, ({_PREF_BIT_ROWS}) p"
            " WHERE (e.pref_mask & (CAST(1 AS BIGINT) << p.bit)) <> 0",
            "INSERT INTO event_kinds (kind, first_at, event_id)"
            f" SELECT k.kind, e.first_at, e.event_id FROM events e, ({_KIND_BIT_ROWS}) k"
            " WHERE (e.kind_mask & (1 << k.bit)) <> 0",
        ),
    ),
)
#: The schema this code writes and reads.
SCHEMA_VERSION = MIGRATIONS[-1].version

_TELEGRAM_FACTS = (
    "key, event_id, type_code, kind, info_type, serial, reported_at, title, headline,"
    " foreign_quake, max_intensity, intensity_rank, magnitude, magnitude_text, depth_km,"
    " lat, lon, hypocenter_name, tsunami_grade, prefs"
)
_EVENT_COLUMNS = (
    "event_id, first_at, last_at, kinds, type_code, cancelled, title, headline,"
    " foreign_quake, max_intensity, intensity_rank, magnitude, magnitude_text, depth_km,"
    " lat, lon, hypocenter_name, tsunami_grade, prefs, telegram_count"
)
#: Written with every event row, never read back.
_MASK_COLUMNS = "pref_mask, kind_mask"
_EVENT_COUNT = len(_EVENT_COLUMNS.split(",")) + len(_MASK_COLUMNS.split(","))
#: JIS X 0401 prefecture codes (bit n − 1 for code n).
_PREF_BITS = 47


def pref_mask(prefs: Iterable[str]) -> int:
    """The bit set of JIS prefecture codes ``prefs`` (codes outside 01–47 are left out)."""
    mask = 0
    for pref in prefs:
        if pref.isdigit() and 1 <= int(pref) <= _PREF_BITS:
            mask |= 1 << (int(pref) - 1)
    return mask


def kind_mask(kinds: Iterable[Kind]) -> int:
    """The bit set of archived ``kinds``."""
    mask = 0
    for kind in kinds:
        if kind in ARCHIVED_KINDS:
            mask |= 1 << ARCHIVED_KINDS.index(kind)
    return mask


def _csv(values: Sequence[str]) -> str:
    return ",".join(values)


def _split(value: SqlValue) -> tuple[str, ...]:
    return tuple(part for part in str(value or "").split(",") if part)


def _opt_float(value: SqlValue) -> float | None:
    return None if value is None else float(value)


def _opt_str(value: SqlValue) -> str | None:
    return None if value is None else str(value)


# -- writes --------------------------------------------------------------------------------


def _telegram_values(facts: TelegramFacts, payload: str, archived_at: int) -> tuple[SqlValue, ...]:
    return (
        facts.key,
        facts.event_id,
        facts.type_code,
        facts.kind.value,
        facts.info_type.value,
        facts.serial,
        facts.reported_at,
        facts.title,
        facts.headline,
        int(facts.foreign),
        None if facts.max_intensity is None else facts.max_intensity.value,
        intensity_rank(facts.max_intensity),
        facts.magnitude,
        facts.magnitude_text,
        facts.depth_km,
        facts.lat,
        facts.lon,
        facts.hypocenter_name,
        None if facts.tsunami_grade is None else facts.tsunami_grade.value,
        _csv(facts.prefs),
        payload,
        archived_at,
    )


#: Telegrams per INSERT (22 parameters each; far below SQLite's and PostgreSQL's caps).
INSERT_BATCH_ROWS = 200


def insert_telegrams(rows: Sequence[tuple[TelegramFacts, str]], archived_at: int) -> Statement:
    """Add telegrams (facts, payload) whose keys are not archived yet (the others change
    nothing); the statement returns the event id of each row it added."""
    marks = "(" + ", ".join("?" * 22) + ")"
    return Statement(
        f"INSERT INTO telegrams ({_TELEGRAM_FACTS}, payload, archived_at)"
        f" VALUES {', '.join(marks for _ in rows)}"
        " ON CONFLICT (key) DO NOTHING RETURNING event_id",
        tuple(v for facts, payload in rows for v in _telegram_values(facts, payload, archived_at)),
    )


def select_keys(keys: Sequence[str]) -> Statement:
    """Which of ``keys`` are archived."""
    marks = ", ".join("?" * len(keys))
    return Statement(f"SELECT key FROM telegrams WHERE key IN ({marks})", tuple(keys))


def select_telegram_facts(event_ids: Sequence[str]) -> Statement:
    """The facts of every telegram of ``event_ids``."""
    marks = ", ".join("?" * len(event_ids))
    return Statement(
        f"SELECT {_TELEGRAM_FACTS} FROM telegrams WHERE event_id IN ({marks})", tuple(event_ids)
    )


def facts_from_row(row: Row) -> TelegramFacts:
    """A :class:`TelegramFacts` from a row of :func:`select_telegram_facts`."""
    return TelegramFacts(
        key=str(row[0]),
        event_id=str(row[1]),
        type_code=str(row[2]),
        kind=Kind(str(row[3])),
        info_type=InfoType(str(row[4])),
        serial=None if row[5] is None else int(row[5]),
        reported_at=int(row[6] or 0),
        title=str(row[7]),
        headline=str(row[8]),
        foreign=bool(row[9]),
        max_intensity=None if row[10] is None else Intensity(str(row[10])),
        magnitude=_opt_float(row[12]),
        magnitude_text=_opt_str(row[13]),
        depth_km=_opt_float(row[14]),
        lat=_opt_float(row[15]),
        lon=_opt_float(row[16]),
        hypocenter_name=_opt_str(row[17]),
        tsunami_grade=None if row[18] is None else TsunamiGrade(str(row[18])),
        prefs=_split(row[19]),
    )


def write_event(summary: EventSummary) -> list[Statement]:
    """Store ``summary`` as the event's row and rebuild its prefecture and kind rows."""
    marks = ", ".join("?" * _EVENT_COUNT)
    columns = f"{_EVENT_COLUMNS}, {_MASK_COLUMNS}".split(",")[1:]
    updates = ", ".join(f"{column.strip()} = excluded.{column.strip()}" for column in columns)
    s = summary
    statements = [
        Statement(
            f"INSERT INTO events ({_EVENT_COLUMNS}, {_MASK_COLUMNS}) VALUES ({marks})"
            f" ON CONFLICT (event_id) DO UPDATE SET {updates}",
            (
                s.event_id,
                s.first_at,
                s.last_at,
                _csv([kind.value for kind in s.kinds]),
                s.type_code,
                int(s.cancelled),
                s.title,
                s.headline,
                int(s.foreign),
                None if s.max_intensity is None else s.max_intensity.value,
                s.intensity_rank,
                s.magnitude,
                s.magnitude_text,
                s.depth_km,
                s.lat,
                s.lon,
                s.hypocenter_name,
                None if s.tsunami_grade is None else s.tsunami_grade.value,
                _csv(s.prefs),
                s.telegram_count,
                pref_mask(s.prefs),
                kind_mask(s.kinds),
            ),
        )
    ]
    statements += [
        Statement("DELETE FROM event_prefs WHERE event_id = ?", (s.event_id,)),
        Statement("DELETE FROM event_kinds WHERE event_id = ?", (s.event_id,)),
    ]
    codes = [pref for pref in s.prefs if pref_mask([pref])]
    if codes:
        statements.append(
            Statement(
                "INSERT INTO event_prefs (pref, first_at, event_id) VALUES "
                + ", ".join("(?, ?, ?)" for _ in codes),
                tuple(v for pref in codes for v in (pref, s.first_at, s.event_id)),
            )
        )
    if s.kinds:
        statements.append(
            Statement(
                "INSERT INTO event_kinds (kind, first_at, event_id) VALUES "
                + ", ".join("(?, ?, ?)" for _ in s.kinds),
                tuple(v for kind in s.kinds for v in (kind.value, s.first_at, s.event_id)),
            )
        )
    return statements


def select_expired_events(before: int, limit: int) -> Statement:
    """Ids of events whose last telegram is older than ``before`` (retention)."""
    return Statement(
        "SELECT event_id FROM events WHERE last_at < ? ORDER BY last_at LIMIT ?", (before, limit)
    )


def delete_events(event_ids: Sequence[str]) -> list[Statement]:
    """Remove events and everything of them."""
    marks = ", ".join("?" * len(event_ids))
    ids = tuple(event_ids)
    return [
        Statement(f"DELETE FROM {table} WHERE event_id IN ({marks})", ids)
        for table in ("telegrams", "event_prefs", "event_kinds", "events")
    ]


# -- reads ---------------------------------------------------------------------------------


def _filter(
    query: HistoryQuery, dialect: Dialect, *, with_cursor: bool
) -> tuple[str, list[SqlValue]]:
    """The WHERE clause (or "") of ``query`` over ``events e`` and its parameters."""
    where: list[str] = []
    params: list[SqlValue] = []
    if query.since is not None:
        where.append("e.first_at >= ?")
        params.append(query.since)
    if query.until is not None:
        where.append("e.first_at < ?")
        params.append(query.until)
    if dialect is Dialect.SQLITE:
        if query.prefs:
            where.append("(e.pref_mask & ?) <> 0")
            params.append(pref_mask(query.prefs))
        if query.kinds:
            where.append("(e.kind_mask & ?) <> 0")
            params.append(kind_mask(query.kinds))
    else:
        for table, column, values in (
            ("event_prefs", "pref", sorted(query.prefs)),
            ("event_kinds", "kind", sorted(kind.value for kind in query.kinds)),
        ):
            if not values:
                continue
            # The index table is ordered by (value, first_at): the time range narrows it.
            inner = [f"{column} IN ({', '.join('?' * len(values))})"]
            params.extend(values)
            for op, bound in ((">=", query.since), ("<", query.until)):
                if bound is not None:
                    inner.append(f"first_at {op} ?")
                    params.append(bound)
            where.append(
                f"e.event_id IN (SELECT event_id FROM {table} WHERE {' AND '.join(inner)})"
            )
    if query.min_intensity_rank is not None:
        where.append("e.intensity_rank >= ?")
        params.append(query.min_intensity_rank)
    if query.min_magnitude is not None:
        where.append("e.magnitude >= ?")
        params.append(query.min_magnitude)
    if query.max_depth_km is not None:
        where.append("e.depth_km <= ?")
        params.append(query.max_depth_km)
    if with_cursor and query.cursor is not None:
        where.append("(e.first_at < ? OR (e.first_at = ? AND e.event_id < ?))")
        params += [query.cursor.first_at, query.cursor.first_at, query.cursor.event_id]
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


def search(
    query: HistoryQuery, dialect: Dialect = Dialect.SQLITE, *, limit: int | None = None
) -> Statement:
    """Events matching ``query``, newest first, after its cursor, at most ``limit``
    (default ``query.limit``) rows.

    Two steps: the ids of the page come from the filters alone (on SQLite a walk of the
    covering index that never reads a row), then only those rows are read.
    """
    clause, params = _filter(query, dialect, with_cursor=True)
    columns = ", ".join(f"o.{c.strip()}" for c in _EVENT_COLUMNS.split(","))
    params.append(query.limit if limit is None else limit)
    return Statement(
        f"SELECT {columns} FROM events o WHERE o.event_id IN ("
        f"SELECT e.event_id FROM events e{clause}"
        " ORDER BY e.first_at DESC, e.event_id DESC LIMIT ?)"
        " ORDER BY o.first_at DESC, o.event_id DESC",
        tuple(params),
    )


def count_per_day(
    query: HistoryQuery, utc_offset_s: int, dialect: Dialect = Dialect.SQLITE
) -> Statement:
    """How many events match ``query`` (cursor and limit ignored) per day, days starting
    at ``utc_offset_s`` after UTC midnight's offset (JST: 32400); rows are
    (days since 1970-01-01, count), oldest first."""
    clause, params = _filter(query, dialect, with_cursor=False)
    return Statement(
        "SELECT (e.first_at + ?) / 86400 AS day, COUNT(*) FROM events e"
        f"{clause} GROUP BY day ORDER BY day",
        (utc_offset_s, *params),
    )


def select_event(event_id: str) -> Statement:
    """The row of one event."""
    return Statement(f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ?", (event_id,))


def select_payloads(event_id: str) -> Statement:
    """Key and payload of every telegram of one event, oldest first."""
    return Statement(
        "SELECT key, payload FROM telegrams WHERE event_id = ?"
        " ORDER BY reported_at, COALESCE(serial, -1), key",
        (event_id,),
    )


def summary_from_row(row: Row) -> EventSummary:
    """An :class:`EventSummary` from a row of :func:`search` or :func:`select_event`."""
    return EventSummary(
        event_id=str(row[0]),
        first_at=int(row[1] or 0),
        last_at=int(row[2] or 0),
        kinds=tuple(Kind(kind) for kind in _split(row[3])),
        type_code=str(row[4]),
        cancelled=bool(row[5]),
        title=str(row[6]),
        headline=str(row[7]),
        foreign=bool(row[8]),
        max_intensity=None if row[9] is None else Intensity(str(row[9])),
        magnitude=_opt_float(row[11]),
        magnitude_text=_opt_str(row[12]),
        depth_km=_opt_float(row[13]),
        lat=_opt_float(row[14]),
        lon=_opt_float(row[15]),
        hypocenter_name=_opt_str(row[16]),
        tsunami_grade=None if row[17] is None else TsunamiGrade(str(row[17])),
        prefs=_split(row[18]),
        telegram_count=int(row[19] or 0),
    )
