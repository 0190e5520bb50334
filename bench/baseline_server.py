"""The baseline: a bare ``websockets.broadcast`` server fed by the same Redis stream.

No filtering, no coalescing, no replay: each stream entry becomes one
``{"type":"event",…}`` message broadcast to every connection (the benchmark
addresses every event to every prefecture, so both servers deliver the same).
Run as ``python -m bench.baseline_server PORT REDIS_URL STREAM_KEY``; prints
``listening`` once ready.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import redis.asyncio
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.clients import raise_fd_limit

READY = '{"type":"ready"}'


async def main(port: int, redis_url: str, stream_key: str) -> None:
    connections: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()  # the subscribe message (its filter is ignored)
        connections.add(ws)
        try:
            await ws.send(READY)
            await ws.wait_closed()
        finally:
            connections.discard(ws)

    client = redis.asyncio.Redis.from_url(redis_url)
    rows: Any = await client.xrevrange(stream_key, count=1)
    last = rows[0][0].decode() if rows else "0-0"

    async def follow() -> None:
        nonlocal last
        while True:
            reply: Any = await client.xread({stream_key: last}, count=512, block=2000)
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id.decode()
                    message = b'{"type":"event","id":"%s","event":%s}' % (entry_id, fields[b"d"])
                    broadcast(connections, message.decode())

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=4096
    ):
        print("listening", flush=True)
        reader = asyncio.create_task(follow())
        await stop.wait()
        reader.cancel()
    await client.aclose()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
