"""``yure admin posts hidden|restore``: the real command in a subprocess against the
Redis of a running API."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tests.safety_check.addresses import call_as, signup_from
from tests.safety_check.conftest import TEST_SETTINGS, Api, AppFactory, FakeClock, fast_config

REPO = Path(__file__).resolve().parents[2]


async def yure(redis_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "YURE_ADDRESS_SECRET": str(TEST_SETTINGS.address_secret),
        "PYTHONPATH": str(REPO),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "yure", *args, env=env, stdout=-1, stderr=-1
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_list_and_restore_hidden_posts(make_api: AppFactory, redis_url: str) -> None:
    clock = FakeClock(time.time())
    api: Api = await make_api(clock=clock, config=fast_config(post_hide_reports=1))
    await signup_from(api, "author", "127.0.1.1")
    await signup_from(api, "reader", "127.0.2.1")
    clock.advance(2 * 3600)
    _, post = await call_as(
        api, "author", "127.0.1.1", "POST", "/api/posts", json={"text": "誤報\nです", "pref": "13"}
    )
    pid = post["id"]
    assert (await yure(redis_url, "admin", "posts", "hidden"))[:2] == (0, "")
    await call_as(api, "reader", "127.0.2.1", "POST", f"/api/posts/{pid}/report")
    assert (await api.call("GET", f"/api/posts/{pid}"))[0] == 404
    status, out, _ = await yure(redis_url, "admin", "posts", "hidden")
    assert status == 0
    fields = out.rstrip("\n").split("\t")
    assert (fields[0], fields[2], fields[3]) == (pid, "13", "誤報 です")
    # "--": a post id may start with "-" (base64url), which argparse would read as an option.
    status, out, _ = await yure(redis_url, "admin", "posts", "restore", "--", pid)
    assert (status, out) == (0, f"restored {pid}\n")
    assert (await api.call("GET", f"/api/posts/{pid}"))[0] == 200
    status, _, err = await yure(redis_url, "admin", "posts", "restore", "--", pid)
    assert status == 1 and "not a hidden post" in err
