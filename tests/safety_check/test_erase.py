"""``yure admin accounts delete`` / ``sessions revoke``: through the real command line
against the API's Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.safety_check.conftest import Api, redis_dump
from yure.safety_check import keys


async def admin(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "yure", "admin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_delete_erases_the_account_and_all_its_data(api: Api, redis_url: str) -> None:
    await api.signup("hanako")
    await api.signup("taro")
    await api.signup("jiro")
    await api.befriend("hanako", "taro")
    assert (await api.call("POST", "/api/friends", "jiro", json={"handle": "hanako"}))[0] == 200
    status, checkin = await api.call(
        "POST",
        "/api/checkins",
        "hanako",
        json={"status": "safe", "note": "家族も無事"},
        headers={"Idempotency-Key": "k1"},
    )
    assert status == 201
    status, post = await api.call("POST", "/api/posts", "hanako", json={"text": "揺れた"})
    assert status == 201
    raw_uid = await api.redis.get(keys.handle("hanako"))
    assert isinstance(raw_uid, bytes)
    uid = raw_uid.decode()

    refused = await admin(redis_url, "accounts", "delete", "hanako")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = await admin(redis_url, "accounts", "delete", "Hanako", "--yes")
    assert done.returncode == 0, done.stderr
    assert "deleted Hanako" in done.stdout

    # No key, member or value names the account any more, except the notification ids in
    # friends' inboxes (24 h; never delivered, as each notification is re-checked).
    dump = await redis_dump(api.redis)
    assert "家族も無事".encode() not in dump
    for key in await api.redis.keys("*"):
        name = key.decode() if isinstance(key, bytes) else str(key)
        assert uid not in name
    lines = dump.split(b"\n")
    leftovers = [lines[i - 1] + b" " + line for i, line in enumerate(lines) if uid.encode() in line]
    assert all(b":inbox:" in line for line in leftovers), leftovers
    assert (await api.call("GET", "/api/sessions/current", "hanako"))[0] == 401
    status, friends = await api.call("GET", "/api/friends", "taro")
    assert (status, friends["friends"]) == (200, [])
    status, friends = await api.call("GET", "/api/friends", "jiro")
    assert status == 200 and friends["friends"] == []
    # The handle is never reused by someone else.
    resp = await api.client.post(
        "/api/accounts", json={"handle": "hanako", "password": "another-pass-1"}
    )
    assert resp.status == 409
    assert (await admin(redis_url, "accounts", "delete", "hanako", "--yes")).returncode == 1
    assert checkin["id"] and post["id"]


async def test_revoke_ends_every_session_and_keeps_the_account(api: Api, redis_url: str) -> None:
    first = await api.signup("hanako")
    resp = await api.client.post(
        "/api/sessions", json={"handle": "hanako", "password": "correct horse"}
    )
    assert resp.status == 200, await resp.text()
    second = (await resp.json())["token"]
    done = await admin(redis_url, "sessions", "revoke", "hanako")
    assert done.returncode == 0, done.stderr
    assert "revoked 2 sessions" in done.stdout
    for token in (first, second):
        resp = await api.client.get(
            "/api/sessions/current", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status == 401
    resp = await api.client.post(
        "/api/sessions", json={"handle": "hanako", "password": "correct horse"}
    )
    assert resp.status == 200
    assert (await admin(redis_url, "sessions", "revoke", "nobody")).returncode == 1
