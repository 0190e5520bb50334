"""``yure serve``: processes, sockets, Redis, and the ingest wiring.

* Redis: ``REDIS_URL``, or an embedded redis-server child under ``data_dir``
  (:mod:`infra.embedded_redis`); everything below sees a URL either way.
* Workers: with ``workers == 1`` the server runs in this process; with N > 1 this
  process supervises N spawned broadcaster processes that each bind the same
  port with ``SO_REUSEPORT`` (the kernel spreads connections over them) and
  share metrics through prometheus multiprocess files.
* Ingest: every worker competes for the Redis lease ``yure:lease:ingest``; the
  holder runs the JMA poller, whose publications become timeline entries
  (:func:`publication_sink`). ``YURE_INGEST=false`` keeps a node out of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType

import orjson
from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from yure.aio import background, raise_if_cancelling
from yure.backoff import Backoff
from yure.broadcast.envelope import Envelope
from yure.broadcast.errors import BroadcastError
from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.broadcast.metrics import Metrics
from yure.broadcast.timeline import Timeline
from yure.infra.embedded_redis import EmbeddedRedis
from yure.infra.errors import InfraError
from yure.infra.lease import Lease
from yure.ingest.event import event_to_json
from yure.ingest.ledger import Publication
from yure.ingest.p2p_client import FeltRecord, FeltSink
from yure.ingest.p2p_felt import FeltReport
from yure.ingest.service import IngestService
from yure.push import service as push_service
from yure.safety_check.felt_store import FeltReports
from yure.safety_check.services import SERVICES
from yure.settings import Settings
from yure.web import health, keys
from yure.web.app import build_app

log = logging.getLogger(__name__)

#: Redis connections per worker (one is held by the hub's blocking XREAD).
REDIS_MAX_CONNECTIONS = 64
#: Pending connections per listening socket.
LISTEN_BACKLOG = 4096
#: How often the lease holder copies the poller's last success into Redis.
LIVENESS_EVERY_S = 5.0
#: How long a worker may take to stop after SIGTERM before it is killed.
WORKER_STOP_TIMEOUT_S = 15.0
#: Graceful shutdown of open HTTP requests per worker.
SHUTDOWN_TIMEOUT_S = 5.0
#: A worker that dies is restarted after this pause (doubling, capped, jittered).
RESTART_BASE_S = 0.5
RESTART_CAP_S = 30.0


def run(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM; return the exit status."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if settings.redis_url is None:
            try:
                redis_url = stack.enter_context(EmbeddedRedis(settings.data_dir)).url
            except InfraError as err:
                print(f"yure serve: {err}", file=sys.stderr)
                return 1
        else:
            redis_url = settings.redis_url
        reserve = bind_socket(settings.host, settings.port, listen=settings.workers == 1)
        stack.callback(reserve.close)
        port = int(reserve.getsockname()[1])
        print(f"yure: listening on http://{_host_for_url(settings.host)}:{port}", flush=True)
        log.info("serve host=%s port=%s workers=%s", settings.host, port, settings.workers)
        if settings.workers == 1:
            asyncio.run(serve_worker(settings, redis_url, reserve))
            return 0
        return _supervise(settings, redis_url, port)


def bind_socket(host: str, port: int, *, listen: bool, reuse_port: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port`` with SO_REUSEADDR and SO_REUSEPORT."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port and hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    if listen:
        sock.listen(LISTEN_BACKLOG)
    sock.setblocking(False)
    return sock


async def serve_worker(
    settings: Settings,
    redis_url: str,
    sock: socket.socket,
    *,
    metrics_dir: Path | None = None,
) -> None:
    """One broadcaster: the app on ``sock`` (+ ingest under the lease) until a signal."""
    redis = Redis(connection_pool=redis_pool(redis_url))
    app = build_app(settings, redis, metrics_dir=metrics_dir)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.SockSite(runner, sock, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await site.start()
        # A background task (not a TaskGroup): Python 3.11's TaskGroup cannot be left on
        # a signal without an exception trick that leaves the task's cancel count raised.
        async with contextlib.AsyncExitStack() as ingest:
            if settings.ingest_enabled:
                await ingest.enter_async_context(
                    background(run_ingest(settings, app), name="ingest")
                )
            if settings.push_enabled:
                await ingest.enter_async_context(
                    background(app[push_service.PUSH].run_delivery(), name="push")
                )
            await stop.wait()
            log.info("worker stopping pid=%s", os.getpid())
    finally:
        await runner.cleanup()
        await redis.aclose()


def redis_pool(redis_url: str) -> BlockingConnectionPool:
    """The worker's Redis pool: bounded, and a caller waits (up to the command timeout)
    for a free connection instead of failing when a crowd reconnects at once."""
    return BlockingConnectionPool.from_url(
        redis_url, max_connections=REDIS_MAX_CONNECTIONS, timeout=REDIS_TIMEOUT_S
    )


def publication_sink(
    timeline: Timeline, metrics: Metrics
) -> Callable[[Publication], Awaitable[None]]:
    """The poller's sink: each :class:`Publication` becomes one timeline entry.

    The sink raises when the append fails, so the ingest does not mark the item as
    handled and tries it again (the idempotency key makes that safe).
    """

    async def sink(publication: Publication) -> None:
        event = publication.event
        envelope = Envelope(
            key=publication.key,
            kind=event.kind.value,
            prefs=tuple(event.prefs),
            payload=orjson.dumps(event_to_json(event)),
            replaces=publication.replaces,
        )
        try:
            entry_id = await timeline.append(envelope)
        except BroadcastError:
            metrics.ingest_errors.inc()
            raise
        metrics.appends.inc()
        log.info(
            "published key=%s kind=%s id=%s replaces=%s",
            publication.key,
            envelope.kind,
            entry_id,
            publication.replaces,
        )

    return sink


async def run_ingest(settings: Settings, app: web.Application) -> None:
    """Compete for the ingest lease; while held, run the JMA poller and the optional
    P2P地震情報 client (:class:`ingest.service.IngestService`) into the timeline."""
    redis = app[keys.REDIS]
    timeline = app[keys.TIMELINE]
    metrics = app[keys.METRICS]
    service = IngestService(
        settings,
        redis,
        publication_sink(timeline, metrics),
        felt_sink=felt_sink(app[SERVICES].felt),
    )

    async def work() -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(service.run())
            tasks.create_task(_report_liveness(redis, service, metrics))

    await Lease(redis, name="yure:lease:ingest").run(work)


def felt_sink(felt: FeltReports) -> FeltSink:
    """P2P地震情報 561 felt reports are counted in yure's own felt-report bursts (9611
    evaluations are P2P's own analysis: logged, not republished)."""

    async def sink(record: FeltRecord) -> None:
        if isinstance(record, FeltReport) and record.pref is not None:
            await felt.add_p2p(record.pref, record.received_at.timestamp())

    return sink


async def _report_liveness(redis: Redis, service: IngestService, metrics: Metrics) -> None:
    """Copy the poller's last success into Redis (for every worker's /healthz) and its
    error counter into the metrics."""
    reported: float | None = None
    errors_seen = 0
    while True:
        raise_if_cancelling()
        poller = service.poller
        if poller is None:
            await asyncio.sleep(LIVENESS_EVERY_S)
            continue
        at = poller.last_success_at
        # IngestService builds its poller with the default wall clock (time.time).
        if at is not None and at != reported:
            try:
                await health.record_poll_success(redis, at)
                reported = at
            except (RedisError, TimeoutError) as err:
                log.warning("liveness not recorded error=%s", err)  # tried again next turn
        errors = poller.counters.errors
        if errors > errors_seen:
            metrics.ingest_errors.inc(errors - errors_seen)
            errors_seen = errors
        await asyncio.sleep(LIVENESS_EVERY_S)


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# -- several workers -----------------------------------------------------------------------


def _supervise(settings: Settings, redis_url: str, port: int) -> int:
    metrics_dir = settings.data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    # prometheus-client picks multiprocess mode from this variable when a worker imports
    # it; the spawned workers inherit it. (Written here, read by prometheus-client only.)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = ctx.Process(
            target=_worker_main,
            args=(settings, redis_url, port, metrics_dir),
            name=f"yure-worker-{index}",
        )
        process.start()
        log.info("worker started index=%s pid=%s", index, process.pid)
        return process

    workers = [start(i) for i in range(settings.workers)]
    restarts = [Backoff(base_s=RESTART_BASE_S, cap_s=RESTART_CAP_S) for _ in workers]
    while not stopping:
        multiprocessing.connection.wait([w.sentinel for w in workers], timeout=1.0)
        for index, worker in enumerate(workers):
            if worker.is_alive() or stopping:
                continue
            _mark_dead(worker.pid)
            delay = restarts[index].next_delay()
            log.error(
                "worker died index=%s exitcode=%s restart_in_s=%.2f", index, worker.exitcode, delay
            )
            time.sleep(delay)
            workers[index] = start(index)
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + WORKER_STOP_TIMEOUT_S
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join()
        _mark_dead(worker.pid)
    return 0


def _mark_dead(pid: int | None) -> None:
    if pid is None:
        return
    from prometheus_client import multiprocess

    with contextlib.suppress(Exception):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _worker_main(settings: Settings, redis_url: str, port: int, metrics_dir: Path) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    sock = bind_socket(settings.host, port, listen=True)
    asyncio.run(serve_worker(settings, redis_url, sock, metrics_dir=metrics_dir))
