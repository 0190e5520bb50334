"""``yure backup DEST`` and ``yure restore SRC`` (:mod:`yure.infra.backup`).

The Redis to snapshot: ``REDIS_URL``; else the embedded Redis of a running ``yure serve``
(its socket under ``YURE_DATA_DIR``); else the data directory's Redis is started for the
backup and stopped after. The archive: the SQLite file under ``YURE_DATA_DIR`` (with
``YURE_DATABASE_URL`` set, back PostgreSQL up with pg_dump).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import redis

from yure.archive.db import SQLITE_FILE_NAME
from yure.infra.backup import BackupError, backup, restore
from yure.infra.embedded_redis import EmbeddedRedis
from yure.infra.errors import InfraError
from yure.settings import Settings


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure backup`` and ``yure restore``."""
    parser = subparsers.add_parser(
        "backup",
        help="write a consistent snapshot of Redis and the archive into a new folder",
        description="Write a consistent Redis snapshot (SYNC) and the SQLite archive "
        "into DEST (a new or empty folder), with a manifest of SHA-256 sums. Works while "
        "yure serve runs.",
    )
    parser.add_argument("dest", type=Path, help="new or empty folder")
    parser.set_defaults(handler=_backup)
    parser = subparsers.add_parser(
        "restore",
        help="restore a backup into a fresh data directory",
        description="Restore the backup in SRC into YURE_DATA_DIR, which must hold no "
        "Redis data and no archive yet; then start yure serve.",
    )
    parser.add_argument("source", type=Path, help="a folder written by yure backup")
    parser.set_defaults(handler=_restore)


def _archive(settings: Settings) -> Path | None:
    return None if settings.database_url else settings.data_dir / SQLITE_FILE_NAME


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with contextlib.ExitStack() as stack:
            url = settings.redis_url or _running_embedded(settings.data_dir)
            if url is None:
                url = stack.enter_context(EmbeddedRedis(settings.data_dir)).url
            manifest = backup(url, _archive(settings), args.dest)
    except (BackupError, InfraError) as err:
        print(f"yure backup: {err}", file=sys.stderr)
        return 1
    print(json.dumps(manifest, indent=2))
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    if settings.redis_url is not None:
        print(
            "yure restore: restores into the embedded Redis of YURE_DATA_DIR; unset "
            "REDIS_URL (load redis.rdb into your own Redis with its tools)",
            file=sys.stderr,
        )
        return 2
    try:
        restore(args.source, settings.data_dir, _archive(settings))
    except (BackupError, InfraError) as err:
        print(f"yure restore: {err}", file=sys.stderr)
        return 1
    print(f"yure restore: restored {args.source} into {settings.data_dir}")
    return 0


def _running_embedded(data_dir: Path) -> str | None:
    sock = data_dir / "redis" / "redis.sock"
    if not sock.exists():
        return None
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        return None
    finally:
        client.close()
    return f"unix://{sock}"
