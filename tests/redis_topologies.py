"""Real Redis Cluster and Redis Sentinel deployments for tests: temp dirs, free ports.

``running_cluster`` starts six ``redis-server --cluster-enabled yes`` nodes and joins them with
``redis-cli --cluster create … --cluster-replicas 1`` (3 masters, 3 replicas);
``running_sentinel`` starts a master, a replica and three sentinels
(``redis-server --sentinel``). Both only ever touch servers they started.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.redis_server import RedisProcess, find_redis_server, free_port

#: How long a topology may take to form (cluster slots covered, sentinels agreeing).
FORM_DEADLINE_S = 30.0
#: How long a failover may take once the master is gone (sentinel/cluster timeouts below).
FAILOVER_DEADLINE_S = 30.0
#: Node timeout of the test cluster and down-after of the test sentinels (small: fast failover).
NODE_TIMEOUT_MS = 1000


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def redis_cli(port: int, *args: str) -> str:
    """Run ``redis-cli -p port args…`` against a server of ours; return its stdout."""
    cli = shutil.which("redis-cli") or str(Path(find_redis_server()).with_name("redis-cli"))
    done = subprocess.run(
        [cli, "-p", str(port), *args], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout


Node = RedisProcess


@dataclass
class Cluster:
    """Six nodes: three masters, one replica each."""

    nodes: list[Node]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:3])
        return f"redis+cluster://{hosts}"

    def master_of(self, key: str) -> Node:
        """The node that serves ``key``'s slot now."""
        slot = int(redis_cli(self.alive()[0].port, "CLUSTER", "KEYSLOT", key).strip())
        for line in redis_cli(self.alive()[0].port, "CLUSTER", "NODES").splitlines():
            parts = line.split()
            if "master" not in parts[2] or "fail" in parts[2]:
                continue
            for span in parts[8:]:
                low, _, high = span.partition("-")
                if low.isdigit() and int(low) <= slot <= int(high or low):
                    port = int(parts[1].split(":")[1].split("@")[0])
                    return next(n for n in self.nodes if n.port == port)
        raise RuntimeError(f"no master serves slot {slot}")

    def revive(self) -> None:
        """Restart every killed node (each rejoins as a replica) and wait until all is well,
        so the next test starts with one replica per master again."""
        for node in self.nodes:
            if node.process is None:
                node.start()
        self.wait_ok()

    def alive(self) -> list[Node]:
        return [n for n in self.nodes if n.process is not None]

    def wait_ok(self) -> None:
        """Until every live node reports ``cluster_state:ok``, all slots are served and every
        replica's link to its master is up."""
        deadline = time.monotonic() + FAILOVER_DEADLINE_S
        while time.monotonic() < deadline:
            infos = [redis_cli(n.port, "CLUSTER", "INFO") for n in self.alive()]
            links = [redis_cli(n.port, "INFO", "replication") for n in self.alive()]
            if all(
                "cluster_state:ok" in i and "cluster_slots_ok:16384" in i for i in infos
            ) and all("role:master" in r or "master_link_status:up" in r for r in links):
                return
            time.sleep(0.1)
        raise RuntimeError("cluster did not reach cluster_state:ok")


@contextlib.contextmanager
def running_cluster(directory: Path) -> Iterator[Cluster]:
    """A real 6-node Redis Cluster (3 masters + 3 replicas) of the test's own."""
    nodes = []
    for i in range(6):
        node_dir = directory / f"node{i}"
        nodes.append(
            Node(
                free_cluster_port(), node_dir, appendonly=True,
                extra=(
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", str(node_dir / "nodes.conf"),
                    "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                ),
            )
        )  # fmt: skip
    try:
        for node in nodes:
            node.start()
        redis_cli(
            nodes[0].port, "--cluster", "create",
            *(f"127.0.0.1:{n.port}" for n in nodes),
            "--cluster-replicas", "1", "--cluster-yes",
        )  # fmt: skip
        cluster = Cluster(nodes)
        cluster.wait_ok()
        yield cluster
    finally:
        for node in nodes:
            node.stop()


@dataclass
class SentinelGroup:
    """A master, one replica and three sentinels watching them as ``MASTER_NAME``."""

    master: Node
    replica: Node
    sentinels: list[Node]

    MASTER_NAME = "yuremaster"

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.MASTER_NAME}"

    def current_master_port(self) -> int:
        for s in self.sentinels:
            if s.process is None:
                continue
            out = redis_cli(s.port, "SENTINEL", "get-master-addr-by-name", self.MASTER_NAME).split()
            if len(out) == 2:
                return int(out[1])
        raise RuntimeError("no sentinel answered")

    def wait_master_not(self, port: int) -> int:
        """Until the sentinels name a master other than ``port``; return the new port."""
        deadline = time.monotonic() + FAILOVER_DEADLINE_S
        while time.monotonic() < deadline:
            now = self.current_master_port()
            if now != port and "role:master" in redis_cli(now, "INFO", "replication"):
                return now
            time.sleep(0.1)
        raise RuntimeError("sentinels did not promote a new master")


@contextlib.contextmanager
def running_sentinel(directory: Path) -> Iterator[SentinelGroup]:
    """A real master + replica + three sentinels of the test's own."""
    master = Node(free_port(), directory / "master", appendonly=True)
    replica = Node(
        free_port(), directory / "replica", appendonly=True,
        extra=("--replicaof", "127.0.0.1", str(master.port)),
    )  # fmt: skip
    sentinels = [
        Node(free_port(), directory / f"sentinel{i}", appendonly=False, extra=("--sentinel",))
        for i in range(3)
    ]
    group = SentinelGroup(master, replica, sentinels)
    try:
        master.start()
        replica.start()
        for s in sentinels:
            s.directory.mkdir(parents=True, exist_ok=True)
            conf = s.directory / "sentinel.conf"
            conf.write_text(
                f"sentinel monitor {group.MASTER_NAME} 127.0.0.1 {master.port} 2\n"
                f"sentinel down-after-milliseconds {group.MASTER_NAME} {NODE_TIMEOUT_MS}\n"
                f"sentinel failover-timeout {group.MASTER_NAME} {NODE_TIMEOUT_MS * 5}\n"
                f"sentinel parallel-syncs {group.MASTER_NAME} 1\n"
            )
            s.config_file = conf
            s.start()
        deadline = time.monotonic() + FORM_DEADLINE_S
        while "master_link_status:up" not in redis_cli(replica.port, "INFO", "replication"):
            if time.monotonic() > deadline:
                raise RuntimeError("replica did not sync")
            time.sleep(0.05)
        yield group
    finally:
        for node in [*sentinels, replica, master]:
            node.stop()
