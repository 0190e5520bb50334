"""The lease holder's archive work: a failed repair is retried, retention prunes old
events hourly, a failed prune never stops it; `yure archive import` from the CLI root."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
import redis.asyncio

from tests.archive.events import quake
from tests.ingest import telegrams as jma
from yure.archive import keeper
from yure.archive.errors import StorageError
from yure.archive.query import HistoryQuery
from yure.archive.store import Archive
from yure.broadcast.envelope import Entry, Envelope
from yure.broadcast.errors import TimelineError
from yure.broadcast.timeline import Timeline
from yure.commands import main
from yure.ingest.event import event_to_json

NOW = datetime(2024, 6, 1, tzinfo=jma.JST)


class FlakyTimeline(Timeline):
    """Fails the first read (Redis down for a moment)."""

    failures = 1

    async def read_after(self, since: str, *, limit: int, until: str | None = None) -> list[Entry]:
        if self.failures:
            self.failures -= 1
            raise TimelineError("redis timed out")
        return await super().read_after(since, limit=limit, until=until)


async def test_keep_retries_the_repair_then_prunes_every_hour(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    archive = await Archive.open(None, tmp_path, clock=lambda: NOW.timestamp())
    timeline = FlakyTimeline(redis_client, retention_s=48 * 3600)
    key, event = quake("VXSE53", "20240601000000", NOW, serial=1)
    await timeline.append(
        Envelope(key, event.kind.value, event.prefs, orjson.dumps(event_to_json(event)))
    )
    await archive.add([quake("VXSE53", "20240101000000", NOW - timedelta(days=100), serial=1)])
    sleeps: list[float] = []
    prunes = 0
    real_prune = archive.prune

    async def prune(retention_days: int) -> int:
        nonlocal prunes
        prunes += 1
        if prunes == 1:
            raise StorageError("database is locked")
        return await real_prune(retention_days)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise asyncio.CancelledError

    archive.prune = prune  # type: ignore[method-assign]
    try:
        with pytest.raises(asyncio.CancelledError):
            await keeper.keep(archive, timeline, retention_days=30, sleep=sleep)
        assert sleeps == [keeper.REPAIR_RETRY_S, keeper.PRUNE_EVERY_S, keeper.PRUNE_EVERY_S]
        assert await archive.missing([key]) == set()  # repaired on the second try
        assert prunes == 2
        page = [s.event_id for s in (await archive.search(HistoryQuery())).items]
        assert page == ["20240601000000"]  # the 100-day-old event is gone
        await keeper.keep(archive, timeline, retention_days=None, sleep=sleep)  # returns
    finally:
        await archive.close()


def test_yure_archive_import_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram = tmp_path / "a.xml"
    telegram.write_bytes(jma.quake("VXSE53", event_id="20240601000000", report_time=NOW, serial=1))
    monkeypatch.setenv("YURE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("YURE_DATABASE_URL", raising=False)
    assert main(["archive", "import", "--quiet", str(telegram)]) == 0
    assert "archived now: 1" in capsys.readouterr().err
    assert main(["archive", "import", str(telegram)]) == 0
    err = capsys.readouterr().err
    assert "archived before: 1" in err and "1 documents, 1 telegrams" in err
    assert (tmp_path / "data" / "archive.sqlite3").is_file()
