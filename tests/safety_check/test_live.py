"""GET /api/live: WebSocket and SSE delivery of friends' check-ins, authenticated."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson
import pytest

from tests.redis_server import RedisProcess
from tests.safety_check.conftest import Api, AppFactory, fast_config, running_api
from yure.safety_check.tokens import SESSION_COOKIE

#: The issue's promise: a friend's check-in arrives within a second.
DELIVERY_S = 1.0


async def _receive(ws: aiohttp.ClientWebSocketResponse, within_s: float = 5.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=within_s)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    result: dict[str, Any] = orjson.loads(msg.data)
    return result


async def _only_heartbeats(ws: aiohttp.ClientWebSocketResponse, for_s: float) -> None:
    """Nothing but idle heartbeats arrives for ``for_s`` seconds."""
    deadline = time.monotonic() + for_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except TimeoutError:
            return
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        assert orjson.loads(msg.data) == {"type": "heartbeat"}


async def _pair(api: Api) -> None:
    for h in ("watcher", "sender", "outsider"):
        await api.signup(h)
    await api.befriend("watcher", "sender")


async def test_websocket_header_auth_delivers_within_a_second(api: Api) -> None:
    await _pair(api)
    _, early = await api.call("POST", "/api/checkins", "sender", json={"status": "unknown"})
    async with api.client.ws_connect("/api/live", headers=api.auth("watcher")) as ws:
        assert await _receive(ws) == {"type": "ready", "handle": "watcher"}
        snapshot = await _receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["checkins"] == [{"handle": "sender", "checkin": early}]
        sent_at = time.monotonic()
        _, created = await api.call(
            "POST", "/api/checkins", "sender", json={"status": "safe", "note": "<b>ok</b>"}
        )
        message = await _receive(ws, within_s=DELIVERY_S)
        assert time.monotonic() - sent_at < DELIVERY_S
        assert message == {"type": "checkin", "checkin": created}
        assert message["checkin"]["note"] == "<b>ok</b>"
        # Deletion is pushed too.
        await api.call("DELETE", f"/api/checkins/{created['id']}", "sender")
        assert await _receive(ws) == {"type": "checkin_deleted", "id": created["id"]}


async def test_websocket_first_message_auth(api: Api) -> None:
    await _pair(api)
    async with api.client.ws_connect("/api/live") as ws:
        await ws.send_str(orjson.dumps({"type": "auth", "token": api.tokens["watcher"]}).decode())
        assert (await _receive(ws))["type"] == "ready"
        assert (await _receive(ws))["type"] == "snapshot"
        _, created = await api.call("POST", "/api/checkins", "sender", json={"status": "safe"})
        assert (await _receive(ws, within_s=DELIVERY_S))["checkin"]["id"] == created["id"]


@pytest.mark.parametrize(
    "first", [{"type": "auth", "token": "A" * 43}, {"type": "hello"}, "not json", None]
)
async def test_websocket_bad_auth_closes_4401(api: Api, first: object) -> None:
    await _pair(api)
    async with api.client.ws_connect("/api/live") as ws:
        if first is not None:
            await ws.send_str(first if isinstance(first, str) else orjson.dumps(first).decode())
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 4401)


async def test_websocket_bad_header_token_is_401(api: Api) -> None:
    resp = await api.client.get(
        "/api/live",
        headers={
            "Authorization": "Bearer " + "B" * 43,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 401
    assert (await resp.json(content_type=None))["code"] == "unauthorized"


async def test_websocket_cookie_needs_same_origin(api: Api) -> None:
    await _pair(api)
    cookie = {SESSION_COOKIE: api.tokens["watcher"]}
    api.client.session.cookie_jar.update_cookies(cookie)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await api.client.ws_connect("/api/live", headers={"Origin": "https://evil.example"})
    assert info.value.status == 403
    origin = f"http://{api.client.host}:{api.client.port}"
    async with api.client.ws_connect("/api/live", headers={"Origin": origin}) as ws:
        assert (await _receive(ws))["type"] == "ready"


async def test_strangers_and_ex_friends_get_nothing(api: Api) -> None:
    await _pair(api)
    async with api.client.ws_connect("/api/live", headers=api.auth("outsider")) as ws:
        await _receive(ws)
        assert (await _receive(ws))["checkins"] == []
        await api.call("POST", "/api/checkins", "sender", json={"status": "safe"})
        await _only_heartbeats(ws, 0.8)
    async with api.client.ws_connect("/api/live", headers=api.auth("watcher")) as ws:
        await _receive(ws)
        await _receive(ws)
        await api.call("DELETE", "/api/friends/watcher", "sender")
        assert await _receive(ws) == {"type": "friend_removed", "handle": "sender"}
        await api.call("POST", "/api/checkins", "sender", json={"status": "need_help"})
        await _only_heartbeats(ws, 0.8)


async def test_revoked_session_ends_channel(api: Api) -> None:
    await _pair(api)
    async with api.client.ws_connect("/api/live", headers=api.auth("watcher")) as ws:
        await _receive(ws)
        await _receive(ws)
        assert (await api.call("DELETE", "/api/sessions/current", "watcher"))[0] == 204
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 4401)


async def test_sse(api: Api) -> None:
    await _pair(api)
    assert (await api.client.get("/api/live")).status == 401
    resp = await api.client.get("/api/live", headers=api.auth("watcher"))
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    assert resp.headers["Cache-Control"] == "no-store"
    events: list[dict[str, Any]] = []

    async def read_events(count: int) -> None:
        buffer = b""
        while len(events) < count:
            buffer += await resp.content.readany()
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    if line.startswith(b"data: "):
                        events.append(orjson.loads(line[6:]))

    await asyncio.wait_for(read_events(2), 5)
    assert [e["type"] for e in events] == ["ready", "snapshot"]
    _, created = await api.call("POST", "/api/checkins", "sender", json={"status": "safe"})
    await asyncio.wait_for(read_events(3), DELIVERY_S)
    assert events[2] == {"type": "checkin", "checkin": created}
    resp.close()


async def test_connection_cap_answers_503(make_api: AppFactory) -> None:
    api: Api = await make_api(config=fast_config(max_live_connections=1))
    await _pair(api)
    async with api.client.ws_connect("/api/live", headers=api.auth("watcher")) as ws:
        await _receive(ws)
        resp = await api.client.get("/api/live", headers=api.auth("sender"))
        assert resp.status == 503 and (await resp.json(content_type=None))["code"] == "unavailable"
    deadline = time.monotonic() + 5
    while True:  # the slot is freed once the server has seen the close
        resp = await api.client.get("/api/live", headers=api.auth("sender"))
        if resp.status == 200:
            resp.close()
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_sse_session_end_and_redis_outage(fresh_redis: RedisProcess) -> None:
    # A Redis outage reaches an idle channel at its next heartbeat (its seat renewal
    # fails): a short heartbeat bounds the wait well inside the receive timeout.
    config = fast_config(live_heartbeat_s=2.0)
    async with running_api(fresh_redis.url, config) as api:
        await _pair(api)

        async def first_events(resp: aiohttp.ClientResponse, count: int) -> list[str]:
            types: list[str] = []
            buffer = b""
            while len(types) < count:
                chunk = await resp.content.readany()
                assert chunk, "stream ended early"
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    types += [
                        ln[7:].decode() for ln in block.split(b"\n") if ln.startswith(b"event: ")
                    ]
            return types

        resp = await api.client.get("/api/live", headers=api.auth("watcher"))
        assert await asyncio.wait_for(first_events(resp, 2), 5) == ["ready", "snapshot"]
        await api.call("DELETE", "/api/sessions/current", "watcher")
        assert await asyncio.wait_for(first_events(resp, 1), 5) == ["unauthorized"]
        resp.close()

        async with api.client.ws_connect("/api/live", headers=api.auth("sender")) as ws:
            await _receive(ws)
            await _receive(ws)
            await asyncio.to_thread(fresh_redis.kill)
            try:
                msg = await ws.receive(timeout=15)
                assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1013)
            finally:
                await asyncio.to_thread(fresh_redis.start)


async def test_idle_channel_stays_open_with_heartbeats(redis_url: str) -> None:
    """Regression (issue 10.3): a read timeout equal to ``live_block_s`` used to end an idle
    channel with ``unavailable``/1013 every block period, so the client reconnected forever."""
    block_s = 1.0  # the old code's block equalled this read timeout: a 1013 every period
    url = f"{redis_url}?socket_timeout={block_s}"
    async with running_api(url, fast_config(live_block_s=block_s, live_heartbeat_s=block_s)) as api:
        await _pair(api)
        async with api.client.ws_connect("/api/live", headers=api.auth("watcher")) as ws:
            assert (await _receive(ws))["type"] == "ready"
            assert (await _receive(ws))["type"] == "snapshot"
            for _ in range(3):  # three idle periods: a heartbeat each, never a close
                assert await _receive(ws, within_s=block_s * 10) == {"type": "heartbeat"}
            _, created = await api.call("POST", "/api/checkins", "sender", json={"status": "safe"})
            message = await _receive(ws)
            while message == {"type": "heartbeat"}:
                message = await _receive(ws)
            assert message == {"type": "checkin", "checkin": created}


async def _redis_clients(api: Api) -> int:
    return len(await api.redis.client_list())


async def test_many_viewers_share_one_reader(make_api: AppFactory) -> None:
    """Issue 16: viewers wait on the process's one inbox-bus reader, not on a blocking read
    each; Redis connections stay a handful however many viewers are open."""
    viewers = 60
    api: Api = await make_api(config=fast_config(live_heartbeat_s=0.5))
    await _pair(api)
    for n in range(viewers):
        await api.signup(f"viewer{n:02d}")
        await api.befriend(f"viewer{n:02d}", "sender")
    async with api.client.ws_connect("/api/live", headers=api.auth("watcher")) as first:
        await _receive(first)
        await _receive(first)
        before = await _redis_clients(api)
        sockets: list[Any] = []
        try:
            await _open_viewers(api, viewers, sockets)
            # Two idle periods: every viewer has waited (and re-checked its session).
            for ws in sockets:
                assert await _receive(ws, within_s=5) == {"type": "heartbeat"}
            assert await _redis_clients(api) - before <= 4
            _, created = await api.call("POST", "/api/checkins", "sender", json={"status": "safe"})
            await _each_gets_checkin(sockets, created)
        finally:
            for ws in sockets:
                await ws.close()


async def _open_viewers(api: Api, viewers: int, sockets: list[Any]) -> None:
    """Open the live channels of viewer00… into ``sockets`` (which the caller closes)."""
    for n in range(viewers):
        ws = await api.client.ws_connect("/api/live", headers=api.auth(f"viewer{n:02d}"))
        sockets.append(ws)
        assert (await _receive(ws))["type"] == "ready"
        assert (await _receive(ws))["type"] == "snapshot"


async def _each_gets_checkin(sockets: list[Any], created: object) -> None:
    """Every channel's next message past heartbeats is the check-in ``created``."""
    for ws in sockets:
        message = await _receive(ws)
        while message == {"type": "heartbeat"}:
            message = await _receive(ws)
        assert message == {"type": "checkin", "checkin": created}


async def _command_calls(api: Api) -> dict[str, int]:
    stats = await api.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


async def test_a_checkin_to_many_viewers_is_looked_up_once(make_api: AppFactory) -> None:
    """Issue 16: the viewers a check-in wakes are served by the process's one reader in a
    batch: the check-in, its owner's friends and handle are read once for all of them,
    not once per viewer (before: 5 round trips per viewer, so 20 friends of 200
    check-ins/s were 20,000 reads/s), and the appends to every inbox are one script."""
    viewers = 30
    api: Api = await make_api(config=fast_config())
    await _pair(api)
    for n in range(viewers):
        await api.signup(f"viewer{n:02d}")
        await api.befriend(f"viewer{n:02d}", "sender")
    sockets: list[Any] = []
    try:
        await _open_viewers(api, viewers, sockets)
        before = await _command_calls(api)
        _, created = await api.call("POST", "/api/checkins", "sender", json={"status": "safe"})
        await _each_gets_checkin(sockets, created)
        after = await _command_calls(api)
    finally:
        for ws in sockets:
            await ws.close()
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    # (commandstats also counts the commands a script runs: only HGETALL and the scripts
    # themselves are never run inside one.) The check-in is read once per reader batch.
    assert calls.get("hgetall", 0) <= 4, calls
    # The create and the fan-out are one script each; the process's periodic batched ones
    # (session sweep, seat renewals) may fall inside the window on a slow machine — still
    # a handful, never one per viewer (30 here).
    assert calls.get("evalsha", 0) + calls.get("eval", 0) <= 5, calls
