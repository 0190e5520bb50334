"""Broadcast benchmark: the real ``yure serve`` (with its embedded Redis) against a bare
``websockets.broadcast`` server, with the same lean load clients.

For each subscriber count N (spread over the 47 prefectures, from separate client
processes):

a. alert latency: official alerts addressed to every prefecture, one at a time;
   publish → receive latency at every subscriber (p50/p99);
b. throughput: the publish rate rises step by step until delivery falls behind; the
   sustained delivered events/s (and frames/s, from the server's own counters) of the
   last step that kept up. Run with coalescing (events/s) and without (frames/s);
c. server RSS per idle subscribed connection;
d. resume: every client disconnects, alerts are published, every client reconnects
   with ``since`` and gets exactly what it missed; time until all are ``ready``.

Writes ``bench/results/latest.json``. Run alone with ``python -m bench.broadcast_bench``
(``--sizes 1000`` for a quick run). Benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson
import redis.asyncio

from bench.clients import client_process, raise_fd_limit
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.infra.embedded_redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "latest.json"
PREFS = tuple(f"{i:02d}" for i in range(1, 48))
RETENTION_S = 48 * 3600
#: Alerts per latency measurement, and the pause between them.
ALERTS = 20
ALERT_GAP_S = 0.25
#: Alerts published while the clients are away in the resume test.
MISSED_ALERTS = 5
#: One throughput step: publish for this long, then allow this much to drain.
STEP_S = 2.0
DRAIN_S = 1.5
RATE_GROWTH = 1.5
FIRST_RATE = 10.0
MAX_STEPS = 16
PUBLISH_TICK_S = 0.02
#: Appends in flight at once (each holds a Redis connection of the pool).
PUBLISH_CONCURRENCY = 32
START_TIMEOUT_S = 30.0
#: Padding that makes an alert about as large as a real EEW event JSON.
ALERT_PAD = "緊急地震速報（警報）" * 40


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def tree_rss_kib(pid: int) -> int:
    """VmRSS of a process and all its descendants (a server's workers), in KiB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(FileNotFoundError, RuntimeError):
            total += rss_kib(current)
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
    return total


@dataclass
class Target:
    """A server under test."""

    name: str
    process: subprocess.Popen[str]
    port: int
    path: str
    redis_url: str
    stream_key: str
    metrics_url: str | None
    #: the load clients speak Nchan's protocol (``bench.nchan_server``), not yure's
    nchan: bool = False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def yure_server(
    data_dir: Path,
    *,
    coalesce: bool,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Target]:
    """``yure serve`` with its embedded Redis; ``workers`` > 1 forks that many workers."""
    env = {
        **os.environ,
        **(extra_env or {}),
        "YURE_DATA_DIR": str(data_dir),
        "YURE_PORT": "0",
        "YURE_INGEST": "false",
        "YURE_WS_MAX_CONNS_PER_IP": "1000000",
        "YURE_WS_MAX_EVENTS_PER_FRAME": "256" if coalesce else "1",
        "YURE_LOG_LEVEL": "WARNING",
        "YURE_WORKERS": str(workers),
        # Web Push reads every timeline entry and has its own bench (`push`); the bench's
        # alerts are not telegrams (no type_code), so it would only log a skip for each.
        "YURE_PUSH": "false",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "yure", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=raise_fd_limit,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r":(\d+)$", line.strip())
    if match is None:
        process.kill()
        raise RuntimeError(f"yure serve did not start: {line!r}")
    port = int(match.group(1))
    target = Target(
        name="yure",
        process=process,
        port=port,
        path="/ws",
        redis_url=f"unix://{data_dir / 'redis' / 'redis.sock'}",
        stream_key="{yure:timeline}",
        metrics_url=f"http://127.0.0.1:{port}/metrics",
    )
    try:
        asyncio.run(_wait_http(f"http://127.0.0.1:{port}/healthz"))
        yield target
    finally:
        target.stop()


@contextlib.contextmanager
def baseline_server(data_dir: Path) -> Iterator[Target]:
    with EmbeddedRedis(data_dir) as redis_server:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.baseline_server", str(port), redis_server.url,
             "{yure:timeline}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdout is not None
        if process.stdout.readline().strip() != "listening":
            process.kill()
            raise RuntimeError("baseline server did not start")
        target = Target(
            name="baseline",
            process=process,
            port=port,
            path="/ws",
            redis_url=redis_server.url,
            stream_key="{yure:timeline}",
            metrics_url=None,
        )
        try:
            yield target
        finally:
            target.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_http(url: str) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(START_TIMEOUT_S):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)


class Clients:
    """The load-client processes and their pipes."""

    def __init__(self, target: Target, count: int, processes: int, ip_block: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ip_block = ip_block
        self.pipes: list[Connection] = []
        self.procs = []
        self.prefs: list[list[str]] = [[] for _ in range(processes)]
        for i in range(count):
            self.prefs[i % processes].append(PREFS[i % len(PREFS)])
        for index in range(processes):
            ours, theirs = ctx.Pipe()
            source_ip = f"127.0.{ip_block}.{10 + index}"
            proc = ctx.Process(
                target=client_process,
                args=(theirs, "127.0.0.1", target.port, target.path, source_ip, target.nchan),
                daemon=True,
            )
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    async def ask(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Send one command per process (or the same to all); gather the answers."""
        loop = asyncio.get_running_loop()
        if len(commands) == 1:
            commands = commands * len(self.pipes)
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        answers = await asyncio.gather(
            *(loop.run_in_executor(None, pipe.recv) for pipe in self.pipes)
        )
        for status, value in answers:
            if status == "error":
                raise RuntimeError(f"client process failed: {value}")
        return [value for _, value in answers]

    async def events(self) -> int:
        return sum(events for events, _ in await self.ask(("stats",)))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ask(("close",))
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


class Publisher(Protocol):
    """Where the bench publishes: yure's :class:`Timeline` (its Redis), or Nchan's
    publisher location (``bench.nchan_bench.NchanPublisher``)."""

    async def append(self, env: Envelope, /) -> object:
        """Publish ``env`` to every subscriber."""
        ...


def alert(seq: int, *, t0: bool = True) -> Envelope:
    body: dict[str, Any] = {"kind": "eew", "official": True, "seq": seq, "title": ALERT_PAD}
    if t0:
        body["t0"] = time.time()
    return Envelope(
        key=f"bench-{time.time_ns()}-{seq}", kind="eew", prefs=PREFS, payload=orjson.dumps(body)
    )


async def server_frames(target: Target) -> tuple[float, float]:
    """(events, frames) the server reports having sent (yure only)."""
    if target.metrics_url is None:
        return 0.0, 0.0
    async with aiohttp.ClientSession() as http, http.get(target.metrics_url) as resp:
        text = await resp.text()
    events = re.search(r'yure_events_sent_total\{transport="ws"\} ([0-9.e+]+)', text)
    frames = re.search(r'yure_frames_sent_total\{transport="ws"\} ([0-9.e+]+)', text)
    return (
        float(events.group(1)) if events else 0.0,
        float(frames.group(1)) if frames else 0.0,
    )


async def wait_delivered(clients: Clients, expected: int, deadline_s: float) -> tuple[int, float]:
    """Poll the clients until ``expected`` events arrived or the deadline; (events, when)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    got = 0
    while loop.time() < end:
        got = await clients.events()
        if got >= expected:
            return got, time.monotonic()
        await asyncio.sleep(0.05)
    return got, time.monotonic()


async def measure_latency(timeline: Publisher, clients: Clients, count: int) -> dict[str, float]:
    await clients.ask(("reset",))
    await clients.ask(("measure", True))
    for seq in range(ALERTS):
        await timeline.append(alert(seq))
        await asyncio.sleep(ALERT_GAP_S)
    await wait_delivered(clients, count * ALERTS, 30.0)
    samples: list[float] = []
    for _, latencies in await clients.ask(("latencies",)):
        samples += latencies
    await clients.ask(("measure", False))
    samples.sort()
    return {
        "alert_p50_ms": round(statistics.median(samples), 2),
        "alert_p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2),
        "alert_max_ms": round(samples[-1], 2),
        "alert_samples": len(samples),
        "alert_expected": count * ALERTS,
    }


async def publish_paced(timeline: Publisher, rate: float, seconds: float) -> int:
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    total = int(rate * seconds)
    while sent < total:
        due = min(total, int((loop.time() - start) * rate) + 1)
        while due > sent:
            batch = min(due, sent + PUBLISH_CONCURRENCY)
            await asyncio.gather(*(timeline.append(alert(i, t0=False)) for i in range(sent, batch)))
            sent = batch
        await asyncio.sleep(PUBLISH_TICK_S)
    return sent


async def ramp(
    target: Target,
    timeline: Publisher,
    clients: Clients,
    count: int,
    first_rate: float = FIRST_RATE,
) -> dict[str, Any]:
    """Raise the publish rate (alerts/s, from ``first_rate``) until delivery falls behind."""
    steps: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    rate = first_rate
    for _ in range(MAX_STEPS):
        await clients.ask(("reset",))
        _, frames_before = await server_frames(target)
        started = time.monotonic()
        published = await publish_paced(timeline, rate, STEP_S)
        publish_s = time.monotonic() - started
        expected = published * count
        got, done_at = await wait_delivered(clients, expected, DRAIN_S)
        elapsed = done_at - started
        _, frames_after = await server_frames(target)
        kept_up = got >= expected and elapsed <= STEP_S + DRAIN_S
        frames = frames_after - frames_before if target.metrics_url else float(got)
        step = {
            "publish_rate": round(published / publish_s, 1),
            "delivered_events": got,
            "expected_events": expected,
            "seconds": round(elapsed, 3),
            "events_per_s": round(got / elapsed),
            "frames_per_s": round(frames / elapsed),
            "kept_up": kept_up,
        }
        steps.append(step)
        print(f"  {target.name} n={count} {step}", flush=True)
        if not kept_up:
            # Let the server drain what this step left before the next measurement.
            await wait_delivered(clients, expected, 120.0)
            break
        best = step
        rate *= RATE_GROWTH
    return {
        "max_events_per_s": best["events_per_s"] if best else 0,
        "max_frames_per_s": best["frames_per_s"] if best else 0,
        "steps": steps,
    }


#: TCP states (include/net/tcp_states.h) in which the server still holds a connection:
#: ESTABLISHED, and CLOSE_WAIT (the client closed, the server has not yet).
_HELD_STATES = frozenset({"01", "08"})


def server_connections(port: int, ip_block: int) -> int:
    """TCP connections the server on ``port`` still holds from clients at
    127.0.<ip_block>.x (the load clients' addresses; a publisher's keep-alive
    connections from elsewhere do not count), over every worker, for any server."""
    held = 0
    with open("/proc/net/tcp") as rows:
        next(rows)
        for row in rows:
            fields = row.split(None, 4)
            if fields[3] not in _HELD_STATES:
                continue
            local, remote = fields[1].split(":"), fields[2].split(":")
            # Addresses are the kernel's 32-bit words in hex, little-endian here.
            if int(local[1], 16) == port and (int(remote[0], 16) >> 16) & 0xFF == ip_block:
                held += 1
    return held


async def wait_connections(target: Target, count: int, ip_block: int) -> None:
    """Wait until the server holds ``count`` connections from 127.0.<ip_block>.x.

    Counted in the kernel's socket table, not asked over HTTP: with several workers a
    ``/healthz`` request sees only the worker that answers it.
    """
    async with asyncio.timeout(60):
        while True:
            if server_connections(target.port, ip_block) == count:
                return
            await asyncio.sleep(0.05)


async def measure_resume(
    target: Target,
    timeline: Publisher,
    clients: Clients,
    count: int,
    missed: int = MISSED_ALERTS,
) -> dict[str, Any]:
    """Every client leaves, ``missed`` alerts are published, every client comes back
    with its last id; seconds until each is back and has every alert it missed."""
    await clients.ask(("reset",))
    await timeline.append(alert(-1, t0=False))  # everyone has a last id
    await wait_delivered(clients, count, 30.0)
    await clients.ask(*(("resume", prefs) for prefs in clients.prefs))  # closed, answers "closed"
    for seq in range(missed):
        await timeline.append(alert(seq, t0=False))
    # Measure the reconnect, not the server's cleanup of the 10,000 closed sockets.
    await wait_connections(target, 0, clients.ip_block)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    for pipe in clients.pipes:
        pipe.send(("go",))
    answers = await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in clients.pipes))
    seconds = time.monotonic() - started
    for status, value in answers:
        if status == "error":
            raise RuntimeError(f"resume failed: {value}")
    expected = count * (1 + missed)
    got = await clients.events()
    if got < expected:
        # yure replays before "ready"; Nchan's ready is the 101, its replay follows.
        got, done_at = await wait_delivered(clients, expected, 60.0)
        seconds = done_at - started
    return {
        "resume_s": round(seconds, 3),
        "resume_events": got - count,
        "resume_expected_events": count * missed,
    }


async def bench_target(
    target: Target, count: int, processes: int, ip_block: int, *, full: bool
) -> dict[str, Any]:
    redis_client = redis.asyncio.Redis.from_url(target.redis_url)
    timeline = Timeline(redis_client, retention_s=RETENTION_S)
    await asyncio.sleep(0.5)
    rss_before = tree_rss_kib(target.process.pid)
    clients = Clients(target, count, processes, ip_block)
    result: dict[str, Any] = {"server": target.name, "subscribers": count}
    try:
        connect_s = max(await clients.ask(*(("connect", p) for p in clients.prefs)))
        result["connect_s"] = round(connect_s, 3)
        await asyncio.sleep(1.0)
        rss_after = tree_rss_kib(target.process.pid)
        result["rss_kib_per_conn"] = round((rss_after - rss_before) / count, 2)
        if full:
            result.update(await measure_latency(timeline, clients, count))
        # The resume before the ramp: the ramp's last step overloads on purpose, and a
        # client dropped there as too slow would resume from further back.
        if full and target.name == "yure":
            result.update(await measure_resume(target, timeline, clients, count))
        result.update(await ramp(target, timeline, clients, count))
    finally:
        await clients.close()
        await redis_client.aclose()
    return result


def run_size(count: int, workdir: Path, ip_base: int) -> dict[str, Any]:
    processes = 2 if count > 2000 else 1
    out: dict[str, Any] = {"subscribers": count}
    with yure_server(workdir / f"yure-{count}", coalesce=True) as target:
        out["yure"] = asyncio.run(bench_target(target, count, processes, ip_base, full=True))
    with yure_server(workdir / f"yure-nc-{count}", coalesce=False) as target:
        out["yure_no_coalescing"] = asyncio.run(
            bench_target(target, count, processes, ip_base + 1, full=False)
        )
    with baseline_server(workdir / f"baseline-{count}") as target:
        out["baseline"] = asyncio.run(
            bench_target(target, count, processes, ip_base + 2, full=True)
        )
    return out


def run(sizes: Sequence[int] = (1000, 10000), results: Path = RESULTS) -> dict[str, Any]:
    """Run the benchmark for each subscriber count; write and return the summary."""
    fd_limit = raise_fd_limit()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="yure-bench-") as tmp:
        for index, count in enumerate(sizes):
            if count + 100 > fd_limit:
                print(f"skip n={count}: RLIMIT_NOFILE is {fd_limit}", flush=True)
                continue
            print(f"n={count}", flush=True)
            runs.append(run_size(count, Path(tmp), 10 + index * 4))
    main = runs[-1]
    yure, plain, base = main["yure"], main["yure_no_coalescing"], main["baseline"]
    summary: dict[str, Any] = {
        "subscribers": main["subscribers"],
        "alert_p50_ms": yure["alert_p50_ms"],
        "alert_p99_ms": yure["alert_p99_ms"],
        "max_events_per_s": yure["max_events_per_s"],
        "max_frames_per_s": plain["max_frames_per_s"],
        "baseline_frames_per_s": base["max_frames_per_s"],
        "baseline_alert_p99_ms": base["alert_p99_ms"],
        "rss_kib_per_conn": yure["rss_kib_per_conn"],
        "baseline_rss_kib_per_conn": base["rss_kib_per_conn"],
        f"resume_{main['subscribers'] // 1000}k_s": yure["resume_s"],
        "resume_10k_s": yure["resume_s"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "fd_limit": fd_limit,
        },
        "runs": runs,
    }
    summary["goals"] = {
        "alert_p99_le_1.1x_baseline": yure["alert_p99_ms"] <= 1.1 * base["alert_p99_ms"],
        "frames_per_s_ge_baseline": plain["max_frames_per_s"] >= base["max_frames_per_s"],
        "events_per_s_ge_700k": yure["max_events_per_s"] >= 700_000,
        "rss_le_16kib_per_conn": yure["rss_kib_per_conn"] <= 16,
        "resume_le_5s": yure["resume_s"] <= 5,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2), flush=True)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000", help="subscriber counts, comma-separated")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    run([int(s) for s in args.sizes.split(",")], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
