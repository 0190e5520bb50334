"""yure against nginx + Nchan under the same load, in alternating rounds.

Each round starts a fresh server — ``yure serve --workers 2`` or nginx + Nchan with two
worker processes (:mod:`bench.nchan_server`), in turn — connects N subscribers with the
lean load clients (:mod:`bench.clients`, which speak either protocol) and measures:

- server RSS per idle connection (the whole process tree: master and workers);
- connect time (every client ``ready``: yure's ready message, Nchan's 101);
- alert latency p50/p99 (:func:`bench.broadcast_bench.measure_latency`);
- the most delivered events/s the server keeps up with (the same throughput ramp; yure
  with its default coalescing, Nchan one frame per message);
- reconnect + resume of :data:`MISSED_ALERTS` missed alerts (yure ``since``, Nchan
  ``Last-Event-ID``): seconds until every client has everything it missed, and the
  count check.

Both servers get the same alerts: yure through ``Timeline.append`` into its Redis,
Nchan as an HTTP POST (keep-alive, same concurrency) of the very frame yure would send
(``{"type":"event","id":"…","event":{…}}``, an EEW-sized alert), so the clients count
both alike. Results go under ``nchan`` in ``bench/results/latest.json``: every round,
the median per server, the ratios yure/Nchan and the issue's goals.

``python -m bench.nchan_bench --subscribers 1000 --rounds 1`` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio

from bench.broadcast_bench import (
    PUBLISH_CONCURRENCY,
    RESULTS,
    RETENTION_S,
    Clients,
    Publisher,
    Target,
    measure_latency,
    measure_resume,
    ramp,
    tree_rss_kib,
    yure_server,
)
from bench.clients import raise_fd_limit
from bench.nchan_server import PUB_PATH, STATUS_PATH, missing, nchan_server
from yure.broadcast.envelope import Entry, Envelope
from yure.broadcast.frames import event_message
from yure.broadcast.timeline import Timeline

WORKERS = 2
MISSED_ALERTS = 10
SUBSCRIBERS = 10_000
ROUNDS = 3
#: Source address block of the first round's clients (127.0.<block>.x); each round
#: takes a fresh one so no port is still in TIME_WAIT from the round before.
FIRST_IP_BLOCK = 100
PUBLISH_TIMEOUT_S = 10.0
SUBSCRIBE_WAIT_S = 30.0
#: Delivered events/s of the throughput ramp's first step, whatever the subscriber count
#: (Nchan sends one frame per message per subscriber: at 10,000 subscribers it falls
#: behind at a few alerts/s, below the broadcast bench's first rate).
FIRST_EVENTS_PER_S = 20_000
#: Metrics whose lower value is better (the rest: higher is better).
METRICS = (
    "rss_kib_per_conn",
    "connect_s",
    "alert_p50_ms",
    "alert_p99_ms",
    "max_events_per_s",
    "resume_s",
)


def event_frame(env: Envelope, entry_id: str) -> bytes:
    """The frame yure sends for ``env`` (``broadcast.frames``), as Nchan's message body."""
    entry = Entry(id=entry_id, key=env.key, kind=env.kind, prefs=env.prefs, payload=env.payload)
    return event_message(entry)


class NchanPublisher:
    """Publishes to Nchan's publisher location over keep-alive HTTP connections."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}{PUB_PATH}"
        self.status_url = f"http://127.0.0.1:{port}{STATUS_PATH}"
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=PUBLISH_CONCURRENCY),
            timeout=aiohttp.ClientTimeout(total=PUBLISH_TIMEOUT_S),
        )
        self.sequence = 0

    async def append(self, env: Envelope, /) -> object:
        """POST ``env`` framed like yure's event (an id shaped like a stream entry id)."""
        self.sequence += 1
        entry_id = f"{time.time_ns() // 1_000_000}-{self.sequence}"
        # application/json: Nchan delivers it in a text frame (octet-stream goes binary).
        async with self.http.post(
            self.url,
            data=event_frame(env, entry_id),
            headers={"Content-Type": "application/json"},
        ) as resp:
            if resp.status not in (200, 201, 202):
                raise RuntimeError(f"nchan publish: HTTP {resp.status}")
            await resp.read()
        return entry_id

    async def status(self) -> dict[str, str]:
        """``nchan_stub_status`` (counters over every worker), as name → value."""
        async with self.http.get(self.status_url) as resp:
            text = await resp.text()
        return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)

    async def wait_subscribers(self, count: int) -> None:
        """Wait until ``count`` subscribers are counted and no inter-process message is
        in flight.

        Nchan answers the upgrade before a subscriber on a worker other than the
        channel's owner is registered there (an inter-process message): a message
        published in between would not reach it.
        """
        async with asyncio.timeout(SUBSCRIBE_WAIT_S):
            while True:
                status = await self.status()
                settled = (
                    status["interprocess alerts in transit"] == "0"
                    and status["interprocess queued alerts"] == "0"
                )
                if settled and int(status["subscribers"]) == count:
                    return
                await asyncio.sleep(0.02)

    async def aclose(self) -> None:
        await self.http.close()


@contextmanager
def server(kind: str, workdir: Path) -> Iterator[Target | None]:
    """A fresh ``yure`` (with ``WORKERS`` workers) or ``nchan`` target."""
    if kind == "yure":
        with yure_server(workdir, coalesce=True, workers=WORKERS) as target:
            yield target
    else:
        with nchan_server(WORKERS) as peer:
            yield peer


async def measure_round(target: Target, count: int, ip_block: int) -> dict[str, Any]:
    """One round against ``target``: memory, connect, latency, throughput, resume."""
    publisher: Publisher
    nchan: NchanPublisher | None = None
    if target.nchan:
        nchan = NchanPublisher(target.port)
        publisher, close = nchan, nchan.aclose
    else:
        client = redis.asyncio.Redis.from_url(target.redis_url)
        publisher, close = Timeline(client, retention_s=RETENTION_S), client.aclose
    processes = 2 if count > 2000 else 1
    await asyncio.sleep(0.5)
    rss_before = tree_rss_kib(target.process.pid)
    clients = Clients(target, count, processes, ip_block)
    result: dict[str, Any] = {"server": target.name, "subscribers": count}
    try:
        result["connect_s"] = round(
            max(await clients.ask(*(("connect", p) for p in clients.prefs))), 3
        )
        await asyncio.sleep(1.0)
        if nchan is not None:
            await nchan.wait_subscribers(count)
        rss_after = tree_rss_kib(target.process.pid)
        result["rss_kib_per_conn"] = round((rss_after - rss_before) / count, 2)
        result.update(await measure_latency(publisher, clients, count))
        # The resume before the ramp: the ramp's last step overloads on purpose, and a
        # client dropped there as too slow would resume from further back.
        resumed = await measure_resume(target, publisher, clients, count, MISSED_ALERTS)
        result.update(resumed)
        result["resume_complete"] = resumed["resume_events"] == resumed["resume_expected_events"]
        if nchan is not None:
            await nchan.wait_subscribers(count)
        ramped = await ramp(target, publisher, clients, count, FIRST_EVENTS_PER_S / count)
        result["max_events_per_s"] = ramped["max_events_per_s"]
        result["ramp_steps"] = ramped["steps"]
    finally:
        await clients.close()
        await close()
    return result


def ratios(yure: dict[str, float], nchan: dict[str, float]) -> dict[str, float | None]:
    """yure / Nchan for each metric (``None`` where Nchan's is zero)."""
    return {m: round(yure[m] / nchan[m], 3) if nchan[m] else None for m in METRICS}


def goals(yure: dict[str, float], nchan: dict[str, float]) -> dict[str, bool]:
    """The issue's goals at 10,000 subscribers (medians of the rounds)."""
    return {
        "rss_per_conn_le_nchan": yure["rss_kib_per_conn"] <= nchan["rss_kib_per_conn"],
        "connect_le_nchan": yure["connect_s"] <= nchan["connect_s"],
        "resume_le_nchan": yure["resume_s"] <= nchan["resume_s"],
        "alert_p99_le_0.8x_nchan": yure["alert_p99_ms"] <= 0.8 * nchan["alert_p99_ms"],
        "events_per_s_ge_10x_nchan": yure["max_events_per_s"] >= 10 * nchan["max_events_per_s"],
    }


def medians(rounds: list[dict[str, Any]], name: str) -> dict[str, float]:
    ours = [r for r in rounds if r["server"] == name]
    return {m: round(statistics.median(r[m] for r in ours), 3) for m in METRICS}


def run(subscribers: int = SUBSCRIBERS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Alternate yure and Nchan ``rounds`` times each; the summary for ``latest.json``."""
    reason = missing()
    if reason is not None:
        print(f"skip nchan: {reason}", flush=True)
        return {"skipped": reason}
    fd_limit = raise_fd_limit()
    if subscribers + 100 > fd_limit:
        reason = f"RLIMIT_NOFILE is {fd_limit}, {subscribers} subscribers need more"
        print(f"skip nchan: {reason}", flush=True)
        return {"skipped": reason}
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="yure-bench-nchan-") as tmp:
        for index in range(rounds * 2):
            kind = ("yure", "nchan")[index % 2]
            print(f"nchan bench round {index // 2 + 1}/{rounds}: {kind} n={subscribers}")
            with server(kind, Path(tmp) / f"{kind}-{index}") as target:
                assert target is not None
                measured = asyncio.run(
                    measure_round(target, subscribers, FIRST_IP_BLOCK + index * 2)
                )
            measured["round"] = index // 2 + 1
            print(f"  {measured}", flush=True)
            results.append(measured)
    yure, nchan = medians(results, "yure"), medians(results, "nchan")
    summary: dict[str, Any] = {
        "subscribers": subscribers,
        "workers": WORKERS,
        "missed_alerts": MISSED_ALERTS,
        "yure": yure,
        "nchan": nchan,
        "ratio_yure_to_nchan": ratios(yure, nchan),
        "goals": goals(yure, nchan),
        "resume_complete": all(r["resume_complete"] for r in results),
        "rounds": results,
    }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds per server")
    parser.add_argument(
        "--out", type=Path, default=None, help=f"write JSON here (e.g. {RESULTS.name})"
    )
    args = parser.parse_args(argv)
    summary = run(args.subscribers, args.rounds)
    text = json.dumps(summary, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
