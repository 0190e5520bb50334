"""``yure serve``: processes and sockets; what runs in them is wired here, and acts in
the package that owns it.

* Redis: ``REDIS_URL``, or an embedded redis-server child under ``data_dir``
  (:mod:`infra.embedded_redis`); everything below sees a URL either way.
* Workers: with ``workers == 1`` the server runs in this process; with N > 1 this
  process supervises N spawned broadcaster processes that each bind the same
  port with ``SO_REUSEPORT`` (the kernel spreads connections over them) and
  share metrics through prometheus multiprocess files.
* Ingest: every worker competes for the ingest's Redis lease; the holder runs the JMA
  poller into the timeline (:mod:`ingest.publish`). ``YURE_INGEST=false`` keeps a node
  out of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import multiprocessing.connection
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from aiohttp import web

from yure.aio import background
from yure.archive.http import ARCHIVE
from yure.archive.keeper import archive_sink, keep
from yure.broadcast.limits import REDIS_TIMEOUT_S
from yure.infra.embedded_redis import PRIVATE_UMASK, EmbeddedRedis, make_private_dir
from yure.infra.errors import InfraError
from yure.ingest.publish import run_under_lease
from yure.logs import configure_logging
from yure.push import service as push_service
from yure.redis_url import connect
from yure.safety_check.services import SERVICES
from yure.schema import SchemaError, check_schema
from yure.settings import Settings
from yure.web import connections, keys
from yure.web.app import build_app
from yure.web.restarts import RestartPlan

log = logging.getLogger(__name__)

#: Redis connections per worker (one is held by the hub's blocking XREAD).
REDIS_MAX_CONNECTIONS = 64
#: Pending connections per listening socket.
LISTEN_BACKLOG = 4096
#: How long a worker may take to stop after SIGTERM before it is killed.
WORKER_STOP_TIMEOUT_S = 15.0
#: The collector's thresholds in a worker (CPython's default is 700, 10, 10). A worker
#: allocates in bursts (a check-in is written to 20 live channels, an alert to 10,000
#: sockets): a young collection every 50,000 net allocations instead of every 700 took
#: the safety bench from 6.0 to 4.5 ms of CPU per check-in (issue 16); a full collection
#: still comes every 10 middle ones, so connections that leave cycles do not pile up.
GC_THRESHOLDS = (50_000, 20, 10)
#: Graceful shutdown of open HTTP requests per worker.
SHUTDOWN_TIMEOUT_S = 5.0


def run(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM; return the exit status."""
    # Everything yure writes (AOF, the SQLite archive, metrics) is the owner's only.
    os.umask(PRIVATE_UMASK)
    connections.raise_open_files_limit()  # before the workers start: they inherit it
    make_private_dir(settings.data_dir)
    with contextlib.ExitStack() as stack:
        if settings.redis_url is None:
            try:
                redis_url = stack.enter_context(EmbeddedRedis(settings.data_dir)).url
            except InfraError as err:
                print(f"yure serve: {err}", file=sys.stderr)
                return 1
        else:
            redis_url = settings.redis_url
        try:
            asyncio.run(_check_schema(redis_url))
        except SchemaError as err:
            print(f"yure serve: {err}", file=sys.stderr)
            return 1
        reserve = bind_socket(settings.host, settings.port, listen=settings.workers == 1)
        stack.callback(reserve.close)
        port = int(reserve.getsockname()[1])
        print(f"yure: listening on http://{_host_for_url(settings.host)}:{port}", flush=True)
        log.info("serve host=%s port=%s workers=%s", settings.host, port, settings.workers)
        if settings.workers == 1:
            asyncio.run(serve_worker(settings, redis_url, reserve))
            return 0
        return _supervise(settings, redis_url, port)


async def _check_schema(redis_url: str) -> None:
    """The storage layout check (:mod:`yure.schema`), once, before any worker starts."""
    redis = connect(redis_url, max_connections=2, timeout_s=REDIS_TIMEOUT_S)
    try:
        checked = await check_schema(redis)
    finally:
        await redis.aclose()
    log.info("storage layout version=%d migrated_from=%s", checked.current, checked.stored)


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
    redis = connect(redis_url, max_connections=REDIS_MAX_CONNECTIONS, timeout_s=REDIS_TIMEOUT_S)
    app = build_app(settings, redis, metrics_dir=metrics_dir)
    runner = connections.make_runner(app, settings)
    await runner.setup()
    # What start-up made (modules, tables, the app) lives as long as the process: out of
    # the collector's sight, a full collection scans only what connections made since
    # (issue 16: the collector took about a third of a worker's CPU while 10,000
    # subscribers connected).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = connections.GatedSockSite(
            runner,
            sock,
            fd_cap=connections.connection_fd_cap(connections.raise_open_files_limit()),
            backlog=LISTEN_BACKLOG,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await site.start()
        # A background task (not a TaskGroup): Python 3.11's TaskGroup cannot be left on
        # a signal without an exception trick that leaves the task's cancel count raised.
        async with contextlib.AsyncExitStack() as ingest:
            await ingest.enter_async_context(connections.guarding(app[keys.GUARD], runner))
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


async def run_ingest(settings: Settings, app: web.Application) -> None:
    """Run the ingest of this worker under the lease (:func:`ingest.publish.run_under_lease`),
    into the app's timeline, metrics and felt reports, then the history archive."""
    archive = app[ARCHIVE]
    await run_under_lease(
        settings,
        app[keys.REDIS],
        app[keys.TIMELINE],
        app[keys.METRICS],
        app[SERVICES].felt,
        then=archive_sink(archive),
        alongside=lambda: keep(
            archive, app[keys.TIMELINE], retention_days=settings.archive_retention_days
        ),
    )


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# -- several workers -----------------------------------------------------------------------


def _supervise(settings: Settings, redis_url: str, port: int) -> int:
    metrics_dir = settings.data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    # prometheus-client picks multiprocess mode from this variable when a worker imports
    # it: each worker gets it in its own environment; this process's is left alone.
    worker_env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    job = pickle.dumps((settings, redis_url, port, metrics_dir))
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def start(index: int) -> _Worker:
        worker = _Worker.start(job, worker_env)
        log.info("worker started index=%s pid=%s", index, worker.process.pid)
        return worker

    workers = [start(i) for i in range(settings.workers)]
    plan = RestartPlan(len(workers), now=time.monotonic())
    try:
        while not stopping:
            timeout = plan.wait_s(time.monotonic(), ceiling_s=1.0)
            alive = [w for i, w in enumerate(workers) if i not in plan.pending]
            _wait_any(alive, timeout_s=timeout)
            now = time.monotonic()
            for index, worker in enumerate(workers):
                if index in plan.pending or worker.process.poll() is None or stopping:
                    continue
                worker.close()
                _mark_dead(worker.process.pid)
                due = plan.died(index, now)
                log.error(
                    "worker died index=%s exitcode=%s restart_in_s=%.2f",
                    index, worker.process.returncode, due - now,
                )  # fmt: skip
            for index in [] if stopping else plan.due(time.monotonic()):
                workers[index] = start(index)
                plan.started(index, time.monotonic())
    finally:
        _stop(workers)
    return 0


@dataclasses.dataclass
class _Worker:
    """One worker process (``python -c`` running :func:`_worker_from_stdin`) and, on
    Linux, a pidfd that becomes readable when it exits."""

    process: subprocess.Popen[bytes]
    pidfd: int | None

    @classmethod
    def start(cls, job: bytes, env: dict[str, str]) -> _Worker:
        process = subprocess.Popen(
            [sys.executable, "-c", "from yure.web.serve import _worker_from_stdin as w; w()"],
            stdin=subprocess.PIPE,
            env=env,
        )
        assert process.stdin is not None
        with process.stdin:
            process.stdin.write(job)
        pidfd = os.pidfd_open(process.pid) if hasattr(os, "pidfd_open") else None
        return cls(process, pidfd)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _wait_any(workers: list[_Worker], *, timeout_s: float) -> None:
    """Return when a worker exits, a signal arrives, or after ``timeout_s``."""
    fds = [w.pidfd for w in workers if w.pidfd is not None]
    if len(fds) == len(workers):
        multiprocessing.connection.wait(fds, timeout=timeout_s)
    else:  # no pidfd (not Linux): look again shortly
        time.sleep(min(timeout_s, 0.2))


def _stop(workers: list[_Worker]) -> None:
    """SIGTERM every worker, wait up to WORKER_STOP_TIMEOUT_S in all, then SIGKILL."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + WORKER_STOP_TIMEOUT_S
    for worker in workers:
        try:
            worker.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.close()
        _mark_dead(worker.process.pid)


def _mark_dead(pid: int | None) -> None:
    if pid is None:
        return
    from prometheus_client import multiprocess

    with contextlib.suppress(Exception):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _worker_from_stdin() -> None:
    """A worker process's entry: its job comes pickled on stdin from :func:`_supervise`
    (the parent process, trusted), like multiprocessing's spawn would send it."""
    job = sys.stdin.buffer.read()
    settings, redis_url, port, metrics_dir = pickle.loads(job)  # noqa: S301 - our parent
    _worker_main(settings, redis_url, port, metrics_dir)


def _worker_main(settings: Settings, redis_url: str, port: int, metrics_dir: Path) -> None:
    configure_logging(settings.log_level, settings.log_format)
    sock = bind_socket(settings.host, port, listen=True)
    asyncio.run(serve_worker(settings, redis_url, sock, metrics_dir=metrics_dir))
