"""Hostile readers: clients that subscribe with ``since:"0"`` and never read (issue 10).

The real ``yure serve`` (embedded Redis) gets ~15 MB of history; healthy subscribers
(their own address) measure alert latency (publish → receive) on the idle server; then
200 WebSocket connections from one other address subscribe to everything since ``"0"``
and never read a byte, and the healthy ones measure again while the server's RSS is
sampled: once from the moment they arrive (``while_arriving``: their replays fill the
kernel's and the transports' buffers up to the caps), then for the next alerts
(``under_attack``: they sit there until they are dropped). Goals (issue 10 item 2): the
200 add ≤ 200 MB in all, and the healthy subscribers get every alert with p99 within 2×
of the idle server.

``make bench`` runs it as the ``hostile_readers`` key; alone: ``python -m bench.hostile_bench``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis.asyncio
from websockets.asyncio.client import ClientConnection, connect

from bench.broadcast_bench import PREFS, RETENTION_S, rss_kib, yure_server
from bench.clients import masked_text_frame
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline

HOSTILE = 200
HEALTHY = 20
HISTORY_ENTRIES = 1500
HISTORY_ENTRY_BYTES = 10_000  # 1,500 × 10 kB = 15 MB, as in the issue
ALERTS = 20
ALERT_GAP_S = 0.25
RSS_SAMPLE_S = 0.1
WAIT_S = 60.0
HEALTHY_IP = "127.0.0.2"
HOSTILE_IP = "127.0.0.3"


def _history(seq: int) -> Envelope:
    body = {"kind": "quake", "seq": seq, "pad": "x" * HISTORY_ENTRY_BYTES}
    return Envelope(key=f"h-{seq}", kind="quake", prefs=PREFS, payload=orjson.dumps(body))


def _alert(seq: int) -> Envelope:
    body = {"kind": "eew", "official": True, "seq": seq, "t0": time.time()}
    return Envelope(key=f"a-{time.time_ns()}-{seq}", kind="eew", prefs=PREFS,
                    payload=orjson.dumps(body))  # fmt: skip


async def _hostile(port: int) -> socket.socket:
    """One connection that subscribes to everything since "0" and never reads."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((HOSTILE_IP, 0))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    await loop.sock_sendall(sock, request + masked_text_frame(b'{"type":"subscribe","since":"0"}'))
    return sock


class Healthy:
    """Subscribers that read everything and record alert latencies."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.alerts = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, url: str, count: int) -> None:
        ready = [asyncio.get_running_loop().create_future() for _ in range(count)]
        self._tasks = [asyncio.create_task(self._read(url, done)) for done in ready]
        for task, done in zip(self._tasks, ready, strict=True):
            task.add_done_callback(lambda t, d=done: self._failed(t, d))  # type: ignore[misc]
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*ready)

    def _failed(self, task: asyncio.Task[None], ready: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not ready.done():
            ready.set_exception(task.exception() or RuntimeError("reader ended"))

    async def _read(self, url: str, ready: asyncio.Future[None]) -> None:
        async with connect(url, max_size=2**24, max_queue=None,
                           local_addr=(HEALTHY_IP, 0)) as ws:  # fmt: skip
            await ws.send('{"type":"subscribe","kinds":["eew"]}')
            await self._loop(ws, ready)

    async def _loop(self, ws: ClientConnection, ready: asyncio.Future[None]) -> None:
        async for raw in ws:
            received = time.time()
            msg = orjson.loads(raw)
            items = msg["items"] if msg.get("type") == "events" else [msg]
            for item in items:
                if item["type"] == "ready" and not ready.done():
                    ready.set_result(None)
                elif item["type"] == "event":
                    self.alerts += 1
                    self.latencies.append((received - item["event"]["t0"]) * 1000)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _measure(timeline: Timeline, healthy: Healthy, first_seq: int) -> dict[str, Any]:
    healthy.latencies.clear()
    healthy.alerts = 0
    for seq in range(first_seq, first_seq + ALERTS):
        await timeline.append(_alert(seq))
        await asyncio.sleep(ALERT_GAP_S)
    expected = ALERTS * HEALTHY
    async with asyncio.timeout(WAIT_S):
        while healthy.alerts < expected:  # noqa: ASYNC110 - readers are other tasks
            await asyncio.sleep(0.05)
    samples = sorted(healthy.latencies)
    return {
        "alert_p50_ms": round(statistics.median(samples), 2),
        "alert_p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2),
        "alerts_received": healthy.alerts,
        "alerts_expected": expected,
    }


async def _metric(port: int, name: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        text = await r.text()
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M))


async def _bench(port: int, pid: int, redis_url: str) -> dict[str, Any]:
    client = redis.asyncio.Redis.from_url(redis_url)
    timeline = Timeline(client, retention_s=RETENTION_S)
    healthy = Healthy()
    hostile: list[socket.socket] = []
    try:
        for seq in range(HISTORY_ENTRIES):
            await timeline.append(_history(seq))
        await healthy.start(f"ws://127.0.0.1:{port}/ws", HEALTHY)
        idle = await _measure(timeline, healthy, 0)
        rss_before = rss_kib(pid)
        peak = rss_before
        stop = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_kib(pid))
                await asyncio.sleep(RSS_SAMPLE_S)

        sampler = asyncio.create_task(sample())
        hostile = [await _hostile(port) for _ in range(HOSTILE)]
        arriving = await _measure(timeline, healthy, ALERTS)
        attacked = await _measure(timeline, healthy, 2 * ALERTS)
        stop.set()
        await sampler
        dropped = await _metric(port, "yure_slow_disconnects_total")
        return {
            "hostile_connections": HOSTILE,
            "history_mb": round(HISTORY_ENTRIES * HISTORY_ENTRY_BYTES / 1e6, 1),
            "healthy_subscribers": HEALTHY,
            "rss_before_mb": round(rss_before / 1024, 1),
            "rss_peak_mb": round(peak / 1024, 1),
            "rss_added_mb": round((peak - rss_before) / 1024, 1),
            "hostile_dropped": int(dropped),
            "idle": idle,
            "while_arriving": arriving,
            "under_attack": attacked,
            "alert_p99_ratio": round(attacked["alert_p99_ms"] / idle["alert_p99_ms"], 2),
            "alert_p99_ratio_while_arriving": round(
                arriving["alert_p99_ms"] / idle["alert_p99_ms"], 2
            ),
        }
    finally:
        for sock in hostile:
            sock.close()
        await healthy.stop()
        await client.aclose()


def run() -> dict[str, Any]:
    """Run the hostile-readers benchmark; return its results and goals."""
    with (
        tempfile.TemporaryDirectory(prefix="yure-hostile-") as tmp,
        yure_server(Path(tmp), coalesce=True, extra_env={"YURE_PUSH": "false"}) as target,
    ):
        result = asyncio.run(_bench(target.port, target.process.pid, target.redis_url))
    under = result["under_attack"]
    result["goals"] = {
        "rss_added_le_200mb": result["rss_added_mb"] <= 200,
        "every_alert_delivered": under["alerts_received"] == under["alerts_expected"],
        "alert_p99_le_2x_idle": result["alert_p99_ratio"] <= 2.0,
        "every_alert_delivered_while_arriving": result["while_arriving"]["alerts_received"]
        == result["while_arriving"]["alerts_expected"],
    }
    return result


if __name__ == "__main__":
    print(orjson.dumps(run(), option=orjson.OPT_INDENT_2).decode())
    sys.exit(0)
