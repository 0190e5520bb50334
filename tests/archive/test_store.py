"""The archive on SQLite and PostgreSQL: idempotent writes, events folded, search."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.archive.events import cancel, quake
from tests.ingest import telegrams as jma
from yure.archive import sql
from yure.archive.errors import StorageError, UnknownEvent
from yure.archive.query import HistoryQuery
from yure.archive.store import Archive
from yure.ingest.event import Intensity, Kind

T0 = datetime(2024, 4, 17, 23, 20, tzinfo=jma.JST)
TOKYO = jma.PrefIntensity("13", "東京都", "350", "東京都２３区", "4")


async def test_migrate_is_idempotent_and_refuses_a_newer_schema(archive: Archive) -> None:
    assert await archive.migrate() == sql.SCHEMA_VERSION

    async def bump(tx: object) -> None:
        await tx.execute(sql.Statement(sql.INSERT_MIGRATION, (99, "future", 0)))  # type: ignore[attr-defined]

    await archive.database.write(bump)
    with pytest.raises(StorageError, match="newer"):
        await archive.migrate()


async def test_each_key_is_archived_once_and_the_event_is_folded(archive: Archive) -> None:
    eid = "20240417231454"
    items = [
        quake("VXSE51", eid, T0, max_int="4"),
        quake("VXSE52", eid, T0 + timedelta(minutes=1)),
        quake("VXSE53", eid, T0 + timedelta(minutes=3), serial=1, max_int="5-"),
    ]
    assert await archive.add(items) == 3
    assert await archive.add(items) == 0  # the same keys again: nothing changes
    assert await archive.missing([k for k, _ in items] + ["nope"]) == {"nope"}
    record = await archive.event(eid)
    s = record.summary
    assert s.telegram_count == 3 and s.kinds == (Kind.QUAKE,)
    assert s.max_intensity is Intensity.I5_LOWER and s.magnitude == 4.5 and s.depth_km == 50
    assert s.first_at == int(T0.timestamp()) and not s.cancelled
    assert s.type_code == "VXSE53" and s.prefs == ("04", "07")
    assert [t.key for t in record.telegrams] == [k for k, _ in items]
    assert orjson.loads(record.telegrams[2].payload)["serial"] == 1


async def test_a_cancelled_event_is_kept_and_marked(archive: Archive) -> None:
    eid = "20240417231500"
    await archive.add([quake("VXSE53", eid, T0, serial=1, max_int="4")])
    await archive.add([cancel("VXSE53", eid, T0 + timedelta(minutes=5), serial=2)])
    s = (await archive.event(eid)).summary
    assert s.cancelled and s.telegram_count == 2
    assert s.max_intensity is Intensity.I4  # what was cancelled stays visible
    assert "取り消します" in s.headline


async def test_unknown_event(archive: Archive) -> None:
    with pytest.raises(UnknownEvent):
        await archive.event("20000101000000")


async def test_search_filters_and_pages(archive: Archive) -> None:
    items = []
    for day in range(6):
        at = T0 + timedelta(days=day)
        prefs = (TOKYO,) if day % 2 else (jma.MIYAGI,)
        epicenter = jma.Epicenter(magnitude=f"{3 + day}.0")
        items.append(
            quake(
                "VXSE53", f"2024041{day}000000", at, serial=1, max_int=str(1 + day % 4),
                prefs=prefs, epicenter=epicenter,
            )
        )  # fmt: skip
    await archive.add(items)
    page = await archive.search(HistoryQuery(limit=4))
    assert [s.event_id for s in page.items] == [f"2024041{d}000000" for d in (5, 4, 3, 2)]
    assert page.next is not None
    rest = await archive.search(HistoryQuery(limit=4, cursor=page.next))
    assert [s.event_id for s in rest.items] == ["20240411000000", "20240410000000"]
    assert rest.next is None
    tokyo = await archive.search(HistoryQuery(prefs=frozenset({"13"})))
    assert [s.event_id[7] for s in tokyo.items] == ["5", "3", "1"]
    strong = await archive.search(HistoryQuery(min_intensity=Intensity.I4))
    assert [s.event_id[7] for s in strong.items] == ["3"]
    big = await archive.search(HistoryQuery(min_magnitude=6.5, prefs=frozenset({"04"})))
    assert [s.event_id[7] for s in big.items] == ["4"]
    window = HistoryQuery(
        since=int((T0 + timedelta(days=1)).timestamp()),
        until=int((T0 + timedelta(days=3)).timestamp()),
    )
    assert [s.event_id[7] for s in (await archive.search(window)).items] == ["2", "1"]
    assert [n for _, n in await archive.count_per_day(HistoryQuery())] == [1] * 6
    assert await archive.search(HistoryQuery(max_depth_km=10)) == (
        await archive.search(HistoryQuery(prefs=frozenset({"47"})))
    )
    exported = [s.event_id async for s in archive.export(HistoryQuery(), max_rows=5)]
    assert len(exported) == 5
    assert await archive.search(HistoryQuery(kinds=frozenset({Kind.TSUNAMI}))) == (
        await archive.search(HistoryQuery(prefs=frozenset({"47"})))
    )


async def test_prune_keeps_recent_events(database_url: str | None, tmp_path: object) -> None:
    now = [T0.timestamp()]
    archive = await Archive.open(database_url, tmp_path / "d", clock=lambda: now[0])  # type: ignore[operator]
    try:
        await archive.add([quake("VXSE53", "20240401000000", T0 - timedelta(days=40), serial=1)])
        await archive.add([quake("VXSE53", "20240417000000", T0, serial=1)])
        assert await archive.prune(30) == 1
        assert await archive.prune(30) == 0
        with pytest.raises(UnknownEvent):
            await archive.event("20240401000000")
        assert (await archive.event("20240417000000")).summary.telegram_count == 1
    finally:
        await archive.close()


async def test_migration_2_backfills_the_index_tables(archive: Archive) -> None:
    """An archive written at schema 1 (prefecture/kind bits only) gains its prefecture
    and kind tables at schema 2, filled from the bits."""
    await archive.add([quake("VXSE53", "20240417000000", T0, serial=1, prefs=(TOKYO,))])

    async def back_to_v1(tx: Any) -> None:
        for statement in (
            "DROP TABLE event_prefs",
            "DROP TABLE event_kinds",
            "DELETE FROM schema_migrations WHERE version = 2",
        ):
            await tx.execute(sql.Statement(statement))

    await archive.database.write(back_to_v1)
    assert await archive.migrate() == 2
    rows = await archive.database.read(sql.Statement("SELECT pref FROM event_prefs ORDER BY pref"))
    assert [r[0] for r in rows] == ["13"]
    kinds = await archive.database.read(sql.Statement("SELECT kind FROM event_kinds"))
    assert [r[0] for r in kinds] == ["quake"]
    found = await archive.search(HistoryQuery(prefs=frozenset({"13"})))
    assert [s.event_id for s in found.items] == ["20240417000000"]
