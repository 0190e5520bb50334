"""ingest.p2p_client against a local P2P地震情報 WebSocket (tests/ingest/fakes.py), and the
merge of its items with JMA's feed through one ledger and one Redis."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio

from tests.ingest import p2p_items as items
from tests.ingest import telegrams as jma
from tests.ingest.fakes import FakeJma, FakeP2P, FakeTimeline, P2PConnectionScript, wait_for
from yure.ingest.event import Source
from yure.ingest.p2p import FeltEvaluation, FeltReport
from yure.ingest.p2p_client import RECONNECT_BASE_S, RECONNECT_CAP_S, FeltRecord, P2PClient
from yure.ingest.places import GeoPlaces
from yure.ingest.poller import JmaPoller
from yure.ingest.quarantine import Quarantine
from yure.ingest.seen import SeenStore
from yure.settings import Settings

PLACES = GeoPlaces.load()
T0 = datetime(2024, 4, 17, 23, 20, tzinfo=jma.JST)
QUAKE_A = items.encode(
    items.quake("aaaa", issue_type="DetailScale", issue_time="2024/04/17 23:20:08",
                points=[("宮城県", "観測点", False, 30)])
)  # fmt: skip
TSUNAMI_B = items.encode(
    items.tsunami("bbbb", issue_time="2024/04/17 23:30:40", areas=[("宮城県", "Watch")])
)
EEW_E = items.encode(items.eew("eeee"))
FELT_U = items.encode(items.userquake("uuuu"))
EVAL_V = items.encode(items.evaluation("vvvv"))


class Sleeps:
    """Injectable sleep: records the backoff and yields without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def make_client(
    url: str | None,
    store: SeenStore,
    timeline: FakeTimeline,
    tmp_path: Path,
    felt: list[FeltRecord] | None = None,
    **kwargs: object,
) -> P2PClient:
    async def felt_sink(record: FeltRecord) -> None:
        if felt is not None:
            felt.append(record)

    return P2PClient(
        Settings(p2p_ws_url=url, data_dir=tmp_path),
        store,
        timeline,
        places=PLACES,
        felt_sink=felt_sink,
        quarantine=Quarantine(tmp_path / "q"),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_reconnects_after_drops_and_delivers_each_id_once(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    server = await FakeP2P(
        [
            P2PConnectionScript([QUAKE_A, QUAKE_A, FELT_U], then="close"),
            P2PConnectionScript([QUAKE_A, EEW_E, EVAL_V, b"{garbage", TSUNAMI_B], then="abort"),
            P2PConnectionScript([FELT_U, EEW_E], then="stay"),
        ]
    ).start()
    timeline = FakeTimeline()
    felt: list[FeltRecord] = []
    sleeps = Sleeps()
    store = SeenStore(redis_client, prefix="test:ingest")
    client = make_client(server.url, store, timeline, tmp_path, felt, sleep=sleeps,
                         rng=random.Random(3))  # fmt: skip
    task = asyncio.create_task(client.run())
    try:
        # Wait for the last message to be handled, not only received: a cancel now takes
        # effect inside the Redis call that checks it (yure.aio.bounded_call).
        await wait_for(
            lambda: (
                client.counters.messages == 10
                and client.connected
                and client.counters.duplicates == 4
            )
        )
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.close()
    assert server.connections == 3
    assert [p.event.type_code for p in timeline.calls] == ["VXSE53", "VXSE43", "VTSE41"]
    assert all(p.replaces is None for p in timeline.calls)
    assert [type(r) for r in felt] == [FeltReport, FeltEvaluation]
    c = client.counters
    assert (c.connections, c.published, c.felt, c.errors) == (3, 3, 2, 1)
    assert c.duplicates == 4  # QUAKE_A ×2, FELT_U, EEW_E re-delivered
    provenance = timeline.calls[0].event.provenance
    assert provenance is not None and provenance.source is Source.P2P
    assert provenance.source_url == f"{server.url}#aaaa" and provenance.sha256 is not None
    assert len(list((tmp_path / "q").glob("*.bin"))) == 1  # the garbage frame, kept aside
    assert len(sleeps.delays) == 2
    for failures, delay in enumerate(sleeps.delays, start=1):
        ceiling = min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2 ** (failures - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert all(agent and agent.startswith("yure/") for agent in server.user_agents)


async def test_a_long_connection_resets_the_backoff(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    server = await FakeP2P([P2PConnectionScript([], "close") for _ in range(3)]).start()
    ticks = iter(range(0, 10_000, 100))  # every clock read is 100 s later: "healthy"
    sleeps = Sleeps()
    store = SeenStore(redis_client, prefix="test:ingest")
    client = make_client(server.url, store, FakeTimeline(), tmp_path, sleep=sleeps,
                         clock=lambda: float(next(ticks)))  # fmt: skip
    task = asyncio.create_task(client.run())
    try:
        await wait_for(lambda: len(sleeps.delays) >= 3)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.close()
    assert all(delay <= RECONNECT_BASE_S for delay in sleeps.delays)


async def test_unreachable_server_is_retried_with_growing_backoff(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    server = await FakeP2P([]).start()
    url = server.url
    await server.close()  # nothing listens there any more
    sleeps = Sleeps()
    client = make_client(url, SeenStore(redis_client, prefix="t"), FakeTimeline(), tmp_path,
                         sleep=sleeps, rng=random.Random(1))  # fmt: skip
    task = asyncio.create_task(client.run())
    try:
        await wait_for(lambda: len(sleeps.delays) >= 8)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert client.counters.connections == 0
    assert sleeps.delays[7] > sleeps.delays[0]
    assert max(sleeps.delays) <= RECONNECT_CAP_S


async def test_sink_failure_leaves_the_item_unseen(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    failing = FakeTimeline(fail_after=0)
    store = SeenStore(redis_client, prefix="test:ingest")
    client = make_client("ws://127.0.0.1:9/v2/ws", store, failing, tmp_path)
    await client.handle_message(EEW_E)
    assert client.counters.errors == 1 and not await store.is_seen("p2p", "eeee")
    working = FakeTimeline()
    retry = make_client("ws://127.0.0.1:9/v2/ws", store, working, tmp_path)
    await retry.handle_message(EEW_E)  # redelivered: handled, same key
    assert [p.key for p in working.calls] == [failing.calls[0].key]


def test_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="p2p_ws_url"):
        P2PClient(Settings(data_dir=tmp_path), None, FakeTimeline(), places=PLACES)  # type: ignore[arg-type]


# --- merge with JMA's feed ------------------------------------------------------------------


@pytest.fixture
async def fake_jma() -> AsyncIterator[FakeJma]:
    server = await FakeJma().start()
    try:
        yield server
    finally:
        await server.close()


async def _poll(
    fake: FakeJma, store: SeenStore, timeline: FakeTimeline, tmp_path: Path
) -> JmaPoller:
    settings = Settings(
        jma_feeds=(fake.feed_url("eqvol.xml"),),
        jma_backfill_feeds=(),
        http_timeout_s=2.0,
        data_dir=tmp_path,
    )
    now = (T0 + timedelta(minutes=30)).timestamp()
    async with aiohttp.ClientSession() as session:
        poller = JmaPoller(settings, session, store, timeline, clock=lambda: now,
                           quarantine=Quarantine(tmp_path / "q"))  # fmt: skip
        await poller.poll_once()
    return poller


async def test_the_same_items_via_p2p_then_jma_reach_the_timeline_once(
    redis_client: redis.asyncio.Redis, fake_jma: FakeJma, tmp_path: Path
) -> None:
    store = SeenStore(redis_client, prefix="test:ingest")  # one store: one ledger
    timeline = FakeTimeline()
    client = make_client("ws://127.0.0.1:9/v2/ws", store, timeline, tmp_path)
    scale_prompt = items.quake("s1", issue_type="ScalePrompt", issue_time="2024/04/17 23:20:07",
                               hypo=items.NO_HYPOCENTER,
                               points=[("宮城県", "宮城県中部", True, 30),
                                       ("福島県", "福島県浜通り", True, 30)])  # fmt: skip
    detail = items.quake("s2", issue_type="DetailScale", issue_time="2024/04/17 23:23:09",
                         quake_time="2024/04/17 23:17:00",
                         points=[("宮城県", "観測点", False, 30)])  # fmt: skip
    tsunami = items.tsunami("s3", issue_time="2024/04/17 23:24:50", areas=[("宮城県", "Watch")])
    for item in (scale_prompt, detail, tsunami):
        await client.handle_message(items.encode(item))
    assert client.counters.published == 3

    eid = "20240417231712"
    for type_code, minute, serial in (("VXSE51", 0, None), ("VXSE53", 3, 1)):
        report = T0 + timedelta(minutes=minute)
        data = jma.quake(type_code, event_id=eid, report_time=report, serial=serial)
        fake_jma.publish(jma.file_name(report, type_code), data, updated=report)
    report = T0 + timedelta(minutes=4)
    data = jma.tsunami((jma.TsunamiItem("220", "宮城県", "62", "津波注意報"),), event_id=eid,
                       report_time=report)  # fmt: skip
    fake_jma.publish(jma.file_name(report, "VTSE41"), data, updated=report)
    poller = await _poll(fake_jma, store, timeline, tmp_path)

    assert poller.counters.telegrams == 3
    assert len(timeline.entries) == 3  # nobody sees an item twice
    first_sources = {
        p.event.provenance.source for p in timeline.entries.values() if p.event.provenance
    }
    assert first_sources == {Source.P2P}  # the faster copy is the one on the timeline
    # Tsunami shares a stream across sources: the JMA copy is a ledger duplicate. Quake
    # information from P2P has no EventID: the JMA copy starts the JMA stream and is
    # handed to the timeline again under the same key, which the timeline ignores.
    assert poller.counters.duplicates == 1


async def test_a_partial_p2p_copy_is_replaced_by_the_complete_jma_one(
    redis_client: redis.asyncio.Redis, fake_jma: FakeJma, tmp_path: Path
) -> None:
    store = SeenStore(redis_client, prefix="test:ingest")
    timeline = FakeTimeline()
    client = make_client("ws://127.0.0.1:9/v2/ws", store, timeline, tmp_path)
    await client.handle_message(
        # An old area name (renamed 奄美群島・トカラ列島 since) that does not resolve.
        items.encode(items.tsunami("p1", issue_time="2024/04/17 23:24:50",
                                   areas=[("宮城県", "Watch"), ("奄美諸島・トカラ列島", "Watch")]))
    )  # fmt: skip
    assert client.counters.partial == 1
    report = T0 + timedelta(minutes=4)
    data = jma.tsunami(
        (jma.TsunamiItem("220", "宮城県", "62", "津波注意報"),
         jma.TsunamiItem("772", "奄美諸島・トカラ列島", "62", "津波注意報")),
        event_id="20240417231712", report_time=report,
    )  # fmt: skip
    fake_jma.publish(jma.file_name(report, "VTSE41"), data, updated=report)
    await _poll(fake_jma, store, timeline, tmp_path)
    partial, complete = timeline.calls
    assert partial.key.endswith(":partial")
    assert partial.key == complete.key + ":partial"  # same item, complete this time
    assert complete.replaces == partial.key and complete.event.prefs == ("04", "46")
    assert partial.event.prefs == ("04",)


async def test_test_and_stale_eew_are_not_published(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    timeline = FakeTimeline()
    client = make_client("ws://127.0.0.1:9/v2/ws", SeenStore(redis_client, prefix="t"), timeline,
                         tmp_path)  # fmt: skip
    await client.handle_message(items.encode(items.eew("t1", test=True)))
    await client.handle_message(items.encode(items.eew("s2", serial="2")))
    await client.handle_message(items.encode(items.eew("s1", serial="1")))  # late, lower
    await client.handle_message(items.encode({"id": "x", "code": 555, "time": "t", "areas": []}))
    c = client.counters
    assert (c.dropped_training, c.published, c.dropped_stale, c.ignored) == (1, 1, 1, 1)
    assert [p.event.serial for p in timeline.calls] == [2]


async def test_ingest_service_runs_both_sources(
    redis_client: redis.asyncio.Redis, fake_jma: FakeJma, tmp_path: Path
) -> None:
    from yure.ingest.service import IngestService

    report = datetime.now(jma.JST).replace(second=0, microsecond=0)
    data = jma.quake("VXSE51", event_id="20240417231712", report_time=report)
    fake_jma.publish(jma.file_name(report, "VXSE51"), data, updated=report)
    p2p = await FakeP2P([P2PConnectionScript([EEW_E], then="stay")]).start()
    settings = Settings(
        jma_feeds=(fake_jma.feed_url("eqvol.xml"),),
        jma_backfill_feeds=(fake_jma.feed_url("eqvol_l.xml"),),
        p2p_ws_url=p2p.url,
        http_timeout_s=2.0,
        data_dir=tmp_path,
    )
    timeline = FakeTimeline()
    service = IngestService(settings, redis_client, timeline)
    assert (service.last_success_at, service.error_count) == (None, 0)  # not started
    task = asyncio.create_task(service.run())
    try:
        await wait_for(
            lambda: (
                len(timeline.calls) == 2
                and service.poller is not None
                and service.poller.last_success_at is not None
            )
        )
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await p2p.close()
    assert {p.event.type_code for p in timeline.calls} == {"VXSE51", "VXSE43"}
    assert service.poller is not None and service.poller.last_success_at is not None
    assert service.p2p is not None and service.p2p.counters.published == 1
    assert service.last_success_at == service.poller.last_success_at
    assert service.error_count == service.poller.counters.errors


async def test_a_future_dated_p2p_tsunami_does_not_silence_later_ones(
    redis_client: redis.asyncio.Redis, tmp_path: Path
) -> None:
    """Issue 10 item 10, P2P side: a relayed 552 dated 2 h ahead of its receipt must not
    make the later real warning stale."""
    now = T0 + timedelta(minutes=10)
    clock_s = [now.timestamp()]
    timeline = FakeTimeline()
    client = make_client("ws://127.0.0.1:9/v2/ws", SeenStore(redis_client, prefix="t"), timeline,
                         tmp_path, clock=lambda: clock_s[0])  # fmt: skip
    await client.handle_message(
        items.encode(items.tsunami("f1", issue_time="2024/04/18 01:30:00",
                                   areas=[("宮城県", "Watch")]))
    )  # fmt: skip
    clock_s[0] += 90
    await client.handle_message(
        items.encode(items.tsunami("r2", issue_time="2024/04/17 23:31:00",
                                   areas=[("宮城県", "MajorWarning")]))
    )  # fmt: skip
    assert [p.event.tsunami[0].grade.value for p in timeline.calls] == ["advisory", "major_warning"]
    assert client.counters.dropped_stale == 0
