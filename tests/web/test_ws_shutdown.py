"""SIGTERM of ``yure serve`` with many handler-less ``/ws`` connections in every state:
each that reads gets its 1001, none holds the process past the grace period."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis.asyncio

from tests.broadcast.support import WAIT_S, RawWebSocket, envelope, subscribe
from tests.redis_server import RedisProcess
from tests.web.test_serve import RETENTION_S, Serve
from tests.web.test_ws_attacks import frame
from yure.broadcast.limits import SLOW_CLOSE_GRACE_S
from yure.broadcast.timeline import Timeline

READING = 200


async def test_sigterm_closes_every_lean_connection(
    fresh_redis: RedisProcess, tmp_path: Path
) -> None:
    server = Serve(tmp_path, REDIS_URL=fresh_redis.url)
    try:
        await server.healthy()
        url = urlsplit(server.base)
        host, port = url.hostname or "127.0.0.1", url.port or 0
        reading = []
        for i in range(READING):
            ws = await RawWebSocket.connect(host, port)
            if i % 2:
                ws.send_text(subscribe(prefs=["01"]))
            reading.append(ws)
        # ones that never read, one halfway through a frame, one half-closed
        stalled = [await RawWebSocket.connect(host, port, rcvbuf=4096) for _ in range(5)]
        for ws in stalled:
            ws.send_text(subscribe(prefs=["13"]))
        torn = await RawWebSocket.connect(host, port)
        torn.writer.write(frame(0x1, subscribe().encode())[:7])
        half = await RawWebSocket.connect(host, port)
        half.writer.write_eof()
        async with asyncio.timeout(WAIT_S):  # all but the half-closed one, forgotten
            while (await server.healthy())["connections"] != READING + 6:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
        # megabytes wait for the stalled ones when the signal comes
        client = redis.asyncio.Redis.from_url(fresh_redis.url)
        timeline = Timeline(client, retention_s=RETENTION_S)
        for i in range(10):
            await timeline.append(envelope(f"big{i}", ("13",), blob="x" * 200_000))
        await client.aclose()
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(ws.close_code() for ws in reading))
        assert codes == [1001] * READING
        await asyncio.to_thread(server.process.wait, SLOW_CLOSE_GRACE_S + WAIT_S)
        assert server.process.returncode == 0
        elapsed = time.monotonic() - started
        assert elapsed < SLOW_CLOSE_GRACE_S + WAIT_S
        print(f"exited after {elapsed:.1f} s")
        for ws in [*reading, *stalled, torn, half]:
            ws.close()
    finally:
        if server.process.poll() is None:
            server.kill()
        else:
            server.log.close()
