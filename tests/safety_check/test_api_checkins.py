"""Check-ins through the real API: friends only, events, expiry, idempotency, deletion."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import orjson

from tests.safety_check.conftest import Api, AppFactory, FakeClock, fast_config, redis_dump
from tests.support import event_json
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.safety_check import keys, store

DEADLINE_S = 10.0


async def _three(api: Api) -> None:
    for h in ("owner", "friend", "stranger"):
        await api.signup(h)
    await api.befriend("owner", "friend")


async def test_checkin_visible_to_friends_only(api: Api) -> None:
    await _three(api)
    await api.signup("fof")
    await api.befriend("friend", "fof")  # a friend of a friend
    status, created = await api.call(
        "POST",
        "/api/checkins",
        "owner",
        json={"status": "need_help", "note": "  家にいます\n(2階)  ", "pref": "04"},
    )
    assert status == 201
    assert created["status"] == "need_help"
    assert created["note"] == "家にいます (2階)"
    assert created["pref"] == "04" and created["handle"] == "owner"
    assert "lat" not in created
    _, seen = await api.call("GET", "/api/checkins/friends", "friend")
    assert seen["checkins"] == [
        {"handle": "fof", "checkin": None},
        {"handle": "owner", "checkin": created},
    ]
    for outsider in ("stranger", "fof"):
        _, body = await api.call("GET", "/api/checkins/friends", outsider)
        assert all(item["handle"] != "owner" for item in body["checkins"])
    _, mine = await api.call("GET", "/api/checkins/mine", "owner")
    assert mine["checkins"] == [created]
    # Nothing of it reaches the public timeline.
    assert await api.redis.xlen("{yure:timeline}") == 0


async def test_latest_wins_and_delete(api: Api) -> None:
    await _three(api)
    _, first = await api.call("POST", "/api/checkins", "owner", json={"status": "unknown"})
    _, second = await api.call("POST", "/api/checkins", "owner", json={"status": "safe"})
    _, seen = await api.call("GET", "/api/checkins/friends", "friend")
    assert seen["checkins"][0]["checkin"]["id"] == second["id"]
    assert (await api.call("DELETE", f"/api/checkins/{second['id']}", "friend"))[0] == 404
    assert (await api.call("DELETE", f"/api/checkins/{second['id']}", "owner"))[0] == 204
    assert await api.redis.exists(keys.checkin(second["id"])) == 0  # deleted, not hidden
    _, seen = await api.call("GET", "/api/checkins/friends", "friend")
    assert seen["checkins"][0]["checkin"]["id"] == first["id"]
    assert (await api.call("DELETE", f"/api/checkins/{second['id']}", "owner"))[0] == 404


async def test_checkin_validation(api: Api) -> None:
    await api.signup("val")
    bad = [
        {"status": "fine"},
        {},
        {"status": "safe", "note": "x" * 101},
        {"status": "safe", "pref": "48"},
        {"status": "safe", "pref": 13},
        {"status": "safe", "event_id": "bad id!"},
        {"status": "safe", "lat": 35.0},
        {"status": "safe", "lat": 95.0, "lon": 139.0},
        {"status": "safe", "share_location": True},
        {"status": "safe", "lat": True, "lon": 139.0},
    ]
    for body in bad:
        status, answer = await api.call("POST", "/api/checkins", "val", json=body)
        assert status == 400, body
        assert answer["code"] == "invalid_input"
    # 100 code points after NFC are fine even when the raw input is longer (combining marks).
    note = "が" * 100
    decomposed = "\u304b\u3099" * 100
    status, created = await api.call(
        "POST", "/api/checkins", "val", json={"status": "safe", "note": decomposed}
    )
    assert status == 201 and created["note"] == note


async def test_coordinates_only_when_opted_in(api: Api) -> None:
    await _three(api)
    sendai = {"lat": 38.268215, "lon": 140.869356}
    _, plain = await api.call("POST", "/api/checkins", "owner", json={"status": "safe", **sendai})
    assert plain["pref"] == "04" and "lat" not in plain
    stored = store.text_map(await api.redis.hgetall(keys.checkin(plain["id"])))
    assert stored["lat"] == "" and stored["lon"] == ""
    _, shared = await api.call(
        "POST", "/api/checkins", "owner", json={"status": "safe", "share_location": True, **sendai}
    )
    assert (shared["lat"], shared["lon"]) == (38.2682, 140.8694)


async def _publish_quake(r: object, event_id: str, reported_at: datetime, **extra: object) -> None:
    timeline = Timeline(r, retention_s=48 * 3600)  # type: ignore[arg-type]
    payload = {**event_json(event_id=event_id, reported_at=reported_at), **extra}
    await timeline.append(
        Envelope(
            key=f"jma:{event_id}:{extra.get('info_type', 'issued')}",
            kind="quake",
            prefs=("04",),
            payload=orjson.dumps(payload),
        )
    )


async def test_current_event_and_expiry_from_event(api: Api) -> None:
    await api.signup("evt")
    _, none = await api.call("POST", "/api/checkins", "evt", json={"status": "safe"})
    assert none["event_id"] is None
    reported = datetime.now(UTC).replace(microsecond=0)
    await _publish_quake(api.redis, "20240101161010", reported)
    _, tied = await api.call("POST", "/api/checkins", "evt", json={"status": "safe"})
    assert tied["event_id"] == "20240101161010"
    expires = datetime.fromisoformat(tied["expires_at"]).timestamp()
    assert abs(expires - (reported.timestamp() + 7 * 24 * 3600)) < 1
    ttl_ms = await api.redis.pttl(keys.checkin(tied["id"]))
    assert abs(ttl_ms / 1000 - (expires - time.time())) < 5
    # An explicit event id wins; a cancelled event is not current any more.
    _, explicit = await api.call(
        "POST", "/api/checkins", "evt", json={"status": "safe", "event_id": "20230505050505"}
    )
    assert explicit["event_id"] == "20230505050505"
    await _publish_quake(api.redis, "20240101161010", reported, info_type="cancelled")
    _, after_cancel = await api.call("POST", "/api/checkins", "evt", json={"status": "safe"})
    assert after_cancel["event_id"] is None


async def test_checkin_expires_and_is_deleted(make_api: AppFactory) -> None:
    api: Api = await make_api(config=fast_config(checkin_ttl_s=1))
    await _three(api)
    status, created = await api.call(
        "POST",
        "/api/checkins",
        "owner",
        json={"status": "safe", "note": "short"},
        headers={"Idempotency-Key": "k-expire"},
    )
    assert status == 201
    assert (await api.call("GET", "/api/checkins/friends", "friend"))[1]["checkins"][0]["checkin"]
    deadline = time.monotonic() + DEADLINE_S
    while await api.redis.exists(keys.checkin(created["id"])):
        assert time.monotonic() < deadline, "check-in did not expire"
        await asyncio.sleep(0.1)
    _, seen = await api.call("GET", "/api/checkins/friends", "friend")
    assert seen["checkins"] == [{"handle": "owner", "checkin": None}]
    assert (await api.call("GET", "/api/checkins/mine", "owner"))[1] == {"checkins": []}
    # The note is nowhere in Redis any more (idempotency record included).
    dump = await redis_dump(api.redis)
    assert b"short" not in dump and keys.PREFIX.encode() + b"idem:" not in dump


async def test_idempotency_key(api: Api) -> None:
    await _three(api)
    headers = {"Idempotency-Key": "tap-123"}
    body = {"status": "safe", "note": "ok"}
    first = await api.client.post(
        "/api/checkins", json=body, headers={**headers, **api.auth("owner")}
    )
    again = await api.client.post(
        "/api/checkins", json=body, headers={**headers, **api.auth("owner")}
    )
    assert first.status == again.status == 201
    assert await first.json() == await again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len((await api.call("GET", "/api/checkins/mine", "owner"))[1]["checkins"]) == 1
    # Same key, different body: refused, nothing created.
    status, answer = await api.call(
        "POST", "/api/checkins", "owner", json={"status": "need_help"}, headers=headers
    )
    assert (status, answer["code"]) == (422, "idempotency_key_reused")
    # Keys are per account: another user's same key is a different request.
    status, other = await api.call("POST", "/api/checkins", "friend", json=body, headers=headers)
    assert status == 201 and other["id"] != (await first.json())["id"]
    bad = await api.call(
        "POST", "/api/checkins", "owner", json=body, headers={"Idempotency-Key": "x" * 300}
    )
    assert bad[0] == 400


async def test_concurrent_retries_make_one_checkin(api: Api) -> None:
    await api.signup("racer")
    headers = {"Idempotency-Key": "same-tap", **api.auth("racer")}
    responses = await asyncio.gather(
        *[
            api.client.post("/api/checkins", json={"status": "safe"}, headers=headers)
            for _ in range(8)
        ]
    )
    ids = {(await r.json())["id"] for r in responses}
    assert [r.status for r in responses] == [201] * 8 and len(ids) == 1
    assert len((await api.call("GET", "/api/checkins/mine", "racer"))[1]["checkins"]) == 1


async def test_checkin_cap_drops_oldest(make_api: AppFactory) -> None:
    api: Api = await make_api(config=fast_config(max_checkins_per_user=3))
    await api.signup("many")
    ids = []
    for _ in range(5):
        ids.append(
            (await api.call("POST", "/api/checkins", "many", json={"status": "safe"}))[1]["id"]
        )
    mine = [c["id"] for c in (await api.call("GET", "/api/checkins/mine", "many"))[1]["checkins"]]
    assert mine == ids[::-1][:3]
    assert await api.redis.exists(keys.checkin(ids[0])) == 0


async def test_clock_is_injectable(make_api: AppFactory) -> None:
    clock = FakeClock(time.time())
    api: Api = await make_api(clock=clock)
    await api.signup("clocked")
    clock.advance(3600)
    _, created = await api.call("POST", "/api/checkins", "clocked", json={"status": "safe"})
    created_at = datetime.fromisoformat(created["created_at"]).timestamp()
    assert abs(created_at - clock.now) < 0.01
    # Redis expiry is relative, so a moved clock still gives the full lifetime.
    assert await api.redis.pttl(keys.checkin(created["id"])) > (7 * 24 * 3600 - 60) * 1000


async def test_current_event_found_behind_many_posts(api: Api) -> None:
    """The scan pages through newer unofficial entries (posts) to the event."""
    await api.signup("pager")
    await _publish_quake(api.redis, "20240101161010", datetime.now(UTC))
    timeline = Timeline(api.redis, retention_s=48 * 3600)
    for i in range(70):  # more than two pages of SCAN_PAGE_ENTRIES
        await timeline.append(
            Envelope(key=f"post:{i}", kind="post", prefs=(), payload=b'{"kind":"post"}')
        )
    _, tied = await api.call("POST", "/api/checkins", "pager", json={"status": "safe"})
    assert tied["event_id"] == "20240101161010"
    _, explicit = await api.call(
        "POST", "/api/checkins", "pager", json={"status": "safe", "event_id": "20240101161010"}
    )
    assert explicit["expires_at"] == tied["expires_at"]


async def test_current_event_is_cached(make_api: AppFactory) -> None:
    clock = FakeClock(time.time())
    api: Api = await make_api(clock=clock, config=fast_config(current_event_cache_s=5.0))
    await api.signup("cached")
    _, before = await api.call("POST", "/api/checkins", "cached", json={"status": "safe"})
    await _publish_quake(api.redis, "20240101161010", datetime.now(UTC))
    _, still = await api.call("POST", "/api/checkins", "cached", json={"status": "safe"})
    assert before["event_id"] is None and still["event_id"] is None
    clock.advance(5.0)
    _, fresh = await api.call("POST", "/api/checkins", "cached", json={"status": "safe"})
    assert fresh["event_id"] == "20240101161010"
