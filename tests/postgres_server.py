"""A real PostgreSQL server for tests: temp dir, free port, never a server we did not start.

The binaries come from PATH or Debian's ``/usr/lib/postgresql/<version>/bin``
(``apt-get install postgresql``; .ci/run installs it). PostgreSQL refuses to run as
root, so when the tests run as root the server runs as the ``postgres`` system user
(which Debian's package creates) in a temp dir handed over to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.redis_server import free_port

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 15.0
#: Where Debian and Ubuntu install the server binaries.
DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"
#: Who runs the server when the tests run as root.
SERVER_USER = "postgres"


def find_postgres_bin() -> Path:
    """The folder holding ``initdb`` and ``postgres``.

    Raises:
        RuntimeError: PostgreSQL is not installed (the message says how to install it).
    """
    found = shutil.which("initdb")
    if found and Path(found).with_name("postgres").exists():
        return Path(found).parent
    candidates = sorted(
        (p for p in Path("/").glob(DEBIAN_GLOB.lstrip("/")) if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise RuntimeError(
        "PostgreSQL server binaries not found (initdb, postgres): "
        "run `apt-get install postgresql` (see .ci/run)"
    )


@dataclass
class PostgresProcess:
    """A running PostgreSQL owned by the test session that started it."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://yure@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError as err:
            raise RuntimeError(
                f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL"
            ) from err
        for path in (self.directory, *self.directory.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> None:
        binaries = find_postgres_bin()
        data = self.directory / "data"
        run_as = self._run_as()
        subprocess.run(
            [
                str(binaries / "initdb"), "-D", str(data), "-U", "yure", "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            **run_as,  # type: ignore[call-overload]
        )  # fmt: skip
        log = (self.directory / "server.log").open("wb")
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            [
                str(binaries / "postgres"), "-D", str(data), "-p", str(self.port),
                "-h", "127.0.0.1", "-k", str(self.directory),
                "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=40",
            ],
            stdout=subprocess.DEVNULL, stderr=log, cwd=self.directory, **run_as,
        )  # fmt: skip
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}")
            if self._ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"postgres did not start on port {self.port}")

    def _ready(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)  # "fast" shutdown
        try:
            self.process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_DEADLINE_S)
        self.process = None


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresProcess]:
    """A fresh PostgreSQL in a temp dir of its own, stopped and removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="yure-pg-"))
    server = PostgresProcess(port=free_port(), directory=directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
