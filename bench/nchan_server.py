"""nginx with the Nchan module as a peer of ``yure serve`` in the broadcast benchmark.

Debian ships both (``apt-get install nginx libnginx-mod-nchan``). :func:`nchan_server`
writes an ``nginx.conf`` into a temp dir and runs ``/usr/sbin/nginx`` in the foreground
on a free port, with everything (error log, pid, temp paths) inside that dir and no
access log:

- ``POST /pub``: the publisher (``nchan_publisher``); the body is the message;
- ``GET /sub``: the WebSocket subscriber (``nchan_subscriber websocket``);
- ``GET /status``: ``nchan_stub_status`` (subscribers over every worker).

All subscribers share **one channel**: the benchmark addresses every alert to every
prefecture, so yure delivers each event to every connection, and one Nchan channel does
the same. Messages live in Nchan's in-memory store (shared memory, no Redis) with a
buffer (:data:`MESSAGE_BUFFER_LENGTH` messages, :data:`MESSAGE_TIMEOUT` each) for the
resume test: a subscriber that asks for the ``ws+meta.nchan`` subprotocol gets each
message as ``id: <message id>\\n[content-type: …\\n]\\n<body>``, and reconnects with that
id in ``Last-Event-ID`` (or the ``last_event_id`` query argument) to get what it missed.

``listen … reuseport`` gives each worker its own accept queue, as ``yure serve
--workers N`` does with ``SO_REUSEPORT``, so both servers spread connections over their
workers the same way. The channel itself has one owner worker; the other relays its
messages over Nchan's inter-process channel.

Run alone with ``python -m bench.nchan_server`` to print the config it would use.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.broadcast_bench import Target

NGINX = Path("/usr/sbin/nginx")
NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")
APT_LINE = "apt-get install nginx libnginx-mod-nchan"
PUB_PATH = "/pub"
SUB_PATH = "/sub"
STATUS_PATH = "/status"
#: ``Sec-WebSocket-Protocol`` that makes Nchan send each message's id before its body.
META_SUBPROTOCOL = "ws+meta.nchan"
#: Messages Nchan keeps per channel for resume (the throughput ramp publishes thousands
#: a second; the resume test needs only the last few).
MESSAGE_BUFFER_LENGTH = 1000
MESSAGE_TIMEOUT = "1h"
SHARED_MEMORY_SIZE = "256M"
#: File descriptors nginx keeps for itself besides the connections (listeners, logs, IPC).
SPARE_FDS = 200
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 30.0


def missing() -> str | None:
    """Why Nchan cannot run here (nginx or the module absent), or ``None``."""
    if not NGINX.exists():
        return f"{NGINX} not found ({APT_LINE})"
    if not NCHAN_MODULE.exists():
        return f"{NCHAN_MODULE} not found ({APT_LINE})"
    return None


def nginx_conf(folder: Path, port: int, workers: int, fd_limit: int) -> str:
    """The whole ``nginx.conf`` for the peer, every path under ``folder``."""
    connections = max(1024, fd_limit - SPARE_FDS)
    temp = "\n".join(
        f"    {name}_temp_path {folder / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root the workers would switch to "nobody", who cannot enter a 0700 temp dir.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""load_module {NCHAN_MODULE};
{user}worker_processes {workers};
worker_rlimit_nofile {fd_limit};
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{
    worker_connections {connections};
    multi_accept on;
}}
http {{
    access_log off;
{temp}
    nchan_shared_memory_size {SHARED_MEMORY_SIZE};
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        location = {PUB_PATH} {{
            nchan_publisher http;
            nchan_channel_id bench;
            nchan_store_messages on;
            nchan_message_buffer_length {MESSAGE_BUFFER_LENGTH};
            nchan_message_timeout {MESSAGE_TIMEOUT};
            client_max_body_size 64k;
            client_body_buffer_size 64k;
        }}
        location = {STATUS_PATH} {{
            nchan_stub_status;
        }}
        location = {SUB_PATH} {{
            nchan_subscriber websocket;
            nchan_channel_id bench;
            nchan_subscriber_first_message newest;
        }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(process: subprocess.Popen[str], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not listen") from None
            time.sleep(0.02)


@contextlib.contextmanager
def nchan_server(workers: int = 2) -> Iterator[Target | None]:
    """nginx + Nchan with ``workers`` worker processes; ``None`` (and a printed reason)
    when nginx or the module is not installed.

    The ``Target`` has no Redis (``redis_url`` is empty: publish over HTTP with
    :data:`PUB_PATH`) and no metrics URL.
    """
    reason = missing()
    if reason is not None:
        print(f"skip nchan: {reason}", flush=True)
        yield None
        return
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    folder = Path(tempfile.mkdtemp(prefix="yure-nchan-"))
    try:
        port = _free_port()
        conf = folder / "nginx.conf"
        conf.write_text(nginx_conf(folder, port, workers, fd_limit))
        log = folder / "nginx.stderr"
        command = [str(NGINX), "-p", str(folder), "-c", str(conf), "-e", str(log)]
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [*command, "-g", "daemon off;"], stderr=stderr, text=True, start_new_session=True
            )
        target = Target(
            name="nchan",
            process=process,
            port=port,
            path=SUB_PATH,
            redis_url="",
            stream_key="",
            metrics_url=None,
            nchan=True,
        )
        try:
            _wait_listening(process, port, log)
            yield target
        finally:
            # SIGQUIT is nginx's graceful stop; SIGTERM (Target.stop) its fast one.
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    print(nginx_conf(Path("/tmp/yure-nchan"), 8080, 2, 20000), end="")
