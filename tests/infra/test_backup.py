"""``yure backup`` / ``yure restore``: a snapshot of a live data dir restored into a fresh one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from yure.infra.backup import BackupError, restore
from yure.infra.embedded_redis import EmbeddedRedis
from yure.schema import SCHEMA_KEY, SCHEMA_VERSION

ARCHIVE = "archive.sqlite3"


def yure(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["YURE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "yure", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backup_of_a_running_data_dir_restores_into_a_fresh_one(tmp_path: Path) -> None:
    live, fresh, dest = tmp_path / "live", tmp_path / "fresh", tmp_path / "backup"
    with EmbeddedRedis(live) as server:  # as yure serve runs it: the backup uses its socket
        client = redis.Redis.from_url(server.url)
        client.set(SCHEMA_KEY, str(SCHEMA_VERSION))
        client.hset("yure:sc:user:u1", mapping={"handle": "hanako", "pw": "$argon2id$x"})
        client.set("yure:sc:session:abc", "u1", px=3_600_000)
        client.xadd("{yure:timeline}", {"k": "q1", "d": "{}"})
        archive = sqlite3.connect(live / ARCHIVE)
        archive.execute("create table events (id text primary key)")
        archive.execute("insert into events values ('20240101161010')")
        archive.commit()
        archive.close()
        done = yure("backup", str(dest), data_dir=live)
        assert done.returncode == 0, done.stderr
        client.set("yure:after-backup", "x")  # not in the snapshot
        client.close()
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert set(manifest["files"]) == {"redis.rdb", ARCHIVE}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in dest.iterdir())

    done = yure("restore", str(dest), data_dir=fresh)
    assert done.returncode == 0, done.stderr
    with EmbeddedRedis(fresh) as server:
        client = redis.Redis.from_url(server.url)
        assert client.hget("yure:sc:user:u1", "handle") == b"hanako"
        assert 0 < client.pttl("yure:sc:session:abc") <= 3_600_000
        assert client.xlen("{yure:timeline}") == 1
        assert client.get(SCHEMA_KEY) == str(SCHEMA_VERSION).encode()
        assert client.get("yure:after-backup") is None
        client.close()
    restored = sqlite3.connect(fresh / ARCHIVE)
    assert restored.execute("select id from events").fetchall() == [("20240101161010",)]
    restored.close()
    # The restored AOF is the owner's only, as the embedded Redis keeps it.
    assert (fresh / "redis").stat().st_mode & 0o777 == 0o700

    # Never over existing data, and never a damaged backup.
    again = yure("restore", str(dest), data_dir=fresh)
    assert again.returncode == 1 and "fresh data dir" in again.stderr
    (dest / "redis.rdb").write_bytes(b"REDIS0000broken")
    with pytest.raises(BackupError, match="does not match the manifest"):
        restore(dest, tmp_path / "other", None)


def test_backup_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "x").write_text("")
    done = yure("backup", str(tmp_path / "dest"), data_dir=tmp_path / "data")
    assert done.returncode == 1 and "not empty" in done.stderr
