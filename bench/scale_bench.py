"""Scale benchmark: 36,000 WebSocket subscribers on one machine, ``yure serve --workers 2``
(issue 16: more subscribers per machine).

The real server (embedded Redis, coalescing on, two workers sharing the port with
``SO_REUSEPORT``) and the lean load clients of :mod:`bench.clients`, spread over
:data:`PER_PROCESS`-sized client processes, each from its own source address. Measured:

* connect: seconds until every subscriber has its ``ready`` (:data:`CONNECT_WAVE` client
  processes at a time); connections each worker holds (its ``/healthz``, and its open
  sockets);
* alert latency: :data:`~bench.broadcast_bench.ALERTS` official alerts addressed to every
  prefecture, publish → receive at every subscriber (p50/p99/max), delivered vs expected,
  twice: ``alert_*`` every :data:`~bench.broadcast_bench.ALERT_GAP_S` as the broadcast
  benchmark does (an alert may wait for the one before; with the CPU seconds the server
  and the clients used meanwhile: they share the cores), and ``isolated_alert_*`` each
  once the one before reached everyone;
* memory: RSS of the server's process tree (workers + embedded Redis) before and after
  the subscribers connected, per connection; RSS of each worker and of the clients; the
  kernel's TCP buffer memory (/proc/net/sockstat, both ends of every connection);
* burst: :data:`BURST_ALERTS` alerts published at once; delivered events/s until every
  subscriber has every one.

Limits that decide whether the number can be held at all are checked first and reported
under ``machine``/``preflight``: the per-process open-files limit (clients: one fd per
connection; workers: about half the connections each, SO_REUSEPORT hashes the 4-tuple),
the ephemeral ports per source address (``ip_local_port_range``; ``bind(addr, 0)``
reserves a port per address) and the listen backlog (``somaxconn``). A shortfall is
reported with its cause, never hidden by connecting fewer.

Run alone with ``python -m bench.scale_bench`` (``--subscribers 4000`` for a quick run);
``make bench`` writes the numbers under ``scale``. Benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio

from bench.broadcast_bench import (
    ALERT_GAP_S,
    ALERTS,
    RETENTION_S,
    Clients,
    Target,
    alert,
    measure_latency,
    rss_kib,
    server_frames,
    tree_rss_kib,
    wait_delivered,
    yure_server,
)
from bench.clients import CONNECT_CONCURRENCY, raise_fd_limit
from yure.broadcast.timeline import Timeline
from yure.web.serve import LISTEN_BACKLOG

SUBSCRIBERS = 36_000
WORKERS = 2
#: Connections per client process: well under the 20,000 open files of a process and the
#: ~28,000 ephemeral ports of one source address.
PER_PROCESS = 9_000
#: Client processes that connect at the same time (see :func:`connect_in_waves`).
CONNECT_WAVE = 2
#: Source addresses 127.0.IP_BLOCK.10+i (the broadcast benchmark uses lower blocks).
IP_BLOCK = 60
#: Alerts of the burst, published all at once.
BURST_ALERTS = 40
BURST_DEADLINE_S = 120.0
#: How long one isolated alert may take to reach every subscriber.
ISOLATED_DEADLINE_S = 30.0
#: Fds a worker holds besides its connections (Redis pool, listener, epoll, files).
WORKER_SPARE_FDS = 200
#: Fresh connections tried on /healthz to reach every worker (SO_REUSEPORT picks one).
HEALTHZ_PROBES = 64
HEALTHZ_PROBE_TIMEOUT_S = 2.0
HEALTHZ_DEADLINE_S = 20.0
SETTLE_S = 1.0


def _read_proc(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return "unknown"


def machine_facts() -> dict[str, Any]:
    """The limits that decide how many connections this machine can hold."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low, high = (int(x) for x in _read_proc("/proc/sys/net/ipv4/ip_local_port_range").split())
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "fd_limit_soft": soft,
        "fd_limit_hard": hard,
        "ephemeral_ports": high - low + 1,
        "ip_local_port_range": f"{low}-{high}",
        "somaxconn": int(_read_proc("/proc/sys/net/core/somaxconn")),
        "tcp_max_syn_backlog": int(_read_proc("/proc/sys/net/ipv4/tcp_max_syn_backlog")),
        "mem_total_mib": mem_kib // 1024,
    }


def preflight(count: int, processes: int, facts: dict[str, Any]) -> list[str]:
    """Why ``count`` subscribers might not be held on this machine (empty: no reason)."""
    problems: list[str] = []
    per_process = math.ceil(count / processes)
    fd_limit = facts["fd_limit_soft"]
    if per_process + 100 > fd_limit:
        problems.append(f"client process needs {per_process} fds > limit {fd_limit}")
    if per_process > facts["ephemeral_ports"]:
        problems.append(
            f"{per_process} connections per source address > {facts['ephemeral_ports']} ports"
        )
    # Binomial spread of SO_REUSEPORT's hash: 6 sigma above the even share.
    per_worker = count / WORKERS + 6 * math.sqrt(count / WORKERS / 2)
    if per_worker + WORKER_SPARE_FDS > fd_limit:
        problems.append(f"a worker may need {per_worker:.0f} fds > limit {fd_limit}")
    in_flight = CONNECT_CONCURRENCY * min(processes, CONNECT_WAVE)
    if in_flight > WORKERS * min(LISTEN_BACKLOG, facts["somaxconn"]):
        problems.append(
            f"{in_flight} handshakes in flight > backlog {WORKERS} x "
            f"min({LISTEN_BACKLOG}, somaxconn {facts['somaxconn']})"
        )
    return problems


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants."""
    pids: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:
            continue
        pids.append(current)
    return pids


def cpu_s(pids: Sequence[int]) -> float:
    """User + system CPU seconds the processes used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_pids(supervisor: int) -> list[int]:
    """The broadcaster workers among the children of ``yure serve`` (not its Redis)."""
    pids: list[int] = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = _read_proc(f"/proc/{child}/cmdline")
            if "_worker_from_stdin" in cmdline:
                pids.append(int(child))
    return sorted(pids)


def fd_limit(pid: int) -> int:
    """The soft open-files limit of a process (/proc/<pid>/limits)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise RuntimeError(f"no open-files limit for pid {pid}")


def kernel_tcp_kib() -> int:
    """Memory the kernel's TCP sockets hold now (send and receive buffers), in KiB."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("mem") + 1]) * resource.getpagesize() // 1024
    return 0


def socket_count(pid: int) -> int:
    """Open sockets of a process (its connections, the listener and Redis clients)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


async def hub_connections(target: Target, pids: Sequence[int]) -> dict[int, int]:
    """Each worker's own count of open stream connections, from its ``/healthz``: each
    probe is a fresh TCP connection, which SO_REUSEPORT hands to some worker. A worker
    out of file descriptors cannot accept one: it is left out."""
    url = f"http://127.0.0.1:{target.port}/healthz"
    loop = asyncio.get_running_loop()
    end = loop.time() + HEALTHZ_DEADLINE_S
    seen: dict[int, int] = {}
    for _ in range(HEALTHZ_PROBES):
        if set(pids) <= set(seen) or loop.time() > end:
            break
        timeout = aiohttp.ClientTimeout(total=HEALTHZ_PROBE_TIMEOUT_S)
        try:
            async with (
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
                http.get(url, timeout=timeout) as resp,
            ):
                body = await resp.json()
        except (aiohttp.ClientError, TimeoutError):
            continue
        seen[int(body["pid"])] = int(body["connections"])
    return seen


def open_fds(pid: int) -> int:
    """File descriptors a process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def server_side(
    pids: Sequence[int], hub: dict[int, int], before: dict[int, tuple[int, int]]
) -> dict[str, Any]:
    """Per worker: connections it reports (None: /healthz did not answer), its open
    sockets and fds against its limit, its RSS; ``before`` has (sockets, RSS) of each
    before the subscribers came."""
    return {
        str(pid): {
            "connections": hub.get(pid),
            "sockets_before": before[pid][0],
            "sockets": socket_count(pid),
            "fds": open_fds(pid),
            "fd_limit": fd_limit(pid),
            "rss_kib_before": before[pid][1],
            "rss_kib_after": rss_kib(pid),
        }
        for pid in pids
    }


def connected_count(per_worker: dict[str, Any]) -> int:
    """Subscribers the workers hold: their own count, else their new sockets."""
    return sum(
        w["connections"] if w["connections"] is not None else w["sockets"] - w["sockets_before"]
        for w in per_worker.values()
    )


def _percentiles(prefix: str, samples: list[float], expected: int) -> dict[str, Any]:
    samples = sorted(samples)
    if not samples:
        return {f"{prefix}_samples": 0, f"{prefix}_expected": expected}
    return {
        f"{prefix}_p50_ms": round(statistics.median(samples), 2),
        f"{prefix}_p99_ms": round(samples[max(0, int(len(samples) * 0.99) - 1)], 2),
        f"{prefix}_max_ms": round(samples[-1], 2),
        f"{prefix}_samples": len(samples),
        f"{prefix}_expected": expected,
    }


async def measure_isolated(timeline: Timeline, clients: Clients, count: int) -> dict[str, Any]:
    """ALERTS alerts, each published once the one before reached every subscriber: the
    time one alert takes to reach everyone, without the queue of the one before."""
    await clients.ask(("reset",))
    await clients.ask(("measure", True))
    for seq in range(ALERTS):
        await timeline.append(alert(seq))
        got, _ = await wait_delivered(clients, count * (seq + 1), ISOLATED_DEADLINE_S)
        if got < count * (seq + 1):
            break
    samples: list[float] = []
    for _, latencies in await clients.ask(("latencies",)):
        samples += latencies
    await clients.ask(("measure", False))
    return _percentiles("isolated_alert", samples, count * ALERTS)


async def measure_burst(target: Target, timeline: Timeline, clients: Clients, count: int) -> Any:
    """Publish BURST_ALERTS alerts at once; events/s until all are delivered."""
    await clients.ask(("reset",))
    events_before, frames_before = await server_frames(target)
    started = time.monotonic()
    await asyncio.gather(*(timeline.append(alert(i, t0=False)) for i in range(BURST_ALERTS)))
    expected = count * BURST_ALERTS
    got, done_at = await wait_delivered(clients, expected, BURST_DEADLINE_S)
    seconds = done_at - started
    events_after, frames_after = await server_frames(target)
    return {
        "burst_alerts": BURST_ALERTS,
        "burst_delivered": got,
        "burst_expected": expected,
        "burst_s": round(seconds, 3),
        "burst_events_per_s": round(got / seconds),
        "burst_frames_sent": round(frames_after - frames_before),
        "burst_events_sent": round(events_after - events_before),
    }


async def connect_in_waves(clients: Clients, waves: list[list[float]]) -> None:
    """Connect the client processes' subscribers, CONNECT_WAVE processes at a time;
    append each wave's seconds per process to ``waves``.

    A client process gives its whole pool :data:`bench.clients.CONNECT_TIMEOUT_S`: with
    every process connecting at once, on a loaded machine, the slowest could run out of
    it although the server keeps up; a wave shares the machine with fewer."""
    loop = asyncio.get_running_loop()
    for first in range(0, len(clients.pipes), CONNECT_WAVE):
        pipes = clients.pipes[first : first + CONNECT_WAVE]
        for pipe, prefs in zip(pipes, clients.prefs[first : first + CONNECT_WAVE], strict=True):
            pipe.send(("connect", prefs))
        answers = await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in pipes))
        failed = [value for status, value in answers if status == "error"]
        if failed:
            raise RuntimeError(f"client process failed: {failed[0]}")
        waves.append([float(value) for _, value in answers])


async def bench(target: Target, count: int, processes: int) -> dict[str, Any]:
    """Connect ``count`` subscribers from ``processes`` client processes and measure."""
    redis_client = redis.asyncio.Redis.from_url(target.redis_url)
    timeline = Timeline(redis_client, retention_s=RETENTION_S)
    await asyncio.sleep(SETTLE_S)
    pids = worker_pids(target.process.pid)
    rss_before = tree_rss_kib(target.process.pid)
    worker_before = {pid: (socket_count(pid), rss_kib(pid)) for pid in pids}
    out: dict[str, Any] = {
        "workers": len(pids),
        "client_processes": processes,
        "rss_kib_before": rss_before,
    }
    clients = Clients(target, count, processes, IP_BLOCK)
    try:
        started = time.monotonic()
        waves: list[list[float]] = []
        try:
            await connect_in_waves(clients, waves)
        except RuntimeError as err:
            # Keep what the server holds: that is the finding when the number is not held.
            out["connect_error"] = str(err)
        # The wall time includes the client processes' start-up (imports).
        wall_s = time.monotonic() - started
        failed = "connect_error" in out
        connect_s = wall_s if failed else sum(max(wave) for wave in waves)
        out["connect_s_per_process"] = [round(s, 3) for wave in waves for s in wave]
        out["connect_s"] = round(connect_s, 3)
        out["connect_wall_s"] = round(wall_s, 3)
        await asyncio.sleep(SETTLE_S)
        hub = await hub_connections(target, pids)
        out["per_worker"] = server_side(pids, hub, worker_before)
        connected = connected_count(out["per_worker"])
        out["connected"] = connected
        if not failed:
            out["connects_per_s"] = round(connected / connect_s)
        rss_after = tree_rss_kib(target.process.pid)
        out["rss_kib_after"] = rss_after
        out["rss_kib_per_conn"] = round((rss_after - rss_before) / max(connected, 1), 2)
        out["kernel_tcp_kib"] = kernel_tcp_kib()
        out["client_rss_kib"] = [rss_kib(p.pid) for p in clients.procs if p.pid is not None]
        if failed:
            return out
        server = tree_pids(target.process.pid)
        client_pids = [p.pid for p in clients.procs if p.pid is not None]
        cpu_before = cpu_s(server), cpu_s(client_pids)
        latency: dict[str, Any] = {"alerts": ALERTS, "alert_gap_s": ALERT_GAP_S}
        latency.update(await measure_latency(timeline, clients, count))
        latency["alert_cpu_s_server"] = round(cpu_s(server) - cpu_before[0], 2)
        latency["alert_cpu_s_clients"] = round(cpu_s(client_pids) - cpu_before[1], 2)
        # No resume here, so no connection gets an event twice: the totals matching
        # means every subscriber got every alert.
        latency["every_subscriber_got_every_alert"] = (
            latency["alert_samples"] == latency["alert_expected"]
        )
        out.update(latency)
        isolated = await measure_isolated(timeline, clients, count)
        isolated["isolated_every_subscriber_got_every_alert"] = (
            isolated["isolated_alert_samples"] == isolated["isolated_alert_expected"]
        )
        out.update(isolated)
        out.update(await measure_burst(target, timeline, clients, count))
        out["rss_kib_after_alerts"] = tree_rss_kib(target.process.pid)
    finally:
        await clients.close()
        await redis_client.aclose()
    return out


def run(subscribers: int = SUBSCRIBERS, per_process: int = PER_PROCESS) -> dict[str, Any]:
    """Run the scale benchmark; return its summary (``make bench`` key ``scale``)."""
    raise_fd_limit()
    facts = machine_facts()
    processes = max(1, math.ceil(subscribers / per_process))
    problems = preflight(subscribers, processes, facts)
    summary: dict[str, Any] = {"subscribers": subscribers}
    print(f"scale n={subscribers} processes={processes} problems={problems}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="yure-scale-") as tmp,
        yure_server(Path(tmp) / "yure", coalesce=True, workers=WORKERS) as target,
    ):
        summary.update(asyncio.run(bench(target, subscribers, processes)))
    summary["held"] = summary.get("connected") == subscribers and "connect_error" not in summary
    summary["preflight"] = problems
    summary["machine"] = facts
    print(json.dumps(summary, indent=2), flush=True)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument(
        "--per-process", type=int, default=PER_PROCESS, help="connections per client process"
    )
    args = parser.parse_args(argv)
    run(args.subscribers, args.per_process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
