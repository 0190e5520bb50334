"""End to end: a telegram appended to the real timeline reaches a local push service,
encrypted and decryptable, once per subscription; retries, 429, 404/410, restarts."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from tests.push.pushservice import Answer
from tests.push.support import PushRig, cancellation, push_rig, quake, until
from yure.push import limits
from yure.push.errors import StoreError
from yure.push.service import PUSH, PushService
from yure.push.store import SubscriptionStore


async def test_a_telegram_reaches_its_prefectures_once_and_a_cancel_follows(
    redis_url: str, tmp_path: Path
) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        await rig.subscribe("miyagi", {"prefs": ["04"]})
        await rig.subscribe("tohoku", {"prefs": ["tohoku"], "min_intensity": "3"})
        await rig.subscribe("tokyo", {"prefs": ["13"]})
        await rig.subscribe("strong-only", {"prefs": ["04"], "min_intensity": "5-"})
        async with rig.delivering():
            first = await rig.append("q1", quake("E1"))
            await until(lambda: len(rig.push.received) == 2)
            by_name = {r.name: r for r in rig.push.received}
            assert sorted(by_name) == ["miyagi", "tohoku"]
            got = by_name["miyagi"]
            assert got.payload["id"] == first
            assert got.payload["kind"] == "quake"
            assert got.payload["official"] is True
            assert got.payload["prefs"] == ["04", "07"]
            assert got.payload["max_intensity"] == "3"
            assert got.payload["url"] == "/?item=e:E1"
            assert got.urgency == "normal"
            assert 0 < got.ttl <= 3 * 3600
            assert got.topic
            await rig.append("c1", cancellation("E1"), replaces="q1")
            await until(lambda: len(rig.push.received) == 4)
        cancels = [r for r in rig.push.received if r.payload["info_type"] == "cancelled"]
        assert sorted(r.name for r in cancels) == ["miyagi", "tohoku"]
        assert {r.topic for r in cancels} == {got.topic}
        assert cancels[0].payload["title"].startswith("【取消】")
        assert rig.push.for_name("tokyo") == []
        assert rig.push.for_name("strong-only") == []
        assert rig.push.rejections == []


async def test_a_cancel_right_behind_its_original_still_finds_its_recipients(
    redis_url: str, tmp_path: Path
) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        names = [f"s{i}" for i in range(30)]
        for name in names:
            await rig.subscribe(name, {"prefs": ["07"]})
        async with rig.delivering():
            await rig.append("q1", quake("E2"))
            await rig.append("c1", cancellation("E2"), replaces="q1")
            await until(lambda: len(rig.push.received) == 60)
        for name in names:
            kinds = [r.payload["info_type"] for r in rig.push.for_name(name)]
            assert kinds == ["issued", "cancelled"]


async def test_retries_5xx_honours_429_and_deletes_gone_subscriptions(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "RETRY_BASE_S", 0.01)
    monkeypatch.setattr("yure.push.job.RETRY_BASE_S", 0.01)
    async with push_rig(redis_url, tmp_path) as rig:
        await rig.subscribe("flaky", {"prefs": ["04"]})
        await rig.subscribe("busy", {"prefs": ["04"]})
        gone = await rig.subscribe("gone", {"prefs": ["04"]})
        expired = await rig.subscribe("expired", {"prefs": ["04"]})
        rig.push.queue("flaky", Answer(500), Answer(503))
        rig.push.queue("busy", Answer(429, retry_after="1"))
        rig.push.queue("gone", Answer(410))
        rig.push.queue("expired", Answer(404))
        store = rig.server.app[PUSH].store
        async with rig.delivering():
            await rig.append("q1", quake("E3"))
            await until(lambda: len(rig.push.received) == 2)
            await until(lambda: _count_is(store, 2))
        assert sorted(r.name for r in rig.push.received) == ["busy", "flaky"]
        assert [s for n, s in rig.push.requests if n == "flaky"] == [500, 503, 201]
        assert [s for n, s in rig.push.requests if n == "busy"] == [429, 201]
        assert await store.get(gone["id"]) is None
        assert await store.get(expired["id"]) is None


async def _count_is(store: SubscriptionStore, expected: int) -> bool:
    return await store.count() == expected


async def test_429_waits_for_retry_after(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry after a 429 comes no sooner than Retry-After says (the backoff alone
    would retry after 10 ms)."""
    monkeypatch.setattr("yure.push.job.RETRY_BASE_S", 0.01)
    async with push_rig(redis_url, tmp_path) as rig:
        await rig.subscribe("busy", {"prefs": ["04"]})
        rig.push.queue("busy", Answer(429, retry_after="2"))
        loop = asyncio.get_running_loop()
        async with rig.delivering():
            await rig.append("q1", quake("E4"))
            await until(lambda: len(rig.push.requests) == 1)
            refused_at = loop.time()
            await until(lambda: len(rig.push.received) == 1, wait_s=5)
            assert loop.time() - refused_at >= 1.9


async def test_a_restart_midway_loses_and_repeats_nothing(redis_url: str, tmp_path: Path) -> None:
    """Four requests are in flight (concurrency 4, the service holds them) when the job
    is stopped: it lets them answer and records them; the restarted job sends the
    other 36 and nobody gets the push twice."""
    async with push_rig(redis_url, tmp_path, push_concurrency=4) as rig:
        names = [f"s{i:02d}" for i in range(40)]
        for name in names:
            await rig.subscribe(name, {"prefs": ["04"]})
        rig.push.hold = set(names)
        job = asyncio.create_task(rig.server.app[PUSH].run_delivery())
        await until(rig.lease_taken)
        await rig.append("q1", quake("E5"))
        await until(lambda: rig.push.in_flight == 4)
        job.cancel()
        rig.push.release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await job
        assert len(rig.push.received) == 4
        assert await rig.server.redis.zcard("{yure:push}:pending") == 1
        async with rig.delivering():
            await until(lambda: len(rig.push.received) == 40)
            await until(lambda: _no_pending(rig))
        assert {n: len(rig.push.for_name(n)) for n in names} == dict.fromkeys(names, 1)


async def test_two_workers_deliver_once(redis_url: str, tmp_path: Path) -> None:
    """Two apps (workers) on one Redis both run the delivery job: the lease lets one."""
    async with push_rig(redis_url, tmp_path) as rig:
        names = [f"s{i}" for i in range(10)]
        for name in names:
            await rig.subscribe(name, {"prefs": ["04"]})
        other = PushService(rig.server.app[PUSH].settings, rig.server.redis, rig.server.timeline)
        second = asyncio.create_task(other.run_delivery())
        try:
            async with rig.delivering():
                await rig.append("q1", quake("E6"))
                await until(lambda: len(rig.push.received) == 10)
                await rig.append("q2", quake("E7", minute=1))
                await until(lambda: len(rig.push.received) == 20)
                await until(lambda: _no_pending(rig))
        finally:
            second.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await second
        assert {n: len(rig.push.for_name(n)) for n in names} == dict.fromkeys(names, 2)


async def _no_pending(rig: PushRig) -> bool:
    return await rig.server.redis.zcard("{yure:push}:pending") == 0


async def test_a_redis_failure_mid_delivery_is_retried_without_repeats(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second batch of subscriptions cannot be read once: the delivery is tried again
    and sends only what was not finished."""
    monkeypatch.setattr("yure.push.job.RETRY_BASE_S", 0.01)
    monkeypatch.setattr("yure.push.job.FANOUT_BATCH", 5)
    original = SubscriptionStore.load
    calls = 0

    async def flaky_load(self: SubscriptionStore, ids: list[str]) -> list[Any]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise StoreError("redis failed: injected")
        return await original(self, ids)

    monkeypatch.setattr(SubscriptionStore, "load", flaky_load)
    async with push_rig(redis_url, tmp_path) as rig:
        names = [f"s{i:02d}" for i in range(12)]
        for name in names:
            await rig.subscribe(name, {"prefs": ["04"]})
        async with rig.delivering():
            await rig.append("q1", quake("E8"))
            await until(lambda: len(rig.push.received) == 12)
            await until(lambda: _no_pending(rig))
        assert calls > 3
        assert {n: len(rig.push.for_name(n)) for n in names} == dict.fromkeys(names, 1)
