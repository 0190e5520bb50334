"""The safety-check API mounted in the real application (web.app.build_app), production
argon2 parameters included."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio
from aiohttp.test_utils import TestClient, TestServer

from yure.settings import Settings


async def test_mounted_in_build_app(redis_url: str, tmp_path: Path) -> None:
    from yure.web.app import build_app

    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        app = build_app(Settings(data_dir=tmp_path), r)
        async with TestClient(TestServer(app, port=0)) as client:
            resp = await client.post(
                "/api/accounts", json={"handle": "mounted", "password": "correct horse"}
            )
            assert resp.status == 201
            auth = {"Authorization": f"Bearer {(await resp.json(content_type=None))['token']}"}
            resp = await client.post(
                "/api/posts", json={"text": "<i>揺れた</i>", "pref": "13"}, headers=auth
            )
            assert resp.status == 201
            post = await resp.json()
            resp = await client.get("/api/timeline")
            items = (await resp.json(content_type=None))["items"]
            assert [item["event"] for item in items] == [post]
            # The safety API is not opened to other origins by the public CORS rules.
            resp = await client.get("/api/checkins/friends", headers=auth)
            assert resp.status == 200
            assert "Access-Control-Allow-Origin" not in resp.headers
    finally:
        await r.aclose()
