"""Accounts and sessions through the real API: the authentication matrix."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.safety_check.conftest import Api, AppFactory, fast_config, redis_dump
from yure.safety_check import keys, store
from yure.safety_check.tokens import SESSION_COOKIE

DEADLINE_S = 10.0


async def test_signup_login_logout(api: Api) -> None:
    token = await api.signup("Alice_1")
    status, body = await api.call("GET", "/api/sessions/current", "Alice_1")
    assert (status, body) == (200, {"handle": "alice_1"})
    status, body = await api.call(
        "POST", "/api/sessions", json={"handle": "ALICE_1", "password": "correct horse"}
    )
    assert status == 200 and body["handle"] == "alice_1" and body["token"] != token
    second = body["token"]
    assert (await api.call("DELETE", "/api/sessions/current", "Alice_1"))[0] == 204
    assert (await api.call("GET", "/api/sessions/current", "Alice_1"))[0] == 401
    ok = await api.call(
        "GET", "/api/sessions/current", headers={"Authorization": f"Bearer {second}"}
    )
    assert ok[0] == 200


async def test_tokens_are_stored_hashed(api: Api) -> None:
    token = await api.signup("hashed")
    dump = await redis_dump(api.redis)
    assert keys.PREFIX.encode() + b"session:" in dump
    assert token.encode() not in dump
    assert b"correct horse" not in dump


async def test_duplicate_handle_is_conflict(api: Api) -> None:
    await api.signup("bob")
    status, body = await api.call(
        "POST", "/api/accounts", json={"handle": "BOB", "password": "other password"}
    )
    assert status == 409 and body["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"handle": "ab", "password": "long enough"}, "invalid_input"),
        ({"handle": "a" * 21, "password": "long enough"}, "invalid_input"),
        ({"handle": "名前です", "password": "long enough"}, "invalid_input"),
        ({"handle": "has space", "password": "long enough"}, "invalid_input"),
        ({"handle": "okname", "password": "short"}, "invalid_input"),
        ({"handle": "okname", "password": "x" * 129}, "invalid_input"),
        ({"handle": "okname"}, "invalid_input"),
        ({"handle": 5, "password": "long enough"}, "invalid_input"),
        ([], "invalid_input"),
    ],
)
async def test_account_rules(api: Api, body: object, error: str) -> None:
    status, answer = await api.call("POST", "/api/accounts", json=body)
    assert status == 400 and answer["code"] == error and answer["detail"]


async def test_body_caps_and_media_type(api: Api) -> None:
    big = {"handle": "okname", "password": "p" * 20_000}
    status, body = await api.call("POST", "/api/accounts", json=big)
    assert (status, body["code"]) == (413, "payload_too_large")
    status, body = await api.call("POST", "/api/accounts", data="handle=okname&password=xxxxxxxx")
    assert (status, body["code"]) == (415, "unsupported_media_type")
    status, body = await api.call(
        "POST", "/api/accounts", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (status, body["code"]) == (400, "invalid_input")


async def test_wrong_password_and_unknown_handle_answer_alike(api: Api) -> None:
    await api.signup("carol")
    wrong = await api.call(
        "POST", "/api/sessions", json={"handle": "carol", "password": "nope nope"}
    )
    unknown = await api.call(
        "POST", "/api/sessions", json={"handle": "nobody_here", "password": "nope nope"}
    )
    assert wrong == unknown
    assert wrong[0] == 401 and wrong[1]["code"] == "unauthorized"


async def test_auth_matrix(api: Api) -> None:
    """Missing, malformed, tampered, revoked and another user's token."""
    token = await api.signup("dave")
    await api.signup("erin")
    await api.befriend("dave", "erin")
    status, created = await api.call("POST", "/api/checkins", "erin", json={"status": "safe"})
    assert status == 201
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    cases: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic ZGF2ZTpwYXNz"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": f"Bearer {tampered}"},
        {"Authorization": "Bearer " + "A" * 43},
        {"Authorization": "Bearer " + "A" * 300},
    ]
    for headers in cases:
        for method, path in [
            ("GET", "/api/friends"),
            ("GET", "/api/checkins/friends"),
            ("POST", "/api/checkins"),
            ("DELETE", f"/api/checkins/{created['id']}"),
        ]:
            status, body = await api.call(method, path, headers=headers, json={"status": "safe"})
            assert status == 401, (headers, method, path)
            assert body["code"] == "unauthorized"
    # Someone else's check-in id is not found, not forbidden, and stays.
    assert (await api.call("DELETE", f"/api/checkins/{created['id']}", "dave"))[0] == 404
    assert (await api.call("DELETE", "/api/checkins/nonexistent_id00", "dave"))[0] == 404
    status, body = await api.call("GET", "/api/checkins/friends", "dave")
    assert body["checkins"][0]["checkin"]["id"] == created["id"]


async def test_session_expires(make_api: AppFactory) -> None:
    api: Api = await make_api(config=fast_config(session_ttl_s=1))
    await api.signup("shortlived")
    assert (await api.call("GET", "/api/friends", "shortlived"))[0] == 200
    deadline = time.monotonic() + DEADLINE_S
    while (await api.call("GET", "/api/friends", "shortlived"))[0] != 401:
        assert time.monotonic() < deadline, "session did not expire"
        await asyncio.sleep(0.1)


async def test_cookie_auth_and_csrf(api: Api) -> None:
    resp = await api.client.post(
        "/api/accounts", json={"handle": "cookie_user", "password": "correct horse"}
    )
    assert resp.status == 201
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http in tests; Secure on https
    # Reads work with the cookie alone.
    status, _ = await api.call("GET", "/api/friends")
    assert status == 200
    # Writes need the CSRF header ...
    status, body = await api.call("POST", "/api/checkins", json={"status": "safe"})
    assert (status, body["code"]) == (403, "forbidden")
    # ... and a same-host Origin when one is sent.
    host = f"{api.client.host}:{api.client.port}"
    status, body = await api.call(
        "POST",
        "/api/checkins",
        json={"status": "safe"},
        headers={"X-Yure-CSRF": "1", "Origin": "https://evil.example"},
    )
    assert status == 403
    status, body = await api.call(
        "POST",
        "/api/checkins",
        json={"status": "safe"},
        headers={"X-Yure-CSRF": "1", "Origin": f"http://{host}"},
    )
    assert status == 201
    # Logging out clears the cookie.
    resp = await api.client.delete("/api/sessions/current", headers={"X-Yure-CSRF": "1"})
    assert resp.status == 204
    assert resp.cookies[SESSION_COOKIE].value == ""
    assert (await api.call("GET", "/api/friends"))[0] == 401


async def test_login_throttle_answers_429(make_api: AppFactory) -> None:
    from yure.safety_check.guesses import GuessPolicy

    config = fast_config(pair_guesses=GuessPolicy("pair", 2, 60.0, 900.0, 3600.0))
    api: Api = await make_api(config=config)
    await api.signup("target")
    answers = [
        await api.call("POST", "/api/sessions", json={"handle": "target", "password": "guess1234"})
        for _ in range(4)
    ]
    assert [a[0] for a in answers] == [401, 401, 401, 429]
    resp = await api.client.post(
        "/api/sessions", json={"handle": "target", "password": "correct horse"}
    )
    assert resp.status == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert (await resp.json(content_type=None))["code"] == "rate_limited"


async def test_password_hash_is_upgraded_on_login(make_api: AppFactory) -> None:
    """A login with stronger argon2 parameters than the stored hash re-hashes it."""
    old: Api = await make_api()
    await old.signup("upgrader")
    uid = store.text(await old.redis.get(keys.handle("upgrader")))
    before = store.text(await old.redis.hget(keys.user(uid), "pw"))
    assert "t=1" in before
    new: Api = await make_api(config=fast_config(argon2_time_cost=2))
    status, _ = await new.call(
        "POST", "/api/sessions", json={"handle": "upgrader", "password": "correct horse"}
    )
    assert status == 200
    after = store.text(await new.redis.hget(keys.user(uid), "pw"))
    assert after.startswith("$argon2id$") and "t=2" in after
