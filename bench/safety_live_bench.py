"""``safety``: private live channels under a check-in surge (issue 16, third bullet).

The real ``yure serve`` (one worker, embedded Redis, production limits) holds
``viewers`` signed-in ``GET /api/live`` WebSockets, opened from ``client processes``; then
check-ins arrive at ``rate``/s for ``surge_s`` seconds. Measured: POST latency p50/p99,
POST → friend's live channel latency p50/p99 (the send time travels in the check-in's
note), delivered/expected (every online friend, and the poster's own channel, must get
every check-in), and the Redis connections the worker holds (``CLIENT LIST`` on the
embedded Redis, minus the bench's own, which are named ``yure-bench``).

Goals: ≤ 4 Redis connections with 10,000 viewers; POST → friend p99 ≤ 250 ms while 200
check-ins/s arrive.

The data: ``accounts`` accounts on a ring, each the friend of the ``friends`` nearest
(``friends/2`` on each side); the viewers are the first ``viewers`` accounts of the ring
and the posters those viewers whose friends are all viewers, round robin (each posts far
below the 20 check-ins/min limit), so every check-in reaches ``friends`` online friends.
Seeding goes straight to Redis, pipelined, through the package's own writers
(:func:`safety_check.accounts.queue_account`, :meth:`safety_check.sessions.Sessions.issue`)
and key names (:mod:`safety_check.keys`; a friendship is the two ``friends:<uid>`` sets
that ``_befriend`` fills, here one SADD per account instead of six commands per pair). All
accounts share one production argon2id hash (one hash instead of 100,000 at 0.1–0.5 s
each). A few seeded accounts then log in through the API and list their friends, to show
the seeded data is what the API reads.

Run alone with ``python -m bench.safety_live_bench`` (``--accounts 10000 --viewers 1000
--surge-s 10`` for a quick run). Benchmarks are never timed tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio

from bench.broadcast_bench import Target, yure_server
from bench.clients import raise_fd_limit
from bench.live_clients import checkin_note, viewer_process
from yure.safety_check import keys, voices
from yure.safety_check.accounts import queue_account
from yure.safety_check.config import SafetyConfig, system_clock
from yure.safety_check.hashing import PasswordHasher
from yure.safety_check.model import Account
from yure.safety_check.network import Subjects
from yure.safety_check.secret import address_secret
from yure.safety_check.services import BUS_CLIENT, LIVE_CLIENT
from yure.safety_check.sessions import Sessions
from yure.safety_check.tokens import new_id
from yure.settings import Settings

PASSWORD = "a long and unusual passphrase"
#: Our own Redis connections carry this name; the worker's are the others.
BENCH_CLIENT_NAME = "yure-bench"
#: Accounts (or sessions) per seeding pipeline.
SEED_BATCH = 2000
#: Sessions issued at once while seeding.
SEED_CONCURRENCY = 32
#: Check-in POSTs in flight at most (more wait: the pacing then shows as POST latency).
POST_CONCURRENCY = 256
#: After the surge, how long deliveries may still arrive.
DRAIN_S = 5.0
#: Viewers idle this long after connecting before the idle connection count.
SETTLE_S = 3.0
#: Then the server's CPU is measured over this long with every viewer idle.
IDLE_MEASURE_S = 5.0
GOAL_MAX_REDIS_CONNECTIONS = 4
#: The worker's connections that serve live viewers: the viewers' reads and handshakes,
#: and the inbox bus's blocking read (``safety_check.services``).
LIVE_CLIENT_NAMES = (LIVE_CLIENT, BUS_CLIENT)
GOAL_P99_MS = 250.0
#: Seeded accounts that log in through the API (production argon2id: ~0.3 s each).
API_CHECKS = 2
#: Environment the server gets beyond production defaults: none of our own. (The shared
#: ``yure_server`` raises ``YURE_WS_MAX_CONNS_PER_IP``, a per-address cap of the public
#: ``/ws`` and ``/sse`` only, which ``/api/live`` does not use.) No per-address cap of the
#: safety check is tripped: viewers are distinct accounts, each poster checks in far below
#: 20/min, and only two logins go through the API.
RAISED_ENV: dict[str, str] = {}
RAISED_BY_YURE_SERVER = {"YURE_WS_MAX_CONNS_PER_IP": "1000000"}


def handle_of(index: int) -> str:
    return f"u{index:06d}"


def ring_friends(index: int, accounts: int, friends: int) -> list[int]:
    """The ``friends`` nearest accounts on the ring (``friends/2`` on each side)."""
    half = friends // 2
    return [(index + d) % accounts for d in range(-half, half + 1) if d != 0]


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


# -- seeding ------------------------------------------------------------------------------


async def seed(
    redis_url: str, data_dir: Path, *, accounts: int, friends: int, sessions_for: range
) -> tuple[list[str], dict[int, str], dict[str, float]]:
    """Write the accounts, friendships and sessions; returns uids, tokens by index and the
    seconds each part took."""
    client = redis.asyncio.Redis.from_url(
        redis_url, max_connections=SEED_CONCURRENCY + 1, client_name=BENCH_CLIENT_NAME
    )
    timings: dict[str, float] = {}
    try:
        started = time.monotonic()
        config = SafetyConfig.from_settings(Settings(data_dir=data_dir))
        password_hash = await PasswordHasher(config).hash(PASSWORD, subject="bench")
        timings["argon2_hash_s"] = round(time.monotonic() - started, 2)

        started = time.monotonic()
        now = system_clock()
        # The cohort the API gives a sign-up from 127.0.0.1 (the server's own secret).
        network = Subjects(address_secret(Settings(data_dir=data_dir))).network("127.0.0.1")
        cohort = voices.cohort_of(network, now)
        uids = [new_id() for _ in range(accounts)]
        for first in range(0, accounts, SEED_BATCH):
            async with client.pipeline(transaction=False) as pipe:
                for index in range(first, min(accounts, first + SEED_BATCH)):
                    account = Account(
                        uid=uids[index],
                        handle=handle_of(index),
                        password_hash=password_hash,
                        created_at=now,
                        cohort=cohort,
                    )
                    queue_account(pipe, account)
                await pipe.execute()
        timings["accounts_s"] = round(time.monotonic() - started, 2)

        started = time.monotonic()
        for first in range(0, accounts, SEED_BATCH):
            async with client.pipeline(transaction=False) as pipe:
                for index in range(first, min(accounts, first + SEED_BATCH)):
                    members = [uids[f] for f in ring_friends(index, accounts, friends)]
                    pipe.sadd(keys.friends(uids[index]), *members)
                await pipe.execute()
        timings["friendships_s"] = round(time.monotonic() - started, 2)

        started = time.monotonic()
        sessions = Sessions(client, config=config, clock=system_clock)
        gate = asyncio.Semaphore(SEED_CONCURRENCY)

        async def issue(index: int) -> tuple[int, str]:
            async with gate:
                return index, await sessions.issue(uids[index])

        tokens = dict(await asyncio.gather(*(issue(i) for i in sessions_for)))
        timings["sessions_s"] = round(time.monotonic() - started, 2)
    finally:
        await client.aclose()
    return uids, tokens, timings


async def api_check(
    base: str, *, accounts: int, friends: int, tokens: dict[int, str]
) -> dict[str, Any]:
    """Seeded accounts log in through the API and see the friends they were given; a
    seeded session token works."""
    ok = True
    async with aiohttp.ClientSession() as http:
        for index in range(API_CHECKS):
            async with http.post(
                base + "/api/sessions", json={"handle": handle_of(index), "password": PASSWORD}
            ) as resp:
                ok &= resp.status == 200
                token = (await resp.json())["token"] if resp.status == 200 else ""
            async with http.get(
                base + "/api/friends", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                listed = (await resp.json()).get("friends", []) if resp.status == 200 else []
            want = sorted(handle_of(f) for f in ring_friends(index, accounts, friends))
            ok &= listed == want
        some = next(iter(tokens.items()))
        async with http.get(
            base + "/api/sessions/current", headers={"Authorization": f"Bearer {some[1]}"}
        ) as resp:
            ok &= resp.status == 200 and (await resp.json())["handle"] == handle_of(some[0])
    return {"logins": API_CHECKS, "ok": ok}


# -- the worker's Redis connections -------------------------------------------------------


async def worker_connections(redis_url: str) -> dict[str, Any]:
    """The embedded Redis's clients that are not ours, by their last command."""
    client = redis.asyncio.Redis.from_url(redis_url, client_name=BENCH_CLIENT_NAME)
    try:
        listed = await client.client_list()
    finally:
        await client.aclose()
    theirs = [c for c in listed if not str(c.get("name", "")).startswith(BENCH_CLIENT_NAME)]
    by_cmd = Counter(str(c.get("cmd", "?")) for c in theirs)
    by_name = Counter(str(c.get("name", "")) or "-" for c in theirs)
    live = sum(n for name, n in by_name.items() if name in LIVE_CLIENT_NAMES)
    return {
        "count": len(theirs),
        "live_viewers": live,
        "by_last_command": dict(by_cmd),
        "by_name": dict(by_name),
    }


@contextlib.asynccontextmanager
async def sampling_connections(
    redis_url: str, every_s: float
) -> AsyncIterator[list[dict[str, Any]]]:
    """Samples the worker's connections every ``every_s`` while inside. Stopped by an
    event, not a cancel: redis-py may swallow a cancel that lands inside a command."""
    samples: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append(await worker_connections(redis_url))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        stop.set()
        await task


def redis_pid(server_pid: int) -> int | None:
    """The embedded redis-server among the server's children."""
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if Path(f"/proc/{child}/comm").read_text().strip() == "redis-server":
                return int(child)
    return None


def waited_s(pid: int) -> float:
    """Seconds the process's main thread has waited for a CPU while runnable (the
    kernel's schedstat): how much the machine, not the code, held it back."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- load ---------------------------------------------------------------------------------


class Viewers:
    """The viewer processes and their pipes."""

    def __init__(self, target: Target, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for index in range(processes):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=viewer_process,
                args=(theirs, "127.0.0.1", target.port, f"127.0.30.{10 + index}"),
                daemon=True,
            )
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    async def ask(self, *commands: tuple[Any, ...]) -> list[Any]:
        loop = asyncio.get_running_loop()
        if len(commands) == 1:
            commands = commands * len(self.pipes)
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        answers = await asyncio.gather(
            *(loop.run_in_executor(None, pipe.recv) for pipe in self.pipes)
        )
        for status, value in answers:
            if status != "ok":
                raise RuntimeError(f"viewer process failed: {value}")
        return [value for _, value in answers]

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.join()


async def surge(
    base: str, *, posters: Sequence[int], tokens: dict[int, str], rate: float, seconds: float
) -> list[tuple[int, int, float, float]]:
    """POST check-ins at ``rate``/s for ``seconds``, round robin over ``posters``. Returns
    ``(seq, poster, status, latency_ms)`` per check-in."""
    total = round(rate * seconds)
    results: list[tuple[int, int, float, float]] = []
    gate = asyncio.Semaphore(POST_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=POST_CONCURRENCY, local_addr=("127.0.31.1", 0))
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(seq: int, poster: int) -> None:
            async with gate:
                sent = time.time()
                body = {"status": "safe", "note": checkin_note(seq, poster, sent)}
                started = time.perf_counter()
                try:
                    async with http.post(
                        base + "/api/checkins",
                        json=body,
                        headers={"Authorization": f"Bearer {tokens[poster]}"},
                    ) as resp:
                        await resp.read()
                        status = resp.status
                except aiohttp.ClientError:
                    status = 0
                results.append((seq, poster, status, (time.perf_counter() - started) * 1000))

        tasks: list[asyncio.Task[None]] = []
        start = time.monotonic()
        for seq in range(total):
            delay = start + seq / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(seq, posters[seq % len(posters)])))
        await asyncio.gather(*tasks)
    return results


async def _bench(
    target: Target,
    data_dir: Path,
    *,
    accounts: int,
    friends: int,
    viewers: int,
    rate: float,
    surge_s: float,
    processes: int,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{target.port}"
    half = friends // 2
    posters = list(range(half, viewers - half))
    seed_started = time.monotonic()
    _uids, tokens, timings = await seed(
        target.redis_url, data_dir, accounts=accounts, friends=friends, sessions_for=range(viewers)
    )
    seeding = {"total_s": round(time.monotonic() - seed_started, 2), **timings}
    checked = await api_check(base, accounts=accounts, friends=friends, tokens=tokens)

    before_viewers = await worker_connections(target.redis_url)
    pool = Viewers(target, processes)
    try:
        shares = [[(i, tokens[i]) for i in range(p, viewers, processes)] for p in range(processes)]
        connected = await pool.ask(*(("connect", share) for share in shares))
        connect_s = max(c[0] for c in connected)
        connect_errors = sum(c[2] for c in connected)
        print(f"safety: {viewers} viewers connected, idle", file=sys.stderr, flush=True)
        await asyncio.sleep(SETTLE_S)
        idle_cpu_before = cpu_s(target.process.pid)
        await asyncio.sleep(IDLE_MEASURE_S)
        idle_cpu = (cpu_s(target.process.pid) - idle_cpu_before) / IDLE_MEASURE_S
        idle = await worker_connections(target.redis_url)

        await pool.ask(("reset",))
        print(
            f"safety: {viewers} viewers open, surge of {rate:g}/s for {surge_s:g} s",
            file=sys.stderr,
            flush=True,
        )
        cpu_before = cpu_s(target.process.pid)
        wait_before = waited_s(target.process.pid)
        redis_server = redis_pid(target.process.pid)
        redis_before = 0.0 if redis_server is None else cpu_s(redis_server)
        surge_started = time.monotonic()
        async with sampling_connections(target.redis_url, 1.0) as samples:
            posts = await surge(base, posters=posters, tokens=tokens, rate=rate, seconds=surge_s)
            surge_wall_s = time.monotonic() - surge_started
            surge_cpu = cpu_s(target.process.pid) - cpu_before
            surge_wait = waited_s(target.process.pid) - wait_before
            redis_cpu = 0.0 if redis_server is None else cpu_s(redis_server) - redis_before
            await asyncio.sleep(DRAIN_S)
        during = await worker_connections(target.redis_url)
        reports = await pool.ask(("results",))
        await pool.ask(("close",))
    finally:
        pool.stop()

    online = set(range(viewers))
    accepted = [p for p in posts if p[2] == 201]
    expected = {
        seq: sum(1 for v in (poster, *ring_friends(poster, accounts, friends)) if v in online)
        for seq, poster, _, _ in accepted
    }
    got: Counter[int] = Counter()
    latencies: list[float] = []
    for report in reports:
        got.update(report["got"])
        latencies.extend(report["latencies_ms"])
    delivered = sum(min(got[seq], want) for seq, want in expected.items())
    short = sum(1 for seq, want in expected.items() if got[seq] < want)
    post_ms = [p[3] for p in posts]
    seen = [idle, during, *samples]
    peak = max(sample["count"] for sample in seen)
    live_peak = max(sample["live_viewers"] for sample in seen)
    p99 = percentile(latencies, 0.99)
    return {
        "accounts": accounts,
        "friends_each": friends,
        "viewers": viewers,
        "viewers_connected": sum(r["open"] for r in reports),
        "client_processes": processes,
        "connect_s": round(connect_s, 1),
        "connect_errors": connect_errors,
        "seeding_s": seeding,
        "api_check": checked,
        "rate_per_s": rate,
        "surge_s": surge_s,
        "checkins_sent": len(posts),
        "post_statuses": dict(Counter(str(p[2]) for p in posts)),
        "post_p50_ms": percentile(post_ms, 0.50),
        "post_p99_ms": percentile(post_ms, 0.99),
        "friend_p50_ms": percentile(latencies, 0.50),
        "friend_p99_ms": p99,
        "friend_max_ms": percentile(latencies, 1.0),
        "delivered": delivered,
        "expected": sum(expected.values()),
        "checkins_short": short,
        "duplicates": sum(r["duplicates"] for r in reports),
        "channels_closed": sum(r["closed"] for r in reports),
        "close_codes": dict(sum((Counter(r["close_codes"]) for r in reports), Counter())),
        "server_cpu_share_idle_viewers": round(idle_cpu, 2),
        "surge_wall_s": round(surge_wall_s, 1),
        "server_cpu_share_in_surge": round(surge_cpu / surge_wall_s, 2),
        "redis_cpu_share_in_surge": round(redis_cpu / surge_wall_s, 2),
        "server_runqueue_wait_share_in_surge": round(surge_wait / surge_wall_s, 2),
        "redis_connections": {
            "before_viewers": before_viewers["count"],
            "idle_viewers": idle,
            "after_surge": during,
            "peak_all": peak,
            "peak_live_viewers": live_peak,
        },
        "raised_env": RAISED_ENV,
        "raised_env_by_yure_server_public_streams_only": RAISED_BY_YURE_SERVER,
        "server_cpu_ms_per_checkin": round(surge_cpu * 1000 / max(1, len(accepted)), 2),
        "goals": {
            "redis_connections_le_4": live_peak <= GOAL_MAX_REDIS_CONNECTIONS,
            "friend_p99_le_250ms": p99 is not None and p99 <= GOAL_P99_MS,
            "all_delivered": delivered == sum(expected.values()) and bool(expected),
        },
        "note": "measured on a shared 2-core machine; server, Redis and load clients share it",
    }


def run(
    *,
    accounts: int = 100_000,
    friends: int = 20,
    viewers: int = 10_000,
    rate: float = 200.0,
    surge_s: float = 60.0,
    processes: int = 2,
) -> dict[str, Any]:
    """Run the surge once; the numbers go under ``safety`` in latest.json."""
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="yure-bench-safety-") as tmp:
        data_dir = Path(tmp)
        with yure_server(data_dir, coalesce=True, extra_env=RAISED_ENV) as target:
            return asyncio.run(
                _bench(
                    target,
                    data_dir,
                    accounts=accounts,
                    friends=friends,
                    viewers=viewers,
                    rate=rate,
                    surge_s=surge_s,
                    processes=processes,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--friends", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--surge-s", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    result = run(
        accounts=args.accounts,
        friends=args.friends,
        viewers=args.viewers,
        rate=args.rate,
        surge_s=args.surge_s,
        processes=args.processes,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
