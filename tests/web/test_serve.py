"""``yure serve`` as a real subprocess: crash and restart, embedded Redis, workers."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio
from websockets.asyncio.client import connect

from tests.broadcast.support import WAIT_S, envelope, events, subscribe, until_ready
from tests.redis_server import RedisProcess
from yure.broadcast.timeline import Timeline

ROOT = Path(__file__).resolve().parents[2]
RETENTION_S = 48 * 3600
#: Starting a worker (imports, pages, hub) takes seconds on a loaded 2-core machine.
WORKER_START_S = 60.0


def _limit_open_files(limit: int) -> None:
    """In the child before exec: soft and hard RLIMIT_NOFILE = ``limit``."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


class Serve:
    """One ``python -m yure serve`` child process."""

    def __init__(
        self,
        tmp_path: Path,
        *args: str,
        open_files: int | None = None,
        **env: str,
    ) -> None:
        full_env = {
            **os.environ,
            "YURE_PORT": "0",
            "YURE_INGEST": "false",
            "YURE_DATA_DIR": str(tmp_path / "data"),
            "YURE_LOG_LEVEL": "INFO",
            **env,
        }
        if "REDIS_URL" not in env:
            full_env.pop("REDIS_URL", None)
        self.log = (tmp_path / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "yure", "serve", *args],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            preexec_fn=None if open_files is None else (lambda: _limit_open_files(open_files)),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("yure: listening on http://"), line
        self.base = line.split(" on ", 1)[1].strip()

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    async def healthy(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, asyncio.timeout(WAIT_S):
            while True:
                try:
                    async with http.get(f"{self.base}/healthz") as resp:
                        if resp.status == 200:
                            body: dict[str, Any] = await resp.json()
                            return body
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=WAIT_S)
        self.log.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


async def test_kill_9_and_restart_loses_and_repeats_nothing(
    fresh_redis: RedisProcess, tmp_path: Path
) -> None:
    client = redis.asyncio.Redis.from_url(fresh_redis.url)
    timeline = Timeline(client, retention_s=RETENTION_S)
    server = Serve(tmp_path, REDIS_URL=fresh_redis.url)
    try:
        await server.healthy()
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"]))
            await until_ready(ws)
            first = [await timeline.append(envelope(f"a{i}", ("13",))) for i in range(3)]
            got = await events(ws, 3)
            assert [m["id"] for m in got] == first
            server.kill()  # kill -9 while the client is connected
            missed = [
                await timeline.append(envelope(f"b{i}", (("13",), ("01",))[i % 2]))
                for i in range(5)
            ]
        server = Serve(tmp_path, REDIS_URL=fresh_redis.url)
        await server.healthy()
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe(prefs=["13"], since=got[-1]["id"]))
            assert [m["id"] for m in await until_ready(ws)] == missed[0::2]
            after = await timeline.append(envelope("after", ("13",)))
            assert [m["id"] for m in await events(ws, 1)] == [after]
        assert server.stop() == 0
    finally:
        if server.process.poll() is None:
            server.kill()
        await client.aclose()


async def test_embedded_redis_is_started_and_stopped(tmp_path: Path) -> None:
    server = Serve(tmp_path)
    try:
        health = await server.healthy()
        assert health["redis"] is True
        sock = tmp_path / "data" / "redis" / "redis.sock"
        client = redis.asyncio.Redis.from_url(f"unix://{sock}")
        config = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in (await client.config_get("append*")).items()
        }
        assert config["appendonly"] == "yes" and config["appendfsync"] == "always"
        timeline = Timeline(client, retention_s=RETENTION_S)
        async with connect(server.ws_url) as ws:
            await ws.send(subscribe())
            await until_ready(ws)
            entry = await timeline.append(envelope("e", ("13",)))
            assert [m["id"] for m in await events(ws, 1)] == [entry]
        await client.aclose()
    finally:
        code = server.stop()
    assert code == 0
    assert not sock.exists() or not _answers(sock)
    assert (tmp_path / "data" / "redis" / "appendonlydir").is_dir()


def _answers(sock: Path) -> bool:
    import socket

    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(sock))
        except OSError:
            return False
        return True


async def test_workers_share_one_port(fresh_redis: RedisProcess, tmp_path: Path) -> None:
    server = Serve(tmp_path, "--workers", "2", REDIS_URL=fresh_redis.url)
    client = redis.asyncio.Redis.from_url(fresh_redis.url)
    timeline = Timeline(client, retention_s=RETENTION_S)
    try:
        pids: set[int] = set()
        async with asyncio.timeout(WORKER_START_S):
            while len(pids) < 2:
                pids.add((await server.healthy())["pid"])  # a new connection each time
        sockets = [await connect(server.ws_url) for _ in range(6)]
        for ws in sockets:
            await ws.send(subscribe(prefs=["kanto"]))
            await until_ready(ws)
        entry = await timeline.append(envelope("w", ("14",)))
        for ws in sockets:
            assert [m["id"] for m in await events(ws, 1)] == [entry]
        async with aiohttp.ClientSession() as http, http.get(f"{server.base}/metrics") as resp:
            text = await resp.text()
        assert 'yure_stream_connections{transport="ws"} 6.0' in text
        assert 'yure_events_sent_total{transport="ws"} 6.0' in text
        for ws in sockets:
            await ws.close()
    finally:
        assert server.stop() == 0
        await client.aclose()


def _started_workers(log: Path) -> list[int]:
    """Pids of ``worker started`` lines in the server's log, in order."""
    return [int(line.rsplit("pid=", 1)[1]) for line in log.read_text().splitlines()
            if "worker started" in line]  # fmt: skip


def _log_text(log: Path) -> str:
    return log.read_text()


async def _until_logged(log: Path, text: str, count: int) -> None:
    async with asyncio.timeout(WORKER_START_S):
        while _log_text(log).count(text) < count:  # noqa: ASYNC110 - another process's log
            await asyncio.sleep(0.05)


async def test_a_killed_worker_is_restarted(fresh_redis: RedisProcess, tmp_path: Path) -> None:
    """The supervisor notices a dead worker and starts another (issue 10 item 12)."""
    server = Serve(tmp_path, "--workers", "2", REDIS_URL=fresh_redis.url)
    log = tmp_path / "serve.log"
    try:
        await _until_logged(log, "hub started", 2)
        victim = _started_workers(log)[0]
        os.kill(victim, signal.SIGKILL)
        await _until_logged(log, "worker started", 3)
        assert "worker died index=0 exitcode=-9" in _log_text(log)
        await _until_logged(log, "hub started", 3)  # the new worker serves
    finally:
        assert server.stop() == 0
