"""Web Push fan-out: one nationwide alert to N matching subscriptions.

The real delivery path (``DeliveryJob.deliver``: Redis candidates, filter matching, RFC
8291 encryption per message, VAPID, HTTP/1.1 POSTs (push/wire.py), results recorded in
Redis) against a local push service in another process (bench/push_sink.py). Goals
(issue 13): at least 5,000 pushes/s and 100,000 subscriptions in at most 30 s.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis.asyncio

from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.geo.codes import PREF_CODES
from yure.infra.embedded_redis import EmbeddedRedis
from yure.ingest.event import Event, InfoType, Intensity, Kind, Status, event_to_json
from yure.push import ece, vapid
from yure.push.encryptor import PoolEncryptor, default_encryptor
from yure.push.job import DeliveryJob
from yure.push.prefs import PushFilter
from yure.push.sender import PushSender, push_client
from yure.push.store import SubscriptionStore
from yure.push.subscription import Subscription, new_token

GOAL_PUSHES_PER_S = 5000
GOAL_100K_S = 30.0
CONCURRENCY = 256
FILL_BATCH = 2000


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _receiver_keys() -> tuple[str, str]:
    key = vapid.generate_private_key()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return ece.b64url_encode(point), ece.b64url_encode(b"\x01" * 16)


async def _fill(
    store: SubscriptionStore, client: redis.asyncio.Redis, count: int, port: int
) -> None:
    p256dh, auth = _receiver_keys()
    _, token_hash = new_token()
    rng = random.Random(13)
    for start in range(0, count, FILL_BATCH):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(count, start + FILL_BATCH)):
                prefs = frozenset(rng.sample(PREF_CODES, rng.randint(1, 3)))
                sub = Subscription(
                    id=f"b{i:07d}",
                    endpoint=f"http://127.0.0.1:{port}/push/{i}",
                    p256dh=p256dh,
                    auth=auth,
                    filter=PushFilter(prefs=prefs),
                    token_hash=token_hash,
                    address=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                    created_at=0.0,
                )
                await store.queue_create(pipe, sub)
            await pipe.execute()


def _nationwide_quake() -> Envelope:
    now = datetime.now(UTC)
    event = Event(
        type_code="VXSE53",
        kind=Kind.QUAKE,
        status=Status.ACTUAL,
        info_type=InfoType.ISSUED,
        event_id="bench",
        serial=1,
        reported_at=now,
        title="震源・震度情報",
        headline="２９日２１時３０分ころ、地震がありました。",
        max_intensity=Intensity.I5_UPPER,
        intensity=dict.fromkeys(PREF_CODES, Intensity.I5_UPPER),
        prefs=PREF_CODES,
    )
    doc = event_to_json(event)
    return Envelope("bench-1", "quake", PREF_CODES, orjson.dumps(doc))


async def _sink_count(port: int) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/count") as r:
        return int(await r.text())


async def _run(count: int, workdir: Path) -> dict[str, Any]:
    sink = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything runs)
        [sys.executable, "-m", "bench.push_sink"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline())
        with EmbeddedRedis(workdir) as server:
            client = redis.asyncio.Redis.from_url(server.url)
            try:
                store = SubscriptionStore(client, max_per_address=10, max_total=10 * count)
                fill_started = time.perf_counter()
                await _fill(store, client, count, port)
                fill_s = time.perf_counter() - fill_started
                timeline = Timeline(client, retention_s=48 * 3600)
                entry_id = await timeline.append(_nationwide_quake())
                entry = await timeline.get(entry_id)
                assert entry is not None
                signer = vapid.VapidSigner(vapid.generate_private_key(), "mailto:bench@example.org")
                encryptor = default_encryptor()
                children_before = _children_cpu_s()
                http = push_client(allow_local=True, connections=CONCURRENCY)
                job = DeliveryJob(
                    client,
                    timeline,
                    store,
                    PushSender(http, signer),
                    concurrency=CONCURRENCY,
                    retention_s=48 * 3600,
                    encryptor=encryptor,
                )
                started = time.perf_counter()
                cpu_started = time.process_time()
                stats = await job.deliver(entry)
                elapsed = time.perf_counter() - started
                cpu_s = time.process_time() - cpu_started
                http.close()
                if isinstance(encryptor, PoolEncryptor):
                    encryptor.close(wait=True)
                workers_cpu_s = _children_cpu_s() - children_before
                received = await _sink_count(port)
            finally:
                await client.aclose()
    finally:
        sink.terminate()
        sink.wait()
    rate = stats.delivered / elapsed if elapsed > 0 else 0.0
    return {
        "subscriptions": count,
        "delivered": stats.delivered,
        "received_by_push_service": received,
        "seconds": round(elapsed, 2),
        # CPU seconds of yure's process (on a loaded machine, wall time says little):
        "cpu_seconds": round(cpu_s, 2),
        "encrypt_workers_cpu_seconds": round(workers_cpu_s, 2),
        "pushes_per_cpu_s": round(stats.delivered / (cpu_s + workers_cpu_s))
        if cpu_s + workers_cpu_s > 0
        else None,
        "load_average_1m": round(os.getloadavg()[0], 1),
        "pushes_per_s": round(rate),
        "fill_seconds": round(fill_s, 2),
    }


def run(count: int = 100_000) -> dict[str, Any]:
    """The ``push`` key of bench/results/latest.json."""
    with tempfile.TemporaryDirectory(prefix="yure-push-bench-") as tmp:
        result = asyncio.run(_run(count, Path(tmp)))
    result["goal_pushes_per_s"] = GOAL_PUSHES_PER_S
    result["goal_100k_s"] = GOAL_100K_S
    result["meets_goals"] = bool(
        result["pushes_per_s"] >= GOAL_PUSHES_PER_S
        and (count < 100_000 or result["seconds"] <= GOAL_100K_S)
        and result["received_by_push_service"] == count
    )
    return result


if __name__ == "__main__":
    print(orjson.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)).decode())
