"""Helpers shared by the test packages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[web.AppRunner]:
    """Serve ``app`` on 127.0.0.1 at a free port until the block ends; the runner's
    ``addresses[0][1]`` is the port (see :func:`base_url`)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner
    finally:
        await runner.cleanup()


def base_url(runner: web.AppRunner) -> str:
    """``http://127.0.0.1:<port>`` of a runner started by :func:`serving`."""
    return f"http://127.0.0.1:{runner.addresses[0][1]}"
