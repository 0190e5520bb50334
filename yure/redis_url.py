"""``REDIS_URL`` → a Redis topology (pure) and an asyncio client for it (driver).

Three topologies, one URL each:

* ``redis://host:port/db``, ``rediss://…``, ``unix:///path``: one server (redis-py's own
  URL syntax, https://redis.readthedocs.io/en/stable/connections.html).
* ``redis+cluster://host:port[,host:port…]`` (or ``rediss+cluster://``): a Redis Cluster;
  the hosts are seeds, redis-py's cluster client discovers the rest and follows
  ``MOVED``/``ASK`` redirections and failovers. Every multi-key operation yure runs keeps its
  keys in one hash slot (hash tags, see docs/operations.md).
* ``redis+sentinel://host:port[,host:port…]/master_name[/db]``: Redis Sentinel; the client
  asks the sentinels for the current master of ``master_name`` on every (re)connect, so a
  promoted replica is found after a failover.

A password may be given as ``redis+cluster://:secret@host:port`` (and for sentinel it is the
data nodes' password).
"""

from __future__ import annotations

import contextlib
import dataclasses
from enum import StrEnum
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis.asyncio
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import (
    ConnectionError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
)

#: Retries of one cluster command (with backoff up to 1 s) while slots move or fail over.
CLUSTER_RETRIES = 12
#: Seeds one cluster or sentinel URL may name.
MAX_URL_HOSTS = 16


class Topology(StrEnum):
    SINGLE = "single"
    CLUSTER = "cluster"
    SENTINEL = "sentinel"


@dataclasses.dataclass(frozen=True, slots=True)
class RedisTarget:
    """What a ``REDIS_URL`` names."""

    topology: Topology
    url: str
    hosts: tuple[tuple[str, int], ...] = ()
    master_name: str = ""
    db: int = 0
    password: str | None = None
    tls: bool = False


def parse_redis_url(url: str) -> RedisTarget:
    """Classify ``url``.

    Raises:
        ValueError: an unknown scheme, no hosts, a bad port, or a sentinel URL without a
            master name; the message says which.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"redis", "rediss", "unix"}:
        if scheme != "unix" and not parts.hostname:
            raise ValueError("names no host")
        return RedisTarget(Topology.SINGLE, url, tls=scheme == "rediss")
    base, _, kind = scheme.partition("+")
    if base not in {"redis", "rediss"} or kind not in {"cluster", "sentinel"}:
        raise ValueError(
            "must be a redis://, rediss://, unix://, redis+cluster:// or redis+sentinel:// URL"
        )
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    password = unquote(userinfo.partition(":")[2]) if userinfo else None
    hosts = tuple(_host(h) for h in hostlist.split(",") if h)
    if not hosts:
        raise ValueError("names no host")
    if len(hosts) > MAX_URL_HOSTS:
        raise ValueError(f"names more than {MAX_URL_HOSTS} hosts")
    path = [p for p in parts.path.split("/") if p]
    tls = base == "rediss"
    if kind == "cluster":
        if path:
            raise ValueError("a cluster has only database 0: drop the path")
        return RedisTarget(Topology.CLUSTER, url, hosts, password=password, tls=tls)
    if not path:
        raise ValueError("a sentinel URL needs the master name: redis+sentinel://h:p/name")
    db = int(path[1]) if len(path) > 1 else 0
    return RedisTarget(
        Topology.SENTINEL, url, hosts, master_name=path[0], db=db, password=password, tls=tls
    )


def _host(raw: str) -> tuple[str, int]:
    host, sep, port = raw.rpartition(":")
    if not sep:
        return raw, 6379
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in {raw!r}")
    return host.strip("[]"), int(port)


def connect(url: str, *, max_connections: int, timeout_s: float) -> redis.asyncio.Redis:
    """An asyncio client for ``url``, with at most ``max_connections`` per server.

    A caller waits up to ``timeout_s`` for a free connection instead of failing at once,
    so a crowd that reconnects together queues instead of erroring.

    The cluster client is returned as ``redis.asyncio.Redis``: ``RedisCluster`` offers the
    same command methods yure calls (it is checked by the stream and check-in suites on a
    real cluster, tests/broadcast/test_topologies.py), but is not a subclass.
    """
    target = parse_redis_url(url)
    if target.topology is Topology.CLUSTER:
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.hosts],
            password=target.password,
            ssl=target.tls,
            max_connections=max_connections,
            socket_connect_timeout=timeout_s,
            # Ride over a failover (node timeout + election, a few seconds) inside the client.
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), CLUSTER_RETRIES),
        )
        return cast(redis.asyncio.Redis, cluster)
    if target.topology is Topology.SENTINEL:
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.hosts),
            socket_connect_timeout=timeout_s,
        )
        master: redis.asyncio.Redis = sentinel.master_for(
            target.master_name,
            db=target.db,
            password=target.password,
            ssl=target.tls,
            socket_connect_timeout=timeout_s,
        )
        return master
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout_s
    )
    return redis.asyncio.Redis(connection_pool=pool)


class _PinnedConnection(redis.asyncio.Connection):
    """A connection that (re)connects to whichever master serves its pool's hash tag."""

    def __init__(self, **kwargs: Any) -> None:
        self.pinned_pool: _PinnedPool = kwargs.pop("pinned_pool")
        super().__init__(**kwargs)

    async def connect(self) -> None:
        self.host, self.port = await self.pinned_pool.master_address()
        await super().connect()  # type: ignore[no-untyped-call]

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except ReadOnlyError as err:
            # The master we hold was demoted (failover): reconnect to the new one.
            await self.disconnect()
            raise ConnectionError("the master was demoted") from err
        except ResponseError as err:
            if str(err).startswith(("MOVED", "ASK")):
                await self.disconnect()
                raise ConnectionError(f"the slot moved: {err}") from err
            raise


class _PinnedPool(redis.asyncio.BlockingConnectionPool):
    def __init__(self, cluster: RedisCluster, tag: str, **kwargs: Any) -> None:
        self.cluster = cluster
        self.tag = tag
        super().__init__(connection_class=_PinnedConnection, **kwargs)
        self.connection_kwargs["pinned_pool"] = self

    async def master_address(self) -> tuple[str, int]:
        # A keyed command through the cluster client rides over a failover with the
        # client's retries and refreshes its slot map; then the map names the master.
        with contextlib.suppress(RedisError, RedisClusterException, OSError):
            await self.cluster.exists(self.tag)
        try:
            node = self.cluster.get_node_from_key(self.tag)
        except RedisClusterException as err:  # no master for the slot yet (mid-failover)
            raise ConnectionError(f"no master serves {self.tag} now") from err
        if node is None:
            raise ConnectionError(f"no master serves {self.tag} now")
        return str(node.host), int(node.port)


def pinned(client: redis.asyncio.Redis, tag: str, *, max_connections: int) -> redis.asyncio.Redis:
    """A client of the master that serves hash tag ``tag`` (``"{yure:sc}"``), for a package
    whose keys all carry that tag and that needs what Redis Cluster's client cannot give
    (``WATCH``/``MULTI`` optimistic transactions, ``WAIT`` after a write, ``XREAD`` over many
    streams). It follows failovers: a new connection asks the cluster for the slot's master.
    Any other topology: ``client`` itself.
    """
    if not isinstance(client, RedisCluster):
        return client
    kwargs = client.get_connection_kwargs()
    pool = _PinnedPool(
        client,
        tag,
        max_connections=max_connections,
        password=kwargs.get("password"),
        socket_connect_timeout=kwargs.get("socket_connect_timeout"),
    )
    return redis.asyncio.Redis(connection_pool=pool)
