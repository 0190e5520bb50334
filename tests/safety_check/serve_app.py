"""A minimal server of the safety-check API for crash tests: ``python -m
tests.safety_check.serve_app <redis_url>``. Prints ``PORT <n>`` once it listens on an
ephemeral port, then serves until killed."""

from __future__ import annotations

import asyncio
import socket
import sys

import redis.asyncio
from aiohttp import web

import yure.safety_check.http
from tests.safety_check.conftest import TEST_SETTINGS, fast_config
from yure.broadcast.timeline import Timeline
from yure.web.problems import problem_middleware


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    app = web.Application(middlewares=[problem_middleware])
    yure.safety_check.http.setup(
        app,
        redis=client,
        settings=TEST_SETTINGS,
        public=Timeline(client, retention_s=TEST_SETTINGS.retention_s),
        config=fast_config(),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    sock = _listening_socket()
    await web.SockSite(runner, sock).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
