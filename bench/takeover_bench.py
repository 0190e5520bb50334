"""Ingest takeover benchmark: how long after ``kill -9`` of the lease holder another
``yure serve`` polls JMA (issue 10 item 13).

Two ``yure serve`` processes share one redis-server and compete for the ingest lease; a
local JMA feed records every request. Each run kills the holder with SIGKILL (it cannot
release the lease, so the key must expire) and measures, from the kill:

* ``lease_s``: until the lease names another holder;
* ``poll_s``: until that holder's poller fetches the feed (what matters to users).

The killed process is then replaced, so two contenders are always running. Run alone with
``python -m bench.takeover_bench --runs 20``; ``make bench`` runs it with
:data:`DEFAULT_RUNS` and writes the numbers under ``takeover``. Never a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis.asyncio
from aiohttp import web

from yure.infra.lease import LEASE_TTL_S, Lease
from yure.ingest.publish import INGEST_LEASE

ROOT = Path(__file__).resolve().parents[1]
LEASE_KEY = INGEST_LEASE
DEFAULT_RUNS = 20
#: Deadline of one takeover before the run counts as failed.
RUN_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0
#: How often the bench looks at Redis and at the feed's requests (other processes' state:
#: nothing to await on).
POLL_EVERY_S = 0.02
EMPTY_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<feed xmlns="http://www.w3.org/2005/Atom"><title>bench</title>'
    b"<id>urn:bench</id><updated>2024-04-17T14:20:00Z</updated></feed>"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _redis_server(directory: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _serve(data_dir: Path, redis_url: str, feed_url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "YURE_DATA_DIR": str(data_dir),
        "YURE_PORT": "0",
        "YURE_INGEST": "true",
        "YURE_JMA_FEEDS": feed_url,
        "YURE_JMA_BACKFILL_FEEDS": "none",
        "YURE_P2P_WS_URL": "none",
        "YURE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "yure", "serve"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("yure: listening"):
        process.kill()
        raise RuntimeError(f"yure serve did not start: {line!r}")
    return process


async def _holder_pid(client: redis.asyncio.Redis) -> int | None:
    value = await client.get(LEASE_KEY)
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return int(text.split(":")[1])  # host:pid:random (infra.lease.holder_id)


async def _measure(runs: int) -> dict[str, Any]:
    requests: list[float] = []

    async def feed(request: web.Request) -> web.Response:
        requests.append(time.monotonic())
        return web.Response(body=EMPTY_FEED, content_type="application/atom+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    feed_url = f"http://127.0.0.1:{port}/feed.xml"
    lease_s: list[float] = []
    poll_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, _redis_server(Path(tmp)) as redis_url:
        client = redis.asyncio.Redis.from_url(redis_url)
        processes = {}
        try:
            for n in range(2):
                proc = _serve(Path(tmp) / f"node{n}", redis_url, feed_url)
                processes[proc.pid] = proc
            for run in range(runs):
                async with asyncio.timeout(START_TIMEOUT_S):
                    while (holder := await _holder_pid(client)) not in processes:  # noqa: ASYNC110
                        await asyncio.sleep(POLL_EVERY_S)
                assert holder is not None
                victim = processes.pop(holder)
                killed_at = time.monotonic()
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                async with asyncio.timeout(RUN_TIMEOUT_S):
                    while await _holder_pid(client) in (None, holder):  # noqa: ASYNC110
                        await asyncio.sleep(POLL_EVERY_S)
                    lease_s.append(time.monotonic() - killed_at)
                    while not requests or requests[-1] < killed_at:  # noqa: ASYNC110
                        await asyncio.sleep(POLL_EVERY_S)
                    poll_s.append(min(t for t in requests if t >= killed_at) - killed_at)
                print(f"run {run + 1}: lease {lease_s[-1]:.2f} s, poll {poll_s[-1]:.2f} s",
                      file=sys.stderr)  # fmt: skip
                fresh = _serve(Path(tmp) / f"node{run + 2}", redis_url, feed_url)
                processes[fresh.pid] = fresh
        finally:
            for proc in processes.values():
                proc.send_signal(signal.SIGTERM)
            for proc in processes.values():
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            await client.aclose()
            await runner.cleanup()
    bound = Lease(client, name=LEASE_KEY, ttl_s=LEASE_TTL_S).takeover_bound_s
    return {
        "runs": runs,
        "lease_ttl_s": LEASE_TTL_S,
        "documented_bound_s": round(bound, 2),
        "lease_s": _summary(lease_s),
        "poll_s": _summary(poll_s),
        "within_bound": sum(1 for s in poll_s if s <= bound),
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }


def run(runs: int = DEFAULT_RUNS) -> dict[str, Any]:
    """Measure ``runs`` takeovers; the ``takeover`` part of bench/results/latest.json."""
    return asyncio.run(_measure(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args()
    print(json.dumps(run(args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
