"""User posts through the real API: public timeline, text kept as text, coarse location,
reports that hide, rate limits."""

from __future__ import annotations

import dataclasses
import time

import orjson
import pytest

from tests.safety_check.addresses import call_as, signup_from
from tests.safety_check.conftest import Api, AppFactory, FakeClock, fast_config
from yure.broadcast.timeline import Timeline
from yure.safety_check import keys, store
from yure.safety_check.ratelimit import Limit

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(document.cookie)>',
    "</script><script>alert('x')</script>",
    "javascript:alert(1)",
    "&lt;b&gt; &amp; &quot;",
    "<svg/onload=alert`1`>",
    "{{constructor.constructor('alert(1)')()}}",
    "'; DROP TABLE posts; --",
]


async def _timeline_payloads(api: Api) -> list[dict[str, object]]:
    timeline = Timeline(api.redis, retention_s=48 * 3600)
    return [orjson.loads(e.payload) for e in await timeline.read_after("0-0", limit=100)]


@pytest.mark.parametrize("payload", XSS)
async def test_xss_payloads_come_back_as_text(api: Api, payload: str) -> None:
    await api.signup("poster")
    resp = await api.client.post("/api/posts", json={"text": payload}, headers=api.auth("poster"))
    assert resp.status == 201
    raw = await resp.read()
    assert payload.encode() in raw  # no HTML escaping in JSON
    created = orjson.loads(raw)
    assert created["text"] == payload
    status, fetched = await api.call("GET", f"/api/posts/{created['id']}")
    assert status == 200 and fetched["text"] == payload
    (entry,) = await _timeline_payloads(api)
    assert entry["text"] == payload


async def test_post_shape_and_public_timeline(api: Api) -> None:
    await api.signup("shaper")
    status, post = await api.call(
        "POST",
        "/api/posts",
        "shaper",
        json={"text": "揺れた\u202e!\x00\r\nすごい", "lat": 38.268215, "lon": 140.869356},
    )
    assert status == 201
    assert post["text"] == "揺れた!\nすごい"
    assert post["kind"] == "post" and post["official"] is False and post["source"] == "user"
    assert post["prefs"] == ["04"]
    assert (post["lat"], post["lon"]) == (38.3, 140.9)
    assert "author" not in post and "handle" not in post
    stored = store.text_map(await api.redis.hgetall(keys.post(post["id"])))
    assert stored["lat"] == "38.3" and stored["lon"] == "140.9"
    timeline = Timeline(api.redis, retention_s=48 * 3600)
    (entry,) = await timeline.read_after("0-0", limit=10)
    assert entry.kind == "post" and entry.prefs == ("04",) and entry.key == f"post:{post['id']}"
    assert orjson.loads(entry.payload) == post


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": " \n\t\x07 "},
        {"text": "あ" * 281},
        {"text": "ok", "lat": 200.0, "lon": 0.0},
        {"text": "ok", "lat": 35.0},
        {"text": "ok", "pref": "99"},
        {"text": 3},
    ],
)
async def test_post_validation(api: Api, body: dict[str, object]) -> None:
    await api.signup("validator")
    status, answer = await api.call("POST", "/api/posts", "validator", json=body)
    assert (status, answer["code"]) == (400, "invalid_input")


async def test_280_code_points_after_nfc(api: Api) -> None:
    await api.signup("counter")
    emoji = "👍" * 280  # 280 code points, 560 UTF-16 units
    assert (await api.call("POST", "/api/posts", "counter", json={"text": emoji}))[0] == 201
    assert (await api.call("POST", "/api/posts", "counter", json={"text": emoji + "!"}))[0] == 400


async def test_reports_hide_after_distinct_accounts(make_api: AppFactory) -> None:
    clock = FakeClock(time.time())
    api: Api = await make_api(clock=clock, config=fast_config(post_hide_reports=2))
    # Established people on distinct networks (tests/safety_check/test_voices.py).
    where = {"author": "127.0.1.1", "rep1": "127.0.2.1", "rep2": "127.0.3.1"}
    for h, address in where.items():
        await signup_from(api, h, address)
    clock.advance(2 * 3600)

    async def report(who: str, pid: str) -> int:
        return (await call_as(api, who, where[who], "POST", f"/api/posts/{pid}/report"))[0]

    body = {"text": "spam", "lat": 35.68, "lon": 139.76}
    _, post = await api.call("POST", "/api/posts", "author", json=body)
    pid = post["id"]
    # The author's own report and repeated reports of one account do not count.
    for who in ("author", "author", "rep1", "rep1"):
        assert await report(who, pid) == 202
    assert (await api.call("GET", f"/api/posts/{pid}"))[0] == 200
    assert len(await _timeline_payloads(api)) == 1
    assert await report("rep2", pid) == 202
    assert (await api.call("GET", f"/api/posts/{pid}"))[0] == 404
    timeline = Timeline(api.redis, retention_s=48 * 3600)
    original, retraction = await timeline.read_after("0-0", limit=10)
    hidden = orjson.loads(retraction.payload)
    assert hidden.pop("ref") == original.id
    shown = orjson.loads(original.payload)
    assert (shown["text"], shown["lat"], shown["lon"], shown["prefs"]) == (
        "spam",
        35.7,
        139.8,
        ["13"],
    )
    # Same id, prefecture and time; no text and no point.
    assert hidden == {**shown, "text": None, "lat": None, "lon": None, "hidden": True}
    assert retraction.prefs == ("13",)
    assert await report("rep1", "nonexistent00000") == 404
    assert await report("rep1", "bad") == 404


async def test_post_rate_limits_answer_429(make_api: AppFactory) -> None:
    config = fast_config()
    limits = dataclasses.replace(
        config.limits, post_user=Limit("post_user", 2, 60), post_ip=Limit("post_ip", 3, 60)
    )
    api: Api = await make_api(config=dataclasses.replace(config, limits=limits))
    for h in ("fast1", "fast2"):
        await api.signup(h)
    statuses = [
        (await api.call("POST", "/api/posts", "fast1", json={"text": "x"}))[0] for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    # Same address, another account: the per-IP limit (3) is reached on its second post.
    assert (await api.call("POST", "/api/posts", "fast2", json={"text": "y"}))[0] == 201
    resp = await api.client.post("/api/posts", json={"text": "z"}, headers=api.auth("fast2"))
    assert resp.status == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert (await resp.json(content_type=None))["code"] == "rate_limited"


async def test_unexpected_errors_answer_json_500(make_api: AppFactory) -> None:
    def broken_locator(lat: float, lon: float) -> str | None:
        raise RuntimeError("bug")

    api: Api = await make_api(locator=broken_locator)
    await api.signup("unlucky")
    status, body = await api.call(
        "POST", "/api/posts", "unlucky", json={"text": "x", "lat": 35.0, "lon": 139.0}
    )
    assert (status, body["code"], body["status"]) == (500, "internal", 500)
    assert "detail" not in body
