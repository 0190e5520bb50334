"""A worker at its open-files limit (issue 16, found by the ``scale`` bench): it refuses
connections past its cap while it still has descriptors of its own, instead of running
out (asyncio then logs a traceback for every failed accept() and the worker can reach
neither Redis nor its clients); and its listening socket keeps the configured backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.broadcast.support import WAIT_S
from tests.web.test_serve import Serve
from yure.web.connections import FD_RESERVE_MIN, connection_fd_cap
from yure.web.serve import LISTEN_BACKLOG

#: The worker's open-files limit in the test: its cap is this minus FD_RESERVE_MIN.
OPEN_FILES = FD_RESERVE_MIN + 120
#: Connections the test opens: more than the worker's whole limit.
CONNECTIONS = OPEN_FILES + 100


def test_cap_keeps_a_reserve() -> None:
    assert connection_fd_cap(1024) == 1024 - FD_RESERVE_MIN
    assert connection_fd_cap(65536) == 65536 - 3277  # 5 % of a large limit
    assert connection_fd_cap(10) == 1


def _somaxconn() -> int:
    return int(Path("/proc/sys/net/core/somaxconn").read_text())


def _listen_backlogs(port: int) -> list[int]:
    """Send-Q of each listening socket on ``port`` (for a listener: its backlog)."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return [int(line.split()[2]) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_listen_backlog_is_the_configured_one(tmp_path: Path, workers: str) -> None:
    """aiohttp's SockSite listens again with its own default (128): a burst of connects
    then overflows the queue and waits for SYN retries (1 s, 3 s, …)."""
    server = Serve(tmp_path, "--workers", workers)
    try:
        port = int(server.base.rsplit(":", 1)[1])
        pids: set[int] = set()
        async with asyncio.timeout(60):
            while len(pids) < int(workers):
                pids.add((await server.healthy())["pid"])
        somaxconn = _somaxconn()
        backlogs = _listen_backlogs(port)
        assert backlogs, "no listening socket found"
        assert set(backlogs) == {min(LISTEN_BACKLOG, somaxconn)}
    finally:
        assert server.stop() == 0


async def _request(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """A connection that sent a request; None if the server refused it."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(WAIT_S):
            head = await reader.readuntil(b"\r\n\r\n")
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
        return None  # refused, or (without the cap) never accepted
    assert head.startswith(b"HTTP/1.1 200"), head[:80]
    return reader, writer


async def test_a_worker_at_its_open_files_cap_refuses_and_recovers(tmp_path: Path) -> None:
    server = Serve(tmp_path, open_files=OPEN_FILES)
    log = tmp_path / "serve.log"
    try:
        await server.healthy()
        port = int(server.base.rsplit(":", 1)[1])
        # All of them wait in the listen queue at once (the worker stopped), as in a
        # burst: asyncio then accepts a batch of sockets before any protocol runs.
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            requests = [asyncio.create_task(_request(port)) for _ in range(CONNECTIONS)]
            await asyncio.sleep(1.0)  # the kernel completes the handshakes meanwhile
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        held = await asyncio.gather(*requests)
        served = [conn for conn in held if conn is not None]
        refused = CONNECTIONS - len(served)
        assert served, "the worker served no connection at all"
        assert refused > 0, "the cap never applied"
        assert len(served) <= connection_fd_cap(OPEN_FILES)
        text = log.read_text()
        assert "out of system resource" not in text
        assert "Too many open files" not in text
        assert text.count("connections refused: worker at its open-files cap") == 1
        for _, writer in served:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        # The descriptors are free again: the worker answers (and still reaches Redis).
        async with aiohttp.ClientSession() as http, asyncio.timeout(WAIT_S):
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{server.base}/api/timeline") as resp:
                        if resp.status == 200:
                            break
                await asyncio.sleep(0.05)
    finally:
        assert server.stop() == 0
