"""The push API over HTTP on the real app: key, subscribe, change, delete, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.push.support import PushRig, push_rig
from yure.push.ece import b64url_decode
from yure.push.service import PUSH


async def test_key_is_the_configured_vapid_public_key(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        async with rig.http.get(rig.server.base + "/api/push/key") as response:
            assert response.status == 200
            body = await response.json()
        assert body == {"public_key": rig.server.app[PUSH].signer().public_key}
        assert len(b64url_decode(body["public_key"])) == 65


async def test_key_is_made_on_first_use_in_the_data_dir(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path, vapid_private_key=None) as rig:
        assert not (tmp_path / "vapid_private_key").exists()
        async with rig.http.get(rig.server.base + "/api/push/key") as response:
            first = (await response.json())["public_key"]
        assert (tmp_path / "vapid_private_key").stat().st_mode & 0o777 == 0o600
        async with rig.http.get(rig.server.base + "/api/push/key") as response:
            assert (await response.json())["public_key"] == first


async def _call(
    rig: PushRig, method: str, path: str, *, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with rig.http.request(
        method, rig.server.base + path, json=body, headers=headers
    ) as response:
        text = await response.text()
        return response.status, (await response.json(content_type=None)) if text else None


async def test_subscribe_read_change_delete(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        made = await rig.subscribe("a", {"prefs": ["kanto"], "min_intensity": "4"})
        assert set(made) == {"id", "token"}
        path = f"/api/push/subscriptions/{made['id']}"
        status, body = await _call(rig, "GET", path, token=made["token"])
        assert status == 200
        assert body["filter"]["prefs"] == ["08", "09", "10", "11", "12", "13", "14"]
        assert body["filter"]["min_intensity"] == "4"
        new_filter = {"prefs": ["大阪"], "quiet": {"from": "22:00", "to": "06:00"}}
        status, body = await _call(
            rig, "PUT", path, token=made["token"], body={"filter": new_filter}
        )
        assert status == 200
        assert body["filter"]["prefs"] == ["27"]
        assert body["filter"]["quiet"] == {"from": "22:00", "to": "06:00", "except_from": None}
        store = rig.server.app[PUSH].store
        assert await store.candidates(["27"]) == [made["id"]]
        assert await store.candidates(["13"]) == []
        status, _ = await _call(rig, "DELETE", path, token=made["token"])
        assert status == 204
        assert await store.count() == 0
        status, body = await _call(rig, "DELETE", path, token=made["token"])
        assert (status, body["code"]) == (404, "not_found")


async def test_tokens_guard_each_subscription(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        mine = await rig.subscribe("a")
        theirs = await rig.subscribe("b")
        path = f"/api/push/subscriptions/{mine['id']}"
        for token in (None, "", theirs["token"], mine["token"] + "x"):
            status, body = await _call(rig, "DELETE", path, token=token)
            assert status == 401, token
            assert body["code"] == "unauthorized"
        status, _ = await _call(rig, "GET", "/api/push/subscriptions/nope", token=mine["token"])
        assert status == 404
        status, _ = await _call(
            rig, "PUT", path, token=theirs["token"], body={"filter": {"prefs": ["13"]}}
        )
        assert status == 401
        assert await rig.server.app[PUSH].store.count() == 2


async def test_subscribing_the_same_endpoint_again_replaces_it(
    redis_url: str, tmp_path: Path
) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        sub = rig.push.subscribe("a")
        ids = []
        for prefs in (["13"], ["27"]):
            status, body = await _call(
                rig,
                "POST",
                "/api/push/subscriptions",
                body={"subscription": sub, "filter": {"prefs": prefs}},
            )
            assert status == 201
            ids.append(body["id"])
        store = rig.server.app[PUSH].store
        assert await store.count() == 1
        assert await store.get(ids[0]) is None
        assert await store.candidates(["13"]) == []
        assert await store.candidates(["27"]) == [ids[1]]


def _subscription(endpoint: str) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "keys": {
            "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjy"
            "Pjs7Vd8pZGH6SRpkNtoIAiw4",
            "auth": "BTBZMqHH6r4Tts7J_aSIgg",
        },
    }


BAD_BODIES = [
    ({"subscription": None}, "PushSubscription"),
    ({"subscription": _subscription("https://push.example/1"), "x": 1}, "unknown field 'x'"),
    ({"subscription": {**_subscription("https://push.example/1"), "keys": None}}, "keys"),
    (
        {"subscription": {**_subscription("https://push.example/1"), "keys": {"p256dh": "x"}}},
        "must be strings",
    ),
    ({"subscription": _subscription("ftp://push.example/1")}, "https://"),
    ({"subscription": _subscription("https://push.example/" + "a" * 1100)}, "longer than"),
    ({"subscription": _subscription("https://user:pw@push.example/1")}, "credentials"),
    (
        {
            "subscription": _subscription("https://push.example/1"),
            "filter": {"prefs": ["Atlantis"]},
        },
        "unknown prefecture",
    ),
    (
        {"subscription": _subscription("https://push.example/1"), "filter": {"kinds": ["post"]}},
        "'post'",
    ),
    (
        {"subscription": _subscription("https://push.example/1"), "filter": {"min_intensity": "8"}},
        "min_intensity",
    ),
    ([], "JSON object"),
]


async def test_bad_requests_say_why(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        for body, reason in BAD_BODIES:
            status, answer = await _call(rig, "POST", "/api/push/subscriptions", body=body)
            assert status == 400, body
            assert answer["code"] == "invalid"
            assert reason in answer["detail"], (reason, answer)


SSRF_ENDPOINTS = [
    "http://push.example.org/1",  # not https
    "https://127.0.0.1/1",
    "https://10.1.2.3/1",
    "https://192.168.0.10/1",
    "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
    "https://[::1]/1",
    "https://[fd00::1]/1",
    "https://[::ffff:10.0.0.1]/1",
    "https://100.64.0.1/1",  # carrier-grade NAT
    "https://0.0.0.0/1",
    "https://localhost/1",
    "https://printer.local/1",
]


async def test_endpoints_off_the_public_internet_are_refused(
    redis_url: str, tmp_path: Path
) -> None:
    async with push_rig(redis_url, tmp_path, push_allow_insecure_local=False) as rig:
        refused = []
        for endpoint in SSRF_ENDPOINTS:
            status, _ = await _call(
                rig,
                "POST",
                "/api/push/subscriptions",
                body={"subscription": _subscription(endpoint)},
            )
            if status == 400:
                refused.append(endpoint)
        assert refused == SSRF_ENDPOINTS
        assert await rig.server.app[PUSH].store.count() == 0


async def test_per_address_cap(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path, push_max_subs_per_ip=3) as rig:
        for name in ("a", "b", "c"):
            await rig.subscribe(name)
        status, body = await _call(
            rig, "POST", "/api/push/subscriptions", body={"subscription": rig.push.subscribe("d")}
        )
        assert (status, body["code"]) == (429, "too_many_subscriptions")


async def test_oversized_body(redis_url: str, tmp_path: Path) -> None:
    async with (
        push_rig(redis_url, tmp_path) as rig,
        rig.http.post(
            rig.server.base + "/api/push/subscriptions",
            data=b"{" + b" " * 9000 + b"}",
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 413


async def test_locate(redis_url: str, tmp_path: Path) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        status, body = await _call(rig, "GET", "/api/locate?lat=35.6895&lon=139.6917")
        assert (status, body) == (200, {"pref": "13"})
        status, body = await _call(rig, "GET", "/api/locate?lat=0&lon=0")
        assert (status, body) == (200, {"pref": None})
        for query in ("lat=x&lon=1", "lat=91&lon=0", "lon=1"):
            status, body = await _call(rig, "GET", "/api/locate?" + query)
            assert status == 400, query
