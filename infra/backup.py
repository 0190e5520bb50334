"""``yure backup DEST`` / ``yure restore SRC``: a consistent Redis snapshot and the archive.

Backup (driver):

* Redis: a point-in-time RDB snapshot fetched over the replication protocol (``SYNC``,
  as ``redis-cli --rdb`` does): consistent at one instant, works against the embedded
  Redis while ``yure serve`` runs and against a single remote ``REDIS_URL``
  (``redis://``/``unix://``; not TLS, cluster or sentinel — use the provider's snapshots).
* The SQLite history archive, when there is one: copied with SQLite's online backup API
  (consistent while yure writes to it). A PostgreSQL archive is backed up with pg_dump.
* ``manifest.json``: format, storage layout version, files with their SHA-256.

Restore (into a *fresh* data directory, refused otherwise): the RDB is loaded by a
temporary redis-server, which writes it out as the append-only file the embedded Redis
of ``yure serve`` then loads; the archive file is copied. Every file is checked against
the manifest first. The storage layout version travels inside the snapshot and is
checked when ``yure serve`` starts (:mod:`yure.schema`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import redis

from yure.infra.embedded_redis import (
    PRIVATE_FILE_MODE,
    START_TIMEOUT_S,
    _child_setup,
    find_redis_server,
    make_private,
    make_private_dir,
)
from yure.infra.errors import InfraError

log = logging.getLogger(__name__)

FORMAT = "yure-backup-1"
MANIFEST = "manifest.json"
RDB_FILE = "redis.rdb"
ARCHIVE_FILE = "archive.sqlite3"
#: Largest snapshot we accept from Redis.
MAX_RDB_BYTES = 64 * 1024**3
#: Socket timeout while the server prepares and sends the snapshot.
SYNC_TIMEOUT_S = 300.0
#: How long restore waits for the temporary redis-server to write the AOF.
REWRITE_TIMEOUT_S = 300.0
#: Length of the end mark of a diskless snapshot ("$EOF:<mark>").
EOF_MARK_BYTES = 40
CHUNK_BYTES = 1024 * 1024


class BackupError(InfraError):
    """A backup or restore that cannot be done; the message says why."""


# -- backup -------------------------------------------------------------------------------


def backup(redis_url: str, archive: Path | None, dest: Path) -> dict[str, object]:
    """Write a snapshot of ``redis_url`` (and ``archive``, if it exists) into ``dest``.

    Raises:
        BackupError: ``dest`` exists and is not empty, Redis refused, or I/O failed.
    """
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    make_private_dir(dest)
    files: dict[str, str] = {}
    rdb = dest / RDB_FILE
    fetch_rdb(redis_url, rdb)
    files[RDB_FILE] = _sha256(rdb)
    if archive is not None and archive.exists():
        _copy_sqlite(archive, dest / ARCHIVE_FILE)
        files[ARCHIVE_FILE] = _sha256(dest / ARCHIVE_FILE)
    manifest: dict[str, object] = {
        "format": FORMAT,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "schema_version": _schema_version(redis_url),
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    make_private(dest)
    log.info("backup written dest=%s files=%s", dest, ",".join(files))
    return manifest


def fetch_rdb(redis_url: str, out: Path) -> int:
    """Fetch a point-in-time RDB snapshot with ``SYNC``; return its size in bytes.

    Raises:
        BackupError: an unsupported URL, a refused ``SYNC`` (e.g. managed Redis), or a
            broken transfer.
    """
    parts = urlsplit(redis_url)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(SYNC_TIMEOUT_S)
            sock.connect(parts.path)
        elif parts.scheme == "redis":
            sock = socket.create_connection(
                (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=SYNC_TIMEOUT_S
            )
        else:
            raise BackupError(
                f"cannot snapshot a {parts.scheme}:// Redis here: use its own backups"
            )
    except OSError as err:
        raise BackupError(f"cannot reach Redis: {err}") from err
    with sock, sock.makefile("rb") as stream:
        try:
            if parts.password is not None:
                user = unquote(parts.username) if parts.username else None
                args = ["AUTH", *([user] if user else []), unquote(parts.password)]
                sock.sendall(_command(*args))
                _expect_ok(stream)
            sock.sendall(_command("SYNC"))
            return _read_rdb(stream, out)
        except OSError as err:
            raise BackupError(f"snapshot transfer failed: {err}") from err


def _command(*args: str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _expect_ok(stream: io.BufferedReader) -> None:
    line = stream.readline()
    if not line.startswith(b"+OK"):
        raise BackupError(f"Redis refused AUTH: {line.strip()!r}")


def _read_rdb(stream: io.BufferedReader, out: Path) -> int:
    line = stream.readline()
    while line in (b"\n", b"\r\n"):  # keep-alive newlines while the server forks
        line = stream.readline()
    if line.startswith(b"-"):
        raise BackupError(f"Redis refused SYNC: {line[1:].strip().decode(errors='replace')}")
    if not line.startswith(b"$"):
        raise BackupError(f"unexpected answer to SYNC: {line[:40]!r}")
    header = line[1:].strip()
    with out.open("wb") as handle:
        if header.startswith(b"EOF:"):  # diskless: data until the 40-byte mark
            mark = header[4:]
            if len(mark) != EOF_MARK_BYTES:
                raise BackupError("malformed diskless snapshot header")
            size = _copy_until_mark(stream, handle, mark)
        else:
            size = int(header)
            if size > MAX_RDB_BYTES:
                raise BackupError(f"snapshot of {size} bytes > {MAX_RDB_BYTES}")
            left = size
            while left:
                chunk = stream.read(min(left, CHUNK_BYTES))
                if not chunk:
                    raise BackupError("connection closed in the middle of the snapshot")
                handle.write(chunk)
                left -= len(chunk)
    with out.open("rb") as check:
        if check.read(5) != b"REDIS":
            raise BackupError("the snapshot is not an RDB file")
    os.chmod(out, PRIVATE_FILE_MODE)
    return size


def _copy_until_mark(stream: io.BufferedReader, handle: BinaryIO, mark: bytes) -> int:
    tail = b""
    size = 0
    while True:
        chunk = stream.read1(CHUNK_BYTES)
        if not chunk:
            raise BackupError("connection closed in the middle of the snapshot")
        data = tail + chunk
        end = data.find(mark)
        if end >= 0:
            handle.write(data[:end])
            return size + end
        keep = max(0, len(data) - len(mark))
        handle.write(data[:keep])
        size += keep
        tail = data[keep:]
        if size > MAX_RDB_BYTES:
            raise BackupError(f"snapshot over {MAX_RDB_BYTES} bytes")


def _schema_version(redis_url: str) -> int | None:
    from yure.schema import SCHEMA_KEY

    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    try:
        raw = client.get(SCHEMA_KEY)
    except redis.RedisError:
        return None
    finally:
        client.close()
    return None if raw is None else int(raw)


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- restore ------------------------------------------------------------------------------


def restore(source: Path, data_dir: Path, archive: Path | None) -> dict[str, object]:
    """Restore the backup in ``source`` into the fresh ``data_dir``.

    Raises:
        BackupError: not a backup, a file does not match the manifest, or ``data_dir``
            already holds Redis data or an archive.
    """
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        raise BackupError(f"{source} is not a yure backup: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a {FORMAT} backup")
    files = manifest.get("files")
    if not isinstance(files, dict) or RDB_FILE not in files:
        raise BackupError("the manifest lists no Redis snapshot")
    for name, digest in files.items():
        if _sha256(source / name) != digest:
            raise BackupError(f"{name} does not match the manifest (damaged or changed)")
    target = data_dir / "redis"
    if target.exists() and any(p.name != "redis.log" for p in target.iterdir()):
        raise BackupError(f"{target} already holds Redis data: restore into a fresh data dir")
    if archive is not None and archive.exists():
        raise BackupError(f"{archive} exists: restore into a fresh data dir")
    make_private_dir(data_dir)
    make_private_dir(target)
    shutil.copyfile(source / RDB_FILE, target / "dump.rdb")
    _rdb_to_aof(target)
    (target / "dump.rdb").unlink()
    if ARCHIVE_FILE in files and archive is not None:
        shutil.copyfile(source / ARCHIVE_FILE, archive)
    make_private(target)
    if archive is not None and archive.exists():
        archive.chmod(PRIVATE_FILE_MODE)
    log.info("backup restored source=%s data_dir=%s", source, data_dir)
    return manifest


def _rdb_to_aof(directory: Path) -> None:
    """Load ``directory/dump.rdb`` in a temporary redis-server and have it write the
    append-only file the embedded Redis loads."""
    sock_path = directory / "restore.sock"
    process = subprocess.Popen(
        [
            find_redis_server(),
            *("--dir", str(directory), "--dbfilename", "dump.rdb"),
            *("--appendonly", "no", "--save", "", "--port", "0"),
            *("--unixsocket", str(sock_path), "--unixsocketperm", "700"),
            *("--logfile", str(directory / "restore.log")),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_child_setup,
    )
    try:
        client = redis.Redis(unix_socket_path=str(sock_path), socket_timeout=10)
        _wait(lambda: _pings(client), START_TIMEOUT_S, "the temporary redis-server")
        client.config_set("appendonly", "yes")
        _wait(lambda: _rewritten(client), REWRITE_TIMEOUT_S, "the append-only file")
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        process.wait(timeout=START_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with contextlib.suppress(FileNotFoundError):
            (directory / "restore.log").unlink()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _rewritten(client: redis.Redis) -> bool:
    info = client.info("persistence")
    return bool(
        info.get("aof_enabled") == 1
        and info.get("aof_rewrite_in_progress") == 0
        and info.get("aof_rewrite_scheduled") == 0
        and info.get("aof_last_bgrewrite_status") == "ok"
    )


def _wait(done: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise BackupError(f"timed out waiting for {what}")
        time.sleep(0.05)
