"""Done-when: after the poller sees a sequence of telegrams (a local JMA), the history API
returns exactly the right events for prefecture, intensity, magnitude, depth and time
filters — on SQLite and PostgreSQL. And: a crash between the timeline append and the
archive write is repaired from the timeline."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import redis.asyncio
from aiohttp import web

from tests.ingest import telegrams as jma
from tests.ingest.fakes import FakeJma
from tests.support import base_url, serving
from yure.archive import http as archive_http
from yure.archive.keeper import archive_sink, repair
from yure.archive.store import Archive
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.geo import codes
from yure.ingest.event import event_to_json
from yure.ingest.ledger import Publication
from yure.ingest.poller import JmaPoller
from yure.ingest.quarantine import Quarantine
from yure.ingest.seen import SeenStore
from yure.settings import Settings
from yure.web.problems import problem_middleware

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=jma.JST)
TOKYO = jma.PrefIntensity("13", "東京都", "350", "東京都２３区", "5-")
OSAKA = jma.PrefIntensity("27", "大阪府", "520", "大阪府北部", "4")
MIYAGI_STRONG = dataclasses.replace(jma.MIYAGI, max_int="6-")


@dataclasses.dataclass(frozen=True)
class Quake:
    event_id: str
    day: int
    max_int: str
    prefs: tuple[jma.PrefIntensity, ...]
    magnitude: str
    depth_m: int


QUAKES = (
    Quake("20240301090000", 0, "3", (jma.MIYAGI, jma.FUKUSHIMA), "4.5", 50000),
    Quake("20240305120000", 4, "5-", (TOKYO,), "5.8", 80000),
    Quake("20240310030000", 9, "4", (OSAKA,), "4.9", 10000),
    Quake("20240320210000", 19, "6-", (MIYAGI_STRONG, jma.FUKUSHIMA), "7.1", 40000),
    Quake("20240331235000", 30, "1", (TOKYO,), "3.0", 0),
)


def _publish(fake: FakeJma, n: int, q: Quake) -> None:
    at = T0 + timedelta(days=q.day)
    epicenter = jma.Epicenter(
        coordinate=f"+37.6+141.6-{q.depth_m}/" if q.depth_m else "+37.6+141.6+0/",
        magnitude=q.magnitude,
    )
    for step, code in enumerate(("VXSE51", "VXSE52", "VXSE53")):
        report = at + timedelta(minutes=step)
        data = jma.quake(
            code,
            event_id=q.event_id,
            report_time=report,
            serial=1 if code == "VXSE53" else None,
            max_int=q.max_int,
            prefs=q.prefs,
            epicenter=epicenter,
        )
        fake.publish(jma.file_name(report, code, n), data, updated=report)


def _publish_drill(fake: FakeJma) -> None:
    """A 訓練 telegram: it never reaches the archive."""
    drill = T0 + timedelta(days=4, minutes=5)
    fake.publish(
        jma.file_name(drill, "VXSE53", 9),
        jma.quake("VXSE53", event_id="20240305120500", report_time=drill, serial=1,
                  status="訓練", prefs=(TOKYO,)),
        updated=drill,
    )  # fmt: skip


def _resolve(tokens: Any) -> frozenset[str]:
    return codes.resolve_pref_tokens(list(tokens))


@pytest.fixture
async def fake_jma() -> AsyncIterator[FakeJma]:
    server = await FakeJma().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def history(
    fake_jma: FakeJma,
    redis_client: redis.asyncio.Redis,
    database_url: str | None,
    tmp_path: Path,
) -> AsyncIterator[str]:
    """The poller's publications archived, and the history API serving the archive."""
    settings = Settings(
        jma_feeds=(fake_jma.feed_url("eqvol.xml"),),
        jma_backfill_feeds=(),
        http_timeout_s=2.0,
        data_dir=tmp_path / "data",
        database_url=database_url,
    )
    now = [T0.timestamp()]
    archive = await Archive.open(database_url, settings.data_dir)
    try:
        async with aiohttp.ClientSession() as session:
            poller = JmaPoller(
                settings,
                session,
                SeenStore(redis_client, clock=lambda: now[0]),
                archive_sink(archive),
                quarantine=Quarantine(tmp_path / "q"),
                clock=lambda: now[0],
            )
            for n, q in enumerate(QUAKES):  # the poller sees each quake as it happens
                _publish(fake_jma, n, q)
                if n == 1:
                    _publish_drill(fake_jma)
                now[0] = (T0 + timedelta(days=q.day, minutes=10)).timestamp()
                await poller.poll_once()
            assert poller.counters.published == 15 and poller.counters.dropped_training == 1
    finally:
        await archive.close()
    app = web.Application(middlewares=[problem_middleware])
    archive_http.setup(app, settings=settings, resolve=_resolve)
    async with serving(app) as runner:
        yield base_url(runner)


async def _ids(base: str, query: str) -> list[str]:
    async with aiohttp.ClientSession() as client, client.get(f"{base}/api/history?{query}") as r:
        assert r.status == 200, await r.text()
        return [item["event_id"] for item in (await r.json())["items"]]


async def test_history_filters_return_exactly_the_right_events(history: str) -> None:
    ids = [q.event_id for q in QUAKES]
    assert await _ids(history, "") == ids[::-1]
    assert await _ids(history, "prefs=13") == [ids[4], ids[1]]
    assert await _ids(history, "prefs=04,27") == [ids[3], ids[2], ids[0]]
    assert await _ids(history, "prefs=kinki") == [ids[2]]
    assert await _ids(history, "min_intensity=5-") == [ids[3], ids[1]]
    assert await _ids(history, "min_intensity=6弱") == [ids[3]]
    assert await _ids(history, "min_magnitude=5.8") == [ids[3], ids[1]]
    assert await _ids(history, "max_depth_km=10") == [ids[4], ids[2]]
    assert await _ids(history, "from=2024-03-05&to=2024-03-20") == [ids[3], ids[2], ids[1]]
    assert await _ids(history, "from=2024-03-05T12:01:00&to=2024-03-20") == [ids[3], ids[2]]
    assert await _ids(history, "prefs=07&min_magnitude=7") == [ids[3]]
    assert await _ids(history, "kinds=tsunami") == []
    # Pages follow the cursor to the end.
    seen: list[str] = []
    cursor = ""
    async with aiohttp.ClientSession() as client:
        for _ in range(5):
            async with client.get(f"{history}/api/history?limit=2{cursor}") as r:
                body = await r.json()
            seen += [item["event_id"] for item in body["items"]]
            if body["next"] is None:
                break
            cursor = f"&cursor={body['next']}"
    assert seen == [q.event_id for q in QUAKES][::-1]


async def test_event_detail_errors_and_exports(history: str) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{history}/api/history/20240320210000") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("application/json")
            body = await r.json()
        event = body["event"]
        assert event["max_intensity"] == "6-" and event["magnitude"] == 7.1
        assert event["depth_km"] == 40 and event["prefs"] == ["04", "07"]
        assert event["time"] == "2024-03-20T09:00:00+09:00"
        assert event["url"] == "/events/20240320210000"
        assert [t["event"]["type_code"] for t in body["telegrams"]] == [
            "VXSE51",
            "VXSE52",
            "VXSE53",
        ]
        async with client.get(f"{history}/api/history/19990101000000") as r:
            assert r.status == 404
        for query, reason in (
            ("min_intensity=8", "min_intensity"),
            ("prefs=atlantis", "prefs"),
            ("from=yesterday", "from"),
            ("from=2024-03-02&to=2024-03-01", "before"),
            ("limit=0", "limit"),
            ("limit=9999", "limit"),
            ("cursor=!!", "cursor"),
            ("max_depth_km=-1", "max_depth_km"),
            ("min_magnitude=nan", "min_magnitude"),
            ("kinds=post", "kinds"),
            ("colour=red", "colour"),
            ("prefs=13&prefs=14", "2 times"),
        ):
            async with client.get(f"{history}/api/history?{query}") as r:
                assert r.status == 400, query
                assert r.content_type == "application/problem+json"
                problem = await r.json(content_type=None)
                assert problem["code"] == "invalid_query" and reason in problem["detail"], query
    # The exports stream every match.
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{history}/api/history.csv?prefs=13") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
            text = (await r.read()).decode()
        lines = text.removeprefix("\ufeff").splitlines()
        assert lines[0].startswith("event_id,time,")
        assert [line.split(",")[0] for line in lines[1:]] == ["20240331235000", "20240305120000"]
        async with client.get(f"{history}/api/history.geojson?min_intensity=4") as r:
            assert r.headers["Content-Type"] == "application/geo+json"
            collection = orjson.loads(await r.read())
        assert collection["type"] == "FeatureCollection"
        features = collection["features"]
        assert [f["properties"]["event_id"] for f in features] == [
            "20240320210000",
            "20240310030000",
            "20240305120000",
        ]
        assert features[0]["geometry"] == {"type": "Point", "coordinates": [141.6, 37.6]}
        async with client.get(f"{history}/api/history.csv?limit=2") as r:
            assert len((await r.read()).decode().splitlines()) == 3
        async with client.get(f"{history}/api/history/days?prefs=13") as r:
            days = (await r.json())["days"]
        assert days == [{"date": "2024-03-05", "count": 1}, {"date": "2024-03-31", "count": 1}]


async def test_a_crash_between_append_and_archive_is_repaired_from_the_timeline(
    redis_client: redis.asyncio.Redis, database_url: str | None, tmp_path: Path
) -> None:
    from tests.archive.events import quake

    timeline = Timeline(redis_client, retention_s=48 * 3600)
    archive = await Archive.open(database_url, tmp_path / "data")
    try:
        items = [quake("VXSE53", f"2024030{n}000000", T0 + timedelta(days=n), serial=1)
                 for n in range(3)]  # fmt: skip
        sink = archive_sink(archive)
        for n, (key, event) in enumerate(items):
            await timeline.append(
                Envelope(key, event.kind.value, event.prefs, orjson.dumps(event_to_json(event)))
            )
            if n != 1:  # the process "crashes" after appending the second item
                await sink(Publication(key, None, event))
        assert await archive.missing([k for k, _ in items]) == {items[1][0]}
        assert await repair(archive, timeline) == 1
        assert await archive.missing([k for k, _ in items]) == set()
        assert await repair(archive, timeline) == 0  # exactly once
        assert (await archive.event("20240301000000")).summary.telegram_count == 1
    finally:
        await archive.close()
