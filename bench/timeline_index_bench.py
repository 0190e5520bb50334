"""Narrow history reads over a 50,000-entry timeline (issue 10 item 8).

The real ``yure serve`` (embedded Redis) gets 50,000 entries of a realistic mix (mostly
quakes in a few prefectures, rare tsunami items for Okinawa); then, one request at a time:

* ``GET /api/timeline?prefs=47&kinds=tsunami&limit=500`` (rare matches: once a scan of
  20,000 entries, 0.6–1 s);
* ``GET /api/timeline?prefs=13&limit=100`` (common matches);
* a check-in's ``event_id`` that names no event (``CurrentEvents.lookup``, the call a
  check-in makes; once a scan of the newest 1,000 entries).

Goal: each ≤ 20 ms p95. ``make bench`` runs it as the ``timeline_index`` key; alone:
``python -m bench.timeline_index_bench``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis.asyncio

from bench.broadcast_bench import PREFS, RETENTION_S, yure_server
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.safety_check.events import CurrentEvents

ENTRIES = 50_000
#: Appends in flight at once (Redis batches their fsyncs).
APPEND_CONCURRENCY = 64
REQUESTS = 200
GOAL_P95_MS = 20.0
PAD = "震度３以上が観測された地域" * 40


def _entry(rng: random.Random, n: int) -> Envelope:
    prefs: tuple[str, ...]
    roll = rng.random()
    if roll < 0.002:
        kind, prefs = "tsunami", ("46", "47")
    elif roll < 0.02:
        kind, prefs = "tsunami", tuple(rng.sample(PREFS, 3))
    elif roll < 0.12:
        kind, prefs = "eew", tuple(rng.sample(PREFS[:20], 4))
    elif roll < 0.2:
        kind, prefs = "post", (rng.choice(PREFS),)
    else:
        kind, prefs = "quake", tuple(rng.sample(PREFS[:40], rng.randint(1, 5)))
    body = {"kind": kind, "event_id": f"2024{n:010d}", "n": n, "pad": PAD}
    return Envelope(key=f"bench-{n}", kind=kind, prefs=prefs, payload=orjson.dumps(body))


async def _fill(timeline: Timeline) -> None:
    rng = random.Random(47)
    for start in range(0, ENTRIES, APPEND_CONCURRENCY):
        stop = min(ENTRIES, start + APPEND_CONCURRENCY)
        await asyncio.gather(*(timeline.append(_entry(rng, n)) for n in range(start, stop)))


async def _latency(call: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    samples: list[float] = []
    found = 0
    for _ in range(REQUESTS):
        started = time.perf_counter()
        found = await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "items": found,
    }


async def _bench(port: int, redis_url: str) -> dict[str, Any]:
    client = redis.asyncio.Redis.from_url(redis_url)
    timeline = Timeline(client, retention_s=RETENTION_S)
    events = CurrentEvents(timeline, window_s=RETENTION_S, cache_s=0)
    base = f"http://127.0.0.1:{port}/api/timeline"
    try:
        started = time.monotonic()
        await _fill(timeline)
        fill_s = time.monotonic() - started
        async with aiohttp.ClientSession() as http:

            def page(query: str) -> Callable[[], Awaitable[int]]:
                async def call() -> int:
                    # The server's answer, whole; not the client's JSON parsing of it.
                    async with http.get(f"{base}?{query}") as resp:
                        resp.raise_for_status()
                        return (await resp.read()).count(b'{"type":"event",')

                return call

            async def unknown_event() -> int:
                return 0 if await events.lookup("20990101000000") is None else 1

            return {
                "entries": ENTRIES,
                "fill_s": round(fill_s, 1),
                "okinawa_tsunami_500": await _latency(page("prefs=47&kinds=tsunami&limit=500")),
                "tokyo_100": await _latency(page("prefs=13&limit=100")),
                "checkin_unknown_event_id": await _latency(unknown_event),
            }
    finally:
        await client.aclose()


def run() -> dict[str, Any]:
    """Run the timeline-index benchmark; return its results and goals."""
    with (
        tempfile.TemporaryDirectory(prefix="yure-index-") as tmp,
        yure_server(Path(tmp), coalesce=True, extra_env={"YURE_PUSH": "false"}) as target,
    ):
        result = asyncio.run(_bench(target.port, target.redis_url))
    result["goals"] = {
        f"{name}_p95_le_{GOAL_P95_MS:.0f}ms": result[name]["p95_ms"] <= GOAL_P95_MS
        for name in ("okinawa_tsunami_500", "tokyo_100", "checkin_unknown_event_id")
    }
    return result


if __name__ == "__main__":
    print(orjson.dumps(run(), option=orjson.OPT_INDENT_2).decode())
    sys.exit(0)
