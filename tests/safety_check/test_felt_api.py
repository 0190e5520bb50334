"""POST /api/felt and P2P 561 records: aggregates on the public timeline."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from tests.safety_check.addresses import call_as, signup_from
from tests.safety_check.conftest import Api, AppFactory, FakeClock, fast_config
from tests.support import event_json
from yure.broadcast.envelope import Entry, Envelope
from yure.broadcast.timeline import Timeline
from yure.safety_check.ratelimit import Limit
from yure.safety_check.services import SERVICES

DEADLINE_S = 10.0


async def _felt_entries(api: Api) -> list[Entry]:
    timeline = Timeline(api.redis, retention_s=48 * 3600)
    return [e for e in await timeline.read_after("0-0", limit=200) if e.kind == "felt"]


async def _wait_for_total(api: Api, total: int) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        entries = await _felt_entries(api)
        if entries:
            last: dict[str, Any] = orjson.loads(entries[-1].payload)
            if last["counts"]["total"] == total:
                return last
        assert time.monotonic() < deadline, f"no felt aggregate with total {total}"
        await asyncio.sleep(0.05)


async def test_one_tap_publishes_at_once_then_aggregates(make_api: AppFactory) -> None:
    clock = FakeClock(time.time())
    api: Api = await make_api(clock=clock, config=fast_config(felt_publish_interval_s=0.3))
    # Three established people on three networks (tests/safety_check/test_voices.py).
    where = {"tap1": "127.0.1.1", "tap2": "127.0.2.1", "tap3": "127.0.3.1"}
    for h, address in where.items():
        await signup_from(api, h, address)
    clock.advance(2 * 3600)

    async def tap(h: str, **body: Any) -> tuple[int, Any]:
        return await call_as(api, h, where[h], "POST", "/api/felt", json=body)

    status, body = await tap("tap1", pref="13")
    assert (status, body["pref"], body["counts"]) == (202, "13", {"user": 1, "p2p": 0, "total": 1})
    (first,) = await _felt_entries(api)  # published before the request returned
    event = orjson.loads(first.payload)
    assert event["kind"] == "felt" and event["official"] is False
    assert event["prefs"] == ["13"] and first.prefs == ("13",)
    assert event["counts"] == {"user": 1, "p2p": 0, "total": 1}
    assert event["event_id"] is None
    # The same account again is not counted twice in one burst.
    await tap("tap1", pref="13")
    await tap("tap2", pref="13")
    await tap("tap3", lat=35.68, lon=139.76)
    clock.advance(1.0)  # past felt_publish_interval_s: the flusher publishes the growth
    latest = await _wait_for_total(api, 3)
    assert latest["id"] == event["id"]
    assert latest["counts"] == {"user": 3, "p2p": 0, "total": 3}
    assert "ref" in latest  # replaces the earlier aggregate of the burst
    ids = {orjson.loads(e.payload)["counts"]["total"] for e in await _felt_entries(api)}
    assert 1 in ids and 3 in ids and len(ids) <= 3


async def test_p2p_records_and_bursts(make_api: AppFactory) -> None:
    clock = FakeClock(time.time())
    api: Api = await make_api(clock=clock, config=fast_config(felt_publish_interval_s=0.0))
    app = api.client.app
    assert app is not None
    felt = app[SERVICES].felt
    await felt.add_p2p("27", clock.now)
    await felt.add_p2p("27", clock.now + 10)
    first = await _wait_for_total(api, 2)
    assert first["counts"] == {"user": 0, "p2p": 2, "total": 2}
    clock.advance(60)  # a quiet gap of more than 40 s: a new burst
    await felt.add_p2p("27", clock.now)
    second = await _wait_for_total(api, 1)
    assert second["id"] != first["id"] and "ref" not in second
    assert await felt.add_p2p("27", clock.now - 3600) is None  # stale record dropped


async def test_felt_links_the_current_official_event(api: Api) -> None:
    await api.signup("linker")
    timeline = Timeline(api.redis, retention_s=48 * 3600)
    payload = event_json(event_id="20240101161010", reported_at=datetime.now(UTC))
    await timeline.append(
        Envelope(key="jma:x", kind="quake", prefs=("17",), payload=orjson.dumps(payload))
    )
    await api.call("POST", "/api/felt", "linker", json={"pref": "17"})
    (entry,) = await _felt_entries(api)
    assert orjson.loads(entry.payload)["event_id"] == "20240101161010"


async def test_felt_validation_and_rate_limit(make_api: AppFactory) -> None:
    config = fast_config()
    config = dataclasses.replace(
        config, limits=dataclasses.replace(config.limits, felt_user=Limit("felt_user", 2, 60))
    )
    api: Api = await make_api(config=config)
    await api.signup("shaky")
    assert (await api.call("POST", "/api/felt", json={"pref": "13"}))[0] == 401
    assert (await api.call("POST", "/api/felt", "shaky", json={}))[0] == 400
    # Open sea far from any prefecture.
    status, body = await api.call("POST", "/api/felt", "shaky", json={"lat": 30.0, "lon": 150.0})
    assert (status, body["code"]) == (400, "invalid_input")
    resp = await api.client.post("/api/felt", json={"pref": "13"}, headers=api.auth("shaky"))
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
