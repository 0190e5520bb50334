"""GET /api/live while nothing happens (issue 10 #3): the channel stays open past the
Redis read timeout with heartbeats; a revoked or expired session ends it with an explicit
unauthorized signal, never ``unavailable``; live channels per account are capped.

Time is scaled: the Redis client's read timeout is 0.5 s (production: redis-py's 5 s) and
the channel's blocking read asks for as long (production: ``live_block_s`` 5 s)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from tests.safety_check.conftest import fast_config, running_api

#: The scaled Redis read timeout (seconds).
READ_TIMEOUT_S = 0.5
#: Heartbeats received before the test is satisfied: each comes ``live_heartbeat_s`` apart.
HEARTBEATS = 6
SCALED = {"live_block_s": READ_TIMEOUT_S, "live_heartbeat_s": 0.25, "session_ttl_s": 30}


def scaled_url(redis_url: str) -> str:
    return f"{redis_url}?socket_timeout={READ_TIMEOUT_S}"


async def sse_events(resp: aiohttp.ClientResponse, until: set[str], limit: int) -> list[str]:
    """Event names (``:`` comments as ``comment``) until one of ``until`` or ``limit``."""
    names: list[str] = []
    buffer = b""
    while len(names) < limit:
        chunk = await resp.content.readany()
        if not chunk:
            names.append("<end>")
            return names
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            for line in block.split(b"\n"):
                if line.startswith(b":"):
                    names.append("comment")
                elif line.startswith(b"event: "):
                    names.append(line[7:].decode())
            if until & set(names):
                return names
    return names


async def test_idle_sse_stays_open_past_the_read_timeout(redis_url: str) -> None:
    """Regression: the idle channel ended with ``unavailable`` after one read timeout."""
    async with running_api(scaled_url(redis_url), fast_config(**SCALED)) as api:
        await api.signup("idle")
        resp = await api.client.get("/api/live", headers=api.auth("idle"))
        names = await asyncio.wait_for(
            sse_events(resp, {"unavailable", "unauthorized", "<end>"}, 2 + HEARTBEATS), 20
        )
        assert names == ["ready", "snapshot"] + ["comment"] * HEARTBEATS
        # Revoked: an explicit unauthorized event, not unavailable.
        await api.call("DELETE", "/api/sessions/current", "idle")
        tail = await asyncio.wait_for(sse_events(resp, {"unauthorized", "unavailable"}, 50), 20)
        assert tail[-1] == "unauthorized" and "unavailable" not in tail
        resp.close()


async def _ws_messages(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[Any]:
    out: list[Any] = []
    while len(out) < count:
        msg = await ws.receive(timeout=10)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            out.append((msg.type.name, msg.data))
            return out
        out.append(orjson.loads(msg.data)["type"])
    return out


async def test_idle_websocket_stays_open_then_expired_session_closes_4401(
    redis_url: str,
) -> None:
    config = fast_config(**{**SCALED, "session_ttl_s": 4})
    async with running_api(scaled_url(redis_url), config) as api:
        await api.signup("idle")
        async with api.client.ws_connect("/api/live", headers=api.auth("idle")) as ws:
            got = await _ws_messages(ws, 2 + HEARTBEATS)
            assert got == ["ready", "snapshot"] + ["heartbeat"] * HEARTBEATS
            # The session expires (Redis drops it): the channel closes with 4401.
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                assert orjson.loads(msg.data)["type"] == "heartbeat"
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 4401)


async def test_live_channels_per_account_are_capped(redis_url: str) -> None:
    async with running_api(redis_url, fast_config(max_live_per_account=2)) as api:
        for h in ("many", "other"):
            await api.signup(h)
        first = await api.client.ws_connect("/api/live", headers=api.auth("many"))
        second = await api.client.ws_connect("/api/live", headers=api.auth("many"))
        for ws in (first, second):
            assert await _ws_messages(ws, 1) == ["ready"]
        resp = await api.client.get("/api/live", headers=api.auth("many"))
        assert resp.status == 429 and "Retry-After" in resp.headers
        # First-message auth cannot be refused before the upgrade: close code 4429.
        async with api.client.ws_connect("/api/live") as third:
            await third.send_str(
                orjson.dumps({"type": "auth", "token": api.tokens["many"]}).decode()
            )
            msg = await third.receive(timeout=10)
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 4429)
        # Another account is not affected; a closed channel frees its seat.
        other = await api.client.get("/api/live", headers=api.auth("other"))
        assert other.status == 200
        other.close()
        await first.close()
        for _ in range(200):
            resp = await api.client.get("/api/live", headers=api.auth("many"))
            if resp.status == 200:
                break
            await asyncio.sleep(0.05)
        assert resp.status == 200
        resp.close()
        await second.close()
