"""ingest.poller against a local JMA (tests/ingest/fakes.py) and a real Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import random
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio

from tests.ingest import telegrams as jma
from tests.ingest.fakes import Behaviour, FakeJma, FakeTimeline
from yure.ingest.errors import FeedError
from yure.ingest.event import InfoType, Source
from yure.ingest.fetch import MAX_REDIRECTS
from yure.ingest.poller import (
    BACKFILL_EVERY_S,
    BACKFILL_GAP_S,
    BACKFILL_WINDOW_S,
    MAX_BACKOFF_S,
    MAX_TELEGRAM_ATTEMPTS,
    JmaPoller,
)
from yure.ingest.quarantine import Quarantine
from yure.ingest.seen import SeenStore
from yure.ingest.telegram import MAX_TELEGRAM_BYTES
from yure.settings import Settings

T0 = datetime(2024, 4, 17, 23, 20, tzinfo=jma.JST)
EVENT_ID = "20240417231712"


class Clock:
    """Injectable wall clock, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def fake_jma() -> AsyncIterator[FakeJma]:
    server = await FakeJma(oversize_bytes=MAX_TELEGRAM_BYTES).start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@dataclasses.dataclass
class Rig:
    fake: FakeJma
    settings: Settings
    session: aiohttp.ClientSession
    redis: redis.asyncio.Redis
    clock: Clock
    quarantine_dir: Path
    timeline: FakeTimeline

    def poller(self, timeline: FakeTimeline | None = None, **kwargs: object) -> JmaPoller:
        """A new poller process: a fresh SeenStore on the same Redis."""
        store = SeenStore(self.redis, prefix="test:ingest", clock=self.clock)
        return JmaPoller(
            self.settings,
            self.session,
            store,
            timeline or self.timeline,
            quarantine=Quarantine(self.quarantine_dir),
            clock=self.clock,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def rig(
    fake_jma: FakeJma,
    session: aiohttp.ClientSession,
    redis_client: redis.asyncio.Redis,
    tmp_path: Path,
) -> Rig:
    settings = Settings(
        jma_feeds=(fake_jma.feed_url("eqvol.xml"),),
        jma_backfill_feeds=(fake_jma.feed_url("eqvol_l.xml"),),
        http_timeout_s=0.5,
        poll_interval_s=20.0,
        data_dir=tmp_path,
    )
    clock = Clock(T0 + timedelta(minutes=30))
    return Rig(fake_jma, settings, session, redis_client, clock, tmp_path / "q", FakeTimeline())


def publish_quake(
    fake: FakeJma, type_code: str, minute: int, serial: int | None = None, n: int = 0, **kw: object
) -> str:
    report = T0 + timedelta(minutes=minute)
    data = jma.quake(type_code, event_id=EVENT_ID, report_time=report, serial=serial, **kw)  # type: ignore[arg-type]
    return fake.publish(jma.file_name(report, type_code, n), data, updated=report)


def publish_cancel(fake: FakeJma, type_code: str, minute: int, serial: int) -> str:
    report = T0 + timedelta(minutes=minute)
    data = jma.cancellation(type_code, event_id=EVENT_ID, report_time=report, serial=serial)
    return fake.publish(jma.file_name(report, type_code), data, updated=report)


async def test_a_sequence_of_telegrams_becomes_the_right_publications(rig: Rig) -> None:
    urls = [
        publish_quake(rig.fake, "VXSE51", 0),
        publish_quake(rig.fake, "VXSE52", 1),
        publish_quake(rig.fake, "VXSE53", 3, serial=1),
        publish_quake(rig.fake, "VXSE53", 4, serial=1, n=1, status="訓練"),
        publish_quake(rig.fake, "VXSE53", 8, serial=2, max_int="4"),
        publish_cancel(rig.fake, "VXSE53", 12, serial=3),
    ]
    poller = rig.poller()
    await poller.poll_once()
    published = rig.timeline.calls
    assert [p.event.type_code for p in published] == [
        "VXSE51",
        "VXSE52",
        "VXSE53",
        "VXSE53",
        "VXSE53",
    ]
    assert [p.event.serial for p in published[2:]] == [1, 2, 3]
    assert published[0].replaces is None and published[1].replaces is None
    assert published[2].replaces is None  # first VXSE53 of the event
    assert published[3].replaces == published[2].key  # serial 2 supersedes serial 1
    assert published[4].replaces == published[3].key  # 取消 retracts serial 2
    assert published[4].event.info_type is InfoType.CANCELLED
    assert all(p.event.public for p in published)  # 訓練 never reaches the sink
    first = published[0].event.provenance
    assert first is not None and first.source is Source.JMA and first.source_url == urls[0]
    assert first.sha256 == hashlib.sha256(rig.fake.telegrams[urls[0].rsplit("/", 1)[1]]).hexdigest()
    assert first.received_at == datetime.fromtimestamp(rig.clock.now, UTC)
    c = poller.counters
    assert (c.polls, c.telegrams, c.published, c.dropped_training, c.errors) == (1, 6, 5, 1, 0)
    assert (c.dropped_stale, c.duplicates, c.quarantined) == (0, 0, 0)
    assert poller.last_success_at == rig.clock.now


async def test_each_telegram_is_published_once_across_a_restart(rig: Rig) -> None:
    publish_quake(rig.fake, "VXSE53", 3, serial=1)
    publish_quake(rig.fake, "VXSE53", 8, serial=2, max_int="4")
    await rig.poller().poll_once()
    assert len(rig.timeline.calls) == 2
    telegram_hits = sum(v for k, v in rig.fake.hits.items() if "/data/" in k)

    restarted = rig.poller()  # new process: nothing in memory, seen ids in Redis
    await restarted.poll_once()
    assert len(rig.timeline.calls) == 2
    assert sum(v for k, v in rig.fake.hits.items() if "/data/" in k) == telegram_hits

    publish_cancel(rig.fake, "VXSE53", 15, serial=3)
    await restarted.poll_once()
    assert len(rig.timeline.calls) == 3
    # ledger state came from Redis: the 取消 replaces serial 2 published before the restart
    assert rig.timeline.calls[2].replaces == rig.timeline.calls[1].key


async def test_unchanged_feed_is_a_304(rig: Rig) -> None:
    publish_quake(rig.fake, "VXSE51", 0)
    poller = rig.poller()
    await poller.poll_once()
    await poller.poll_once()
    assert poller.counters.not_modified >= 1
    assert rig.fake.conditional_hits["/developer/xml/feed/eqvol.xml"] == 1
    publish_quake(rig.fake, "VXSE52", 1)  # the feed changes: 200 again
    await poller.poll_once()
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE51", "VXSE52"]


async def test_late_lower_serial_is_dropped_and_counted(rig: Rig) -> None:
    poller = rig.poller()
    publish_quake(rig.fake, "VXSE53", 8, serial=2, max_int="4")
    await poller.poll_once()
    # serial 1 shows up only now (e.g. from the long feed after an outage)
    report = T0 + timedelta(minutes=3)
    data = jma.quake("VXSE53", event_id=EVENT_ID, report_time=report, serial=1)
    rig.fake.publish(jma.file_name(report, "VXSE53"), data, updated=T0 + timedelta(minutes=9))
    await poller.poll_once()
    assert [p.event.serial for p in rig.timeline.calls] == [2]
    assert poller.counters.dropped_stale == 1


async def test_bad_documents_are_quarantined_marked_seen_and_skipped(rig: Rig) -> None:
    fake = rig.fake
    updated = T0 + timedelta(minutes=1)
    fake.publish("20240417142100_0_VXSE53_010000.xml", b"<Report><Control>", updated=updated)
    fake.publish("20240417142100_1_VXSE53_010000.xml", jma.BILLION_LAUGHS, updated=updated)
    fake.publish("20240417142100_2_VXSE53_010000.xml", b"", updated=updated)
    fake.behaviour["20240417142100_2_VXSE53_010000.xml"] = Behaviour.OVERSIZE
    moved = "moved-20240417142100_3_VXSE51_010000.xml"
    fake.publish(moved, b"", updated=updated)
    fake.behaviour[moved] = Behaviour.REDIRECT_OTHER_HOST
    fake.telegrams["20240417142100_3_VXSE51_010000.xml"] = jma.quake(
        "VXSE51", event_id=EVENT_ID, report_time=updated
    )
    fake.publish("20240417142100_4_VXSE53_010000.xml", b"", updated=updated)
    fake.behaviour["20240417142100_4_VXSE53_010000.xml"] = Behaviour.REDIRECT_LOOP
    fake.publish("20240417142100_5_VXSE53_010000.xml", b"", updated=updated)
    fake.telegram_script["20240417142100_5_VXSE53_010000.xml"] = deque_of(404)
    good = publish_quake(fake, "VXSE52", 2)

    poller = rig.poller()
    await poller.poll_once()
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE52"]
    assert rig.timeline.calls[0].event.provenance is not None
    assert rig.timeline.calls[0].event.provenance.source_url == good
    assert poller.counters.errors == 6
    # malformed, billion laughs and the first 2 MiB of the oversized one are kept aside
    assert poller.counters.quarantined == 3
    kept = sorted(p.name for p in rig.quarantine_dir.glob("*.bin"))
    assert len(kept) == 3 and len(list(rig.quarantine_dir.glob("*.txt"))) == 3
    assert fake.hits[f"/developer/xml/data/{moved.removeprefix('moved-')}"] == 0  # not followed
    assert fake.hits["/developer/xml/data/20240417142100_4_VXSE53_010000.xml"] == MAX_REDIRECTS + 1

    before = sum(v for k, v in fake.hits.items() if "/data/" in k)
    publish_quake(fake, "VXSE51", 3)
    await poller.poll_once()
    # bad ones are seen: the next poll fetches only the new telegram
    assert sum(v for k, v in fake.hits.items() if "/data/" in k) == before + 1
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE52", "VXSE51"]


def deque_of(*statuses: int) -> deque[int]:
    return deque(statuses)


async def test_same_host_redirect_is_followed(rig: Rig) -> None:
    report = T0 + timedelta(minutes=1)
    name = jma.file_name(report, "VXSE51")
    rig.fake.telegrams[name] = jma.quake("VXSE51", event_id=EVENT_ID, report_time=report)
    rig.fake.publish("moved-" + name, b"", updated=report)
    rig.fake.behaviour["moved-" + name] = Behaviour.REDIRECT_SAME_HOST
    await rig.poller().poll_once()
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE51"]


async def test_transient_telegram_failures_are_retried_then_given_up(rig: Rig) -> None:
    flaky = publish_quake(rig.fake, "VXSE51", 0).rsplit("/", 1)[1]
    rig.fake.telegram_script[flaky] = deque_of(503)
    broken = publish_quake(rig.fake, "VXSE52", 1).rsplit("/", 1)[1]
    rig.fake.telegram_script[broken] = deque_of(*([500] * MAX_TELEGRAM_ATTEMPTS))
    poller = rig.poller()
    await poller.poll_once()
    assert rig.timeline.calls == [] and poller.counters.errors == 2
    await poller.poll_once()  # 503 was transient: fetched again, published once
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE51"]
    for _ in range(MAX_TELEGRAM_ATTEMPTS):
        await poller.poll_once()
    hits = rig.fake.hits[f"/developer/xml/data/{broken}"]
    assert hits == MAX_TELEGRAM_ATTEMPTS  # given up after that many, then seen
    await poller.poll_once()
    assert rig.fake.hits[f"/developer/xml/data/{broken}"] == hits


async def test_feed_5xx_and_timeout_raise_feed_error(rig: Rig) -> None:
    poller = rig.poller()
    rig.fake.script_feed("eqvol.xml", 503)
    with pytest.raises(FeedError):
        await poller.poll_once()
    assert poller.last_success_at is None and poller.counters.errors == 1
    rig.fake.script_feed("eqvol.xml", Behaviour.SLOW)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(FeedError):
        await poller.poll_once()
    assert loop.time() - started < 5 * rig.settings.http_timeout_s  # bounded by the timeout
    publish_quake(rig.fake, "VXSE51", 0)
    await poller.poll_once()
    assert poller.last_success_at == rig.clock.now and len(rig.timeline.calls) == 1


async def test_slow_telegram_times_out_and_stays_pending(rig: Rig) -> None:
    slow = publish_quake(rig.fake, "VXSE51", 0).rsplit("/", 1)[1]
    rig.fake.behaviour[slow] = Behaviour.SLOW
    poller = rig.poller()
    await poller.poll_once()  # the poll itself succeeds
    assert poller.counters.errors == 1 and poller.last_success_at is not None
    del rig.fake.behaviour[slow]
    await poller.poll_once()
    assert len(rig.timeline.calls) == 1


async def test_backfill_at_start_and_after_a_gap(rig: Rig) -> None:
    fake = rig.fake
    report = T0 + timedelta(minutes=1)
    data = jma.quake("VXSE52", event_id=EVENT_ID, report_time=report)
    fake.publish(jma.file_name(report, "VXSE52"), data, updated=report, feeds=("eqvol_l.xml",))
    poller = rig.poller()
    await poller.poll_once()  # start-up: the long feed is read too
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE52"]
    long_hits = fake.hits["/developer/xml/feed/eqvol_l.xml"]
    rig.clock.advance(20)
    await poller.poll_once()  # within BACKFILL_EVERY_S: the long feed is not read
    assert fake.hits["/developer/xml/feed/eqvol_l.xml"] == long_hits
    rig.clock.advance(BACKFILL_EVERY_S)
    await poller.poll_once()  # still in the window after start-up: read again (304)
    assert fake.hits["/developer/xml/feed/eqvol_l.xml"] == long_hits + 1
    steady = BACKFILL_GAP_S - 10  # polls closer together than a gap
    for _ in range(int(BACKFILL_WINDOW_S // steady) + 1):
        rig.clock.advance(steady)
        await poller.poll_once()
    after_window = fake.hits["/developer/xml/feed/eqvol_l.xml"]
    rig.clock.advance(steady)  # window over, no gap: short feed only
    await poller.poll_once()
    assert fake.hits["/developer/xml/feed/eqvol_l.xml"] == after_window
    # an outage longer than the short feed's window: backfill again
    missed = T0 + timedelta(minutes=5)
    data = jma.quake("VXSE51", event_id=EVENT_ID, report_time=missed)
    fake.publish(jma.file_name(missed, "VXSE51"), data, updated=missed, feeds=("eqvol_l.xml",))
    rig.clock.advance(BACKFILL_GAP_S + 1)
    await poller.poll_once()
    assert [p.event.type_code for p in rig.timeline.calls] == ["VXSE52", "VXSE51"]


async def test_entries_older_than_retention_are_not_fetched(rig: Rig) -> None:
    old = publish_quake(rig.fake, "VXSE51", 0).rsplit("/", 1)[1]
    rig.clock.advance(rig.settings.retention_s + 3600)
    await rig.poller().poll_once()
    assert rig.timeline.calls == [] and rig.fake.hits[f"/developer/xml/data/{old}"] == 0


async def test_telegram_on_another_host_is_refused(rig: Rig) -> None:
    report = T0 + timedelta(minutes=1)
    name = jma.file_name(report, "VXSE51")
    rig.fake.telegrams[name] = jma.quake("VXSE51", event_id=EVENT_ID, report_time=report)
    other = f"http://localhost:{rig.fake.port}/developer/xml/data/{name}"
    rig.fake.publish(name, rig.fake.telegrams[name], updated=report, url=other)
    poller = rig.poller()
    await poller.poll_once()
    assert rig.timeline.calls == [] and poller.counters.errors == 1
    assert rig.fake.hits[f"/developer/xml/data/{name}"] == 0


async def test_crash_between_sink_and_commit_republishes_the_same_key(rig: Rig) -> None:
    publish_quake(rig.fake, "VXSE53", 3, serial=1)
    publish_quake(rig.fake, "VXSE53", 8, serial=2, max_int="4")
    crashing = FakeTimeline(fail_after=1)  # the second publication is recorded, then fails
    with pytest.raises(ConnectionError):
        await rig.poller(crashing).poll_once()
    assert len(crashing.calls) == 2
    restarted = FakeTimeline()
    await rig.poller(restarted).poll_once()
    (again,) = restarted.calls
    assert again.key == crashing.calls[1].key  # same key: the timeline ignores it
    assert again.replaces == crashing.calls[0].key


@pytest.mark.parametrize("interval", [20.0, 150.0])
async def test_backoff_never_exceeds_the_interval_nor_a_minute(rig: Rig, interval: float) -> None:
    """Issue 10 item 11: after a long JMA outage the poller used to wait up to 300 s; now
    every retry comes within one poll interval (and at most a minute), so items flow within
    one interval of JMA recovering."""
    failures = 9
    delays: list[float] = []
    rig.fake.script_feed("eqvol.xml", *([500] * failures))
    publish_quake(rig.fake, "VXSE51", 0)

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) > failures:
            raise asyncio.CancelledError
        await asyncio.sleep(0)

    settings = dataclasses.replace(rig.settings, poll_interval_s=interval)
    poller = JmaPoller(
        settings, rig.session, SeenStore(rig.redis, prefix="test:ingest", clock=rig.clock),
        rig.timeline, quarantine=Quarantine(rig.quarantine_dir), clock=rig.clock,
        sleep=fake_sleep, rng=random.Random(7),
    )  # fmt: skip
    with pytest.raises(asyncio.CancelledError):
        await poller.run()
    ceiling = min(interval, MAX_BACKOFF_S)
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays[:failures])
    assert len(rig.timeline.calls) == 1  # the first poll after recovery delivers the item
    assert delays[failures] == interval  # success: back to the normal interval
    assert poller.counters.polls == failures + 1


@pytest.mark.reference
async def test_reference_telegrams_through_the_poller(rig: Rig, reference_dir: Path) -> None:
    """All 25 official sample telegrams: no crash; 訓練/試験 never published."""
    files = sorted((reference_dir / "jma/xml").glob("*.xml"))
    for index, path in enumerate(files):
        updated = T0 + timedelta(seconds=index)
        rig.fake.publish(path.name, path.read_bytes(), updated=updated)
    poller = rig.poller()
    await poller.poll_once()
    assert poller.counters.telegrams == len(files)
    assert poller.counters.dropped_training == 2  # VXSE52 訓練, VXSE42 試験
    assert all(p.event.public for p in rig.timeline.calls)
    keys = [p.key for p in rig.timeline.calls]
    assert len(keys) == len(set(keys))
    assert (
        poller.counters.published + poller.counters.dropped_stale + poller.counters.duplicates
        == (len(files) - 2)
    )


async def test_per_poll_cap_leaves_the_rest_for_the_next_poll(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("yure.ingest.poller.MAX_TELEGRAMS_PER_POLL", 2)
    for minute, code in enumerate(("VXSE51", "VXSE52", "VXSE51")):
        publish_quake(rig.fake, code, minute * 2)
    poller = rig.poller()
    await poller.poll_once()
    assert len(rig.timeline.calls) == 2
    await poller.poll_once()  # the feed is fetched in full again (no 304 while pending)
    assert len(rig.timeline.calls) == 3
    assert rig.fake.conditional_hits["/developer/xml/feed/eqvol.xml"] == 0
    await poller.poll_once()
    assert rig.fake.conditional_hits["/developer/xml/feed/eqvol.xml"] == 1


async def test_a_future_dated_tsunami_telegram_does_not_silence_later_ones(rig: Rig) -> None:
    """Issue 10 item 10: a VTSE41 dated 2 h ahead of its receipt must not make every later
    real 大津波警報 stale; both are published (a tsunami warning is never lost)."""
    advisory = (jma.TsunamiItem("220", "宮城県", "62", "津波注意報"),)
    major = (jma.TsunamiItem("220", "宮城県", "52", "大津波警報"),)
    poller = rig.poller()
    received = datetime.fromtimestamp(rig.clock(), UTC)
    ahead = received + timedelta(hours=2)
    rig.fake.publish(
        jma.file_name(received, "VTSE41"),
        jma.tsunami(advisory, event_id=EVENT_ID, report_time=ahead),
        updated=received,
    )
    await poller.poll_once()
    rig.clock.advance(60)
    later = datetime.fromtimestamp(rig.clock(), UTC) - timedelta(seconds=30)
    rig.fake.publish(
        jma.file_name(later, "VTSE41", 1),
        jma.tsunami(major, event_id=EVENT_ID, report_time=later),
        updated=later,
    )
    await poller.poll_once()
    future, real = rig.timeline.calls
    assert real.replaces == future.key
    assert real.event.tsunami[0].area_name == "宮城県"
    assert poller.counters.dropped_stale == 0
