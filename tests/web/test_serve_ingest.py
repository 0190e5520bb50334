"""The ingest wiring of ``yure serve``: publications become timeline entries, under the lease."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import redis.asyncio
from aiohttp import web

from tests.broadcast.support import WAIT_S
from tests.ingest import telegrams
from tests.ingest.fakes import DATA_PATH, FakeJma
from tests.ingest.telegrams import file_name
from yure.archive.http import ARCHIVE
from yure.broadcast.envelope import ZERO_ID
from yure.broadcast.errors import TimelineError
from yure.broadcast.metrics import Metrics
from yure.broadcast.timeline import Timeline
from yure.ingest import liveness, publish
from yure.ingest.event import Event, InfoType, Kind, Status, event_to_json
from yure.ingest.ledger import Publication
from yure.ingest.p2p_felt import FeltEvaluation, FeltReport
from yure.safety_check.services import SERVICES
from yure.settings import Settings
from yure.web import keys, serve
from yure.web.app import build_app

JST = timezone(timedelta(hours=9))


def quake(info_type: InfoType, prefs: tuple[str, ...]) -> Event:
    return Event(
        type_code="VXSE53",
        kind=Kind.QUAKE,
        status=Status.ACTUAL,
        info_type=info_type,
        event_id="20240101161010",
        serial=1,
        reported_at=datetime(2024, 1, 1, 16, 10, tzinfo=JST),
        title="震源・震度に関する情報",
        headline="石川県能登地方で震度７",
        prefs=prefs,
    )


async def test_publication_sink(redis_client: redis.asyncio.Redis) -> None:
    timeline = Timeline(redis_client, retention_s=86400)
    metrics = Metrics()
    sink = publish.publication_sink(timeline, metrics)
    original = quake(InfoType.ISSUED, ("17", "15"))
    await sink(Publication(key="k1", replaces=None, event=original))
    await sink(Publication(key="k1", replaces=None, event=original))  # idempotent
    await sink(Publication(key="k2", replaces="k1", event=quake(InfoType.CANCELLED, ("17",))))
    entries = await timeline.read_after(ZERO_ID, limit=10)
    assert [e.key for e in entries] == ["k1", "k2"]
    assert entries[0].kind == "quake" and entries[0].prefs == ("15", "17")
    assert orjson.loads(entries[0].payload) == orjson.loads(orjson.dumps(event_to_json(original)))
    cancel = orjson.loads(entries[1].payload)
    assert cancel["ref"] == entries[0].id and cancel["info_type"] == "cancelled"
    assert entries[1].prefs == ("15", "17")  # reaches everyone who got the original
    assert metrics.appends._value.get() == 3

    broken = Timeline(redis_client, stream="t:broken", retention_s=86400)
    await redis_client.set(broken.keys_key, "not a hash")
    failing = publish.publication_sink(broken, metrics)
    with pytest.raises(TimelineError):
        await failing(Publication(key="k3", replaces=None, event=original))
    assert metrics.ingest_errors._value.get() == 1


async def test_ingest_runs_under_the_lease_and_reports_liveness(
    redis_url: str,
    redis_client: redis.asyncio.Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two nodes run ingest against a local JMA: one holds the lease and polls, each
    telegram becomes one timeline entry, 訓練 never does, and feed freshness reaches
    every worker through Redis."""
    jma = await FakeJma().start()
    try:
        now = datetime.now(JST).replace(microsecond=0)
        jma.publish(
            file_name(now, "VXSE53"),
            telegrams.quake("VXSE53", event_id="20240101161010", report_time=now, serial=1),
            updated=now,
        )
        jma.publish(
            file_name(now, "VXSE53", 1),
            telegrams.quake(
                "VXSE53", event_id="20240101170000", report_time=now, serial=1, status="訓練"
            ),
            updated=now,
        )
        monkeypatch.setattr(liveness, "LIVENESS_EVERY_S", 0.02)
        settings = Settings(
            redis_url=redis_url,
            data_dir=tmp_path,
            ingest_enabled=True,
            jma_feeds=(jma.feed_url("eqvol.xml"),),
            jma_backfill_feeds=(jma.feed_url("eqvol_l.xml"),),
            poll_interval_s=0.05,
        )
        apps = [build_app(settings, redis_client) for _ in range(2)]
        runners = [web.AppRunner(app) for app in apps]
        for runner in runners:
            await runner.setup()  # opens what the app holds (the archive) as serve does
        tasks = [asyncio.create_task(serve.run_ingest(settings, app)) for app in apps]
        try:
            timeline = apps[0][keys.TIMELINE]
            async with asyncio.timeout(WAIT_S):
                while await liveness.feed_age(redis_client) is None:  # noqa: ASYNC110 - other task
                    await asyncio.sleep(0.02)
                while not await timeline.read_after(ZERO_ID, limit=10):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            entries = await timeline.read_after(ZERO_ID, limit=10)
            assert len(entries) == 1
            event = orjson.loads(entries[0].payload)
            assert event["event_id"] == "20240101161010" and event["official"] is True
            assert event["source_url"].startswith(jma.base)
            assert len(event["sha256"]) == 64
            # one node polls: each telegram was fetched once, not once per node
            assert [jma.hits[DATA_PATH + name] for name in jma.telegrams] == [1, 1]
            # and the official item is archived (the history archive follows the timeline)
            archive = apps[1][ARCHIVE]
            async with asyncio.timeout(WAIT_S):
                while await archive.missing([entries[0].key]):  # noqa: ASYNC110 - other task
                    await asyncio.sleep(0.02)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for runner in runners:
                await runner.cleanup()
    finally:
        await jma.close()


def test_serve_command_line_overrides_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from yure.commands import build_parser

    seen: list[Settings] = []

    def fake_run(settings: Settings) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr(serve, "run", fake_run)
    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "0", "--workers", "3", "--no-ingest"]
    )
    assert args.handler(args, Settings(data_dir=tmp_path)) == 0
    assert (seen[0].host, seen[0].port, seen[0].workers) == ("0.0.0.0", 0, 3)
    assert seen[0].ingest_enabled is False
    for bad, words in (
        (["serve", "--port", "70000"], "'70000': must be 0..65535"),
        (["serve", "--workers", "0"], "'0': must be >= 1"),
        (["serve", "--port", "http"], "'http': invalid literal"),
    ):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(bad)
        assert exited.value.code == 2
        assert words in capsys.readouterr().err


async def test_p2p_felt_reports_count_in_yure_felt_bursts(
    redis_url: str, redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    """serve's felt sink: a 561 with a prefecture counts once in that prefecture's burst;
    one without a prefecture (900/901/905) and 9611 evaluations are not counted."""
    app = build_app(Settings(redis_url=redis_url, data_dir=tmp_path), redis_client)
    felt = app[SERVICES].felt
    sink = publish.felt_sink(felt)
    now = datetime.now(JST)
    await sink(FeltReport(p2p_id="a" * 24, area_code=250, pref="13", received_at=now))
    await sink(FeltReport(p2p_id="b" * 24, area_code=901, pref=None, received_at=now))
    await sink(
        FeltEvaluation(
            p2p_id="c" * 24,
            started_at=now,
            updated_at=now,
            evaluated_at=now,
            count=5,
            confidence=0.97,
            level=1,
            areas=(),
        )
    )
    burst = await felt.add_p2p("13", now.timestamp())
    assert burst is not None
    assert (burst.pref, burst.p2p_count, burst.user_count) == ("13", 2, 0)
