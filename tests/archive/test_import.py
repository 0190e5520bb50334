"""Backfill: importing the reference telegrams and a P2P history sample gives the same
events as ingesting them live (local JMA + local P2P地震情報); importing twice changes
nothing; folders, .tar.gz and .zip give the same; ``yure archive import`` reports."""

from __future__ import annotations

import asyncio
import io
import tarfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import orjson
import pytest
import redis.asyncio

from tests.ingest import telegrams as jma
from tests.ingest.fakes import FakeJma, FakeP2P, P2PConnectionScript, wait_for
from yure.archive.cli import EXIT_OK, EXIT_SOME_FAILED, run_import
from yure.archive.errors import SourceError
from yure.archive.facts import EventSummary
from yure.archive.importer import Importer
from yure.archive.keeper import archive_sink
from yure.archive.query import HistoryQuery
from yure.archive.store import Archive
from yure.ingest.p2p_client import P2PClient
from yure.ingest.places import GeoPlaces
from yure.ingest.poller import JmaPoller
from yure.ingest.quarantine import Quarantine
from yure.ingest.seen import SeenStore
from yure.settings import Settings

pytestmark = pytest.mark.reference
T0 = datetime(2024, 4, 17, 23, 20, tzinfo=jma.JST)
PLACES = GeoPlaces.load()


def _xml_files(reference_dir: Path) -> list[Path]:
    return sorted((reference_dir / "jma/xml").glob("*.xml"))


def _p2p_items(reference_dir: Path) -> list[dict[str, object]]:
    """Every P2P sample, oldest first (as the WebSocket delivers them)."""
    items = [orjson.loads(p.read_bytes()) for p in (reference_dir / "p2pquake/samples").glob("*")]
    return sorted(items, key=lambda item: str(item["time"]))


def _history_document(reference_dir: Path, folder: Path) -> Path:
    """A P2P history answer: one JSON array, newest first (as /v2/jma/quake answers)."""
    path = folder / "p2p-history.json"
    path.write_bytes(orjson.dumps(_p2p_items(reference_dir)[::-1]))
    return path


async def _snapshot(archive: Archive) -> list[tuple[EventSummary, tuple[str, ...]]]:
    page = await archive.search(HistoryQuery(limit=500))
    assert page.next is None
    return [
        (s, tuple(t.key for t in (await archive.event(s.event_id)).telegrams)) for s in page.items
    ]


async def _ingest_live(
    archive: Archive, reference_dir: Path, redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    fake = await FakeJma().start()
    items = _p2p_items(reference_dir)
    p2p = await FakeP2P([P2PConnectionScript([orjson.dumps(i) for i in items], "stay")]).start()
    try:
        for index, path in enumerate(_xml_files(reference_dir)):
            fake.publish(path.name, path.read_bytes(), updated=T0 + timedelta(seconds=index))
        settings = Settings(
            jma_feeds=(fake.feed_url("eqvol.xml"),),
            jma_backfill_feeds=(),
            p2p_ws_url=p2p.url,
            data_dir=tmp_path,
        )
        now = (T0 + timedelta(minutes=30)).timestamp()
        store = SeenStore(redis_client, clock=lambda: now)
        sink = archive_sink(archive)
        async with aiohttp.ClientSession() as session:
            quarantine = Quarantine(tmp_path / "q")
            poller = JmaPoller(settings, session, store, sink, quarantine=quarantine,
                               clock=lambda: now)  # fmt: skip
            await poller.poll_once()
        client = P2PClient(settings, store, sink, places=PLACES,
                           quarantine=Quarantine(tmp_path / "q"))  # fmt: skip
        task = asyncio.create_task(client.run())
        try:
            c = client.counters  # every item handled, not only received
            await wait_for(
                lambda: (
                    c.published
                    + c.duplicates
                    + c.dropped_training
                    + c.dropped_stale
                    + c.ignored
                    + c.felt
                    + c.errors
                    == len(items)
                )
            )
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    finally:
        await p2p.close()
        await fake.close()


async def test_import_gives_the_same_events_as_live_ingest(
    reference_dir: Path,
    redis_client: redis.asyncio.Redis,
    database_url: str | None,
    tmp_path: Path,
) -> None:
    live = await Archive.open(database_url, tmp_path / "live")
    try:
        await _ingest_live(live, reference_dir, redis_client, tmp_path)
        expected = await _snapshot(live)
    finally:
        await live.close()
    if database_url is not None:  # one PostgreSQL database: empty it for the import
        await _drop_all(database_url)
    imported = await Archive.open(database_url, tmp_path / "import")
    try:
        importer = Importer(imported, GeoPlaces.load)
        history = _history_document(reference_dir, tmp_path)
        stats = await importer.run([reference_dir / "jma/xml", history])
        assert stats.not_public == 2  # VXSE52 訓練, VXSE42 試験
        assert stats.not_official == 5  # 554, 555, 561 ×2, 9611
        assert stats.problems == 0
        assert await _snapshot(imported) == expected
        assert len(expected) >= 15
        again = await Importer(imported, GeoPlaces.load).run([reference_dir / "jma/xml", history])
        assert again.added == 0 and again.already == stats.added
        assert await _snapshot(imported) == expected
    finally:
        await imported.close()


async def _drop_all(url: str) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("DROP SCHEMA public CASCADE")
        await conn.execute("CREATE SCHEMA public")


def _pack(files: list[Path], folder: Path) -> tuple[Path, Path]:
    tgz, zipped = folder / "telegrams.tar.gz", folder / "telegrams.zip"
    with tarfile.open(tgz, "w:gz") as tar:
        for path in files:
            tar.add(path, arcname=f"jma/{path.name}")
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, arcname=f"jma/{path.name}")
        archive.writestr("README.txt", "not a telegram")
    return tgz, zipped


async def test_archives_and_folders_import_alike(reference_dir: Path, tmp_path: Path) -> None:
    files = _xml_files(reference_dir)
    tgz, zipped = _pack(files, tmp_path)
    snapshots = []
    for n, source in enumerate((reference_dir / "jma/xml", tgz, zipped)):
        archive = await Archive.open(None, tmp_path / f"db{n}")
        try:
            stats = await Importer(archive, GeoPlaces.load).run([source])
            assert stats.documents == len(files) and stats.problems == 0
            snapshots.append(await _snapshot(archive))
        finally:
            await archive.close()
    assert snapshots[0] == snapshots[1] == snapshots[2]


async def test_bad_documents_are_named_and_the_rest_is_imported(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = jma.quake("VXSE53", event_id="20240417232000", report_time=T0, serial=1)
    (folder / "a.xml").write_bytes(good)
    (folder / "b.xml").write_bytes(b"<not xml")
    (folder / "c.json").write_bytes(b"[{]")
    (folder / "d.txt").write_bytes(b"hello")
    (folder / "e.json").write_bytes(b'{"id": "x1", "code": 551}')  # missing fields
    out = io.StringIO()
    settings = Settings(data_dir=tmp_path / "data")
    status, stats = await run_import(settings, [folder], err=out)
    assert status == EXIT_SOME_FAILED and stats is not None
    assert (stats.documents, stats.added, stats.problems, stats.skipped_files) == (4, 1, 4, 1)
    report = out.getvalue()
    assert "b.xml" in report and "c.json" in report and "d.txt" in report
    assert "archived now: 1" in report
    status, _ = await run_import(settings, [folder / "a.xml"], err=io.StringIO(), quiet=True)
    assert status == EXIT_OK
    with pytest.raises(SourceError):
        await Importer(Archive.__new__(Archive), GeoPlaces.load).run([tmp_path / "missing"])
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    status, _ = await run_import(settings, [broken], err=io.StringIO())
    assert status == 2
