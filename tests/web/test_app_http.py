"""SSE, the JSON history, Atom feeds, health, metrics and CORS on a real server."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import defusedxml.ElementTree as SafeET
import orjson
import redis.asyncio

from tests.broadcast.support import WAIT_S, envelope, running_server
from tests.redis_server import RedisProcess
from tests.support import event_json
from tests.web.browser import user_event
from yure.broadcast.envelope import Envelope
from yure.broadcast.limits import API_MAX_SCAN_ENTRIES, Limits
from yure.ingest import liveness
from yure.ingest.event import InfoType

LIMITS = Limits(heartbeat_interval_s=0.3)
ATOM = "{http://www.w3.org/2005/Atom}"


async def sse_messages(
    resp: aiohttp.ClientResponse, *, until_ready: bool = True, events: int = 0
) -> list[tuple[str | None, dict[str, Any]]]:
    """(id, message) pairs until ``ready`` (or until ``events`` events)."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    current_id: str | None = None
    async with asyncio.timeout(WAIT_S):
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("id: "):
                current_id = line[4:]
            elif line.startswith("data: "):
                msg = orjson.loads(line[6:])
                if msg["type"] == "ready" and until_ready:
                    return out
                if msg["type"] != "heartbeat":
                    out.append((current_id, msg))
                current_id = None
                if events and sum(m["type"] == "event" for _, m in out) >= events:
                    return out
    return out


async def test_sse_stream_and_resume(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        aiohttp.ClientSession() as http,
    ):
        tl = server.timeline
        first = [await tl.append(envelope(f"a{i}", (("13",), ("01",))[i % 2])) for i in range(4)]
        async with http.get(f"{server.base}/sse?prefs=13&since=0") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            assert resp.headers["Cache-Control"] == "no-store"
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            replay = await sse_messages(resp)
            assert [i for i, _ in replay] == first[0::2]
            assert [m["id"] for _, m in replay] == first[0::2]
            live = await tl.append(envelope("live", ("13",)))
            got = await sse_messages(resp, until_ready=False, events=1)
            assert got == [(live, got[0][1])] and got[0][1]["event"]["key"] == "live"
        missed = [await tl.append(envelope(f"m{i}", ("13",), "tsunami")) for i in range(2)]
        await tl.append(envelope("other-kind", ("13",), "eew"))
        headers = {"Last-Event-ID": live}
        async with http.get(
            f"{server.base}/sse?prefs=kanto&kinds=tsunami", headers=headers
        ) as resp:
            assert [i for i, _ in await sse_messages(resp)] == missed


async def test_sse_bad_requests(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        aiohttp.ClientSession() as http,
    ):
        for query in ("prefs=atlantis", "since=yesterday", "kinds=BAD"):
            async with http.get(f"{server.base}/sse?{query}") as resp:
                assert resp.status == 400, query
        async with http.get(f"{server.base}/sse?prefs=" + "1," * 2000) as resp:
            assert resp.status == 414


async def test_sse_per_ip_limit(redis_url: str, tmp_path: Path) -> None:
    limits = Limits(heartbeat_interval_s=0.3, max_connections_per_ip=1)
    async with (
        running_server(redis_url, tmp_path, limits=limits) as server,
        aiohttp.ClientSession() as http,
        http.get(f"{server.base}/sse") as first,
    ):
        await sse_messages(first)
        async with http.get(f"{server.base}/sse") as second:
            assert second.status == 503


async def test_api_timeline_pages(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        aiohttp.ClientSession() as http,
    ):
        tl = server.timeline
        ids = [await tl.append(envelope(f"k{i}", (("13",), ("27",))[i % 2])) for i in range(9)]
        tokyo = ids[0::2]

        async def page(query: str) -> dict[str, Any]:
            async with http.get(f"{server.base}/api/timeline?{query}") as resp:
                assert resp.status == 200
                assert resp.headers["Access-Control-Allow-Origin"] == "*"
                body: dict[str, Any] = await resp.json()
                return body

        newest = await page("prefs=13&limit=2")
        assert [item["id"] for item in newest["items"]] == tokyo[-2:]
        assert newest["items"][0]["event"]["key"] == "k6"
        first = await page("prefs=13&since=0&limit=3")
        assert [item["id"] for item in first["items"]] == tokyo[:3]
        assert first["more"] is True and first["cursor_expired"] is False
        rest = await page(f"prefs=13&since={first['next']}&limit=3")
        assert [item["id"] for item in rest["items"]] == tokyo[3:]
        assert rest["more"] is False and rest["next"] == ids[-1]
        assert (await page("kinds=tsunami"))["items"] == []
        for bad in ("limit=0", "limit=501", "limit=x", "since=x", "prefs=nowhere"):
            async with http.get(f"{server.base}/api/timeline?{bad}") as resp:
                assert resp.status == 400, bad


async def test_atom_feed_is_well_formed_and_escaped(redis_url: str, tmp_path: Path) -> None:
    nasty = "震度<5強> & \"quoted\" 'x' ]]> \x00\x08\x1b</title><script>"
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS) as server,
        aiohttp.ClientSession() as http,
    ):
        tl = server.timeline
        at = datetime.fromisoformat("2024-01-01T16:10:00+09:00")
        official = event_json(title=nasty, headline="本文 & <b>", reported_at=at)
        await tl.append(Envelope("q1", "quake", ("13",), orjson.dumps(official)))
        cancel = event_json(info_type=InfoType.CANCELLED, title="震源に関する情報", reported_at=at)
        await tl.append(Envelope("q1c", "quake", ("13",), orjson.dumps(cancel), replaces="q1"))
        user = user_event("post", ["13"], text="user post")
        await tl.append(Envelope("p1", "post", ("13",), orjson.dumps(user)))
        await tl.append(Envelope("q2", "quake", ("01",), orjson.dumps(official)))
        async with http.get(f"{server.base}/feeds/13.atom") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("application/atom+xml")
            body = await resp.read()
        root = SafeET.fromstring(body)
        assert root.tag == f"{ATOM}feed"
        assert "東京都" in (root.findtext(f"{ATOM}title") or "")
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 2
        titles = [e.findtext(f"{ATOM}title") for e in entries]
        assert titles == [
            "【取消】震源に関する情報",
            "震度<5強> & \"quoted\" 'x' ]]> </title><script>",
        ]
        assert entries[1].findtext(f"{ATOM}summary") == "本文 & <b>"
        assert entries[1].findtext(f"{ATOM}updated") == "2024-01-01T16:10:00+09:00"
        assert root.findtext(f"{ATOM}updated") == "2024-01-01T16:10:00+09:00"
        async with http.get(f"{server.base}/feeds/99.atom") as resp:
            assert resp.status == 404
        async with http.get(f"{server.base}/feeds/47.atom") as resp:
            assert SafeET.fromstring(await resp.read()).findall(f"{ATOM}entry") == []


async def test_healthz_metrics_and_cors(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path, limits=LIMITS, feed_stale_s=60.0) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base}/healthz") as resp:
            body = await resp.json()
            assert resp.status == 200 and body["status"] == "ok"
            assert body["feed"]["fresh"] is False and body["feed"]["last_success_age_s"] is None
        await liveness.record_poll_success(server.redis, time.time() - 5)
        await liveness.record_poll_success(server.redis, time.time() - 500)  # never goes back
        async with http.get(f"{server.base}/healthz") as resp:
            feed = (await resp.json())["feed"]
            assert feed["fresh"] is True and 4 <= feed["last_success_age_s"] < 60
        await server.timeline.append(envelope("m", ("13",)))
        async with http.get(f"{server.base}/metrics") as resp:
            text = await resp.text()
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        for name in (
            "yure_stream_connections",
            "yure_events_sent_total",
            "yure_frames_sent_total",
            "yure_slow_disconnects_total",
            "yure_ingest_errors_total",
            "yure_feed_age_seconds",
            "yure_feed_fresh 1.0",
        ):
            assert name in text, name
        async with http.options(
            f"{server.base}/sse",
            headers={"Origin": "https://news.example", "Access-Control-Request-Method": "GET"},
        ) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "Last-Event-ID" in resp.headers["Access-Control-Allow-Headers"]


async def test_healthz_without_redis(fresh_redis: RedisProcess, tmp_path: Path) -> None:
    async with (
        running_server(fresh_redis.url, tmp_path, limits=LIMITS) as server,
        aiohttp.ClientSession() as http,
    ):
        fresh_redis.kill()
        async with http.get(f"{server.base}/healthz") as resp:
            assert resp.status == 503
            assert (await resp.json())["redis"] is False


async def test_narrow_filter_is_served_from_the_index(redis_url: str, tmp_path: Path) -> None:
    """Issue 10 item 8: ``?prefs=47&kinds=tsunami`` read the timeline from the newest entry
    back (up to 20,000 entries) instead of an index; beyond that it even missed matches."""
    client = redis.asyncio.Redis.from_url(redis_url)
    stream = "{yure:timeline}"
    tsunami = {"k": "t1", "t": "tsunami", "p": "46,47", "d": '{"n":0}'}
    await client.xadd(stream, tsunami)  # type: ignore[arg-type]
    async with client.pipeline(transaction=False) as pipe:
        for n in range(API_MAX_SCAN_ENTRIES + 600):
            pipe.xadd(stream, {"k": f"q{n}", "t": "quake", "p": "13", "d": '{"n":1}'})
        await pipe.execute()
    await client.aclose()
    async with running_server(redis_url, tmp_path) as server, aiohttp.ClientSession() as http:
        url = f"{server.base}/api/timeline?prefs=47&kinds=tsunami&limit=500"

        async def found() -> list[int]:
            async with http.get(url) as resp:
                assert resp.status == 200
                return [item["event"]["n"] for item in (await resp.json())["items"]]

        async with asyncio.timeout(6 * WAIT_S):  # the old entries are indexed at start
            while await found() != [0]:  # noqa: ASYNC110 - polling the server
                await asyncio.sleep(0.05)
