"""Writes that wait for the master's replicas before they are acknowledged.

Redis replicates asynchronously: a master killed right after acknowledging a write can take
that write with it when a replica is promoted (Redis Cluster specification, "Write safety";
Sentinel likewise). Before yure acknowledges a write it must not lose (a check-in, a timeline
entry), it sends ``WAIT numreplicas timeout`` on the connection that wrote
(https://redis.io/docs/latest/commands/wait/). Sentinel and Cluster promote the most
up-to-date replica, so with one replica per master an acknowledged write survives the
kill -9 of its master. A master with fewer replicas attached than asked (the promoted replica,
until a new one attaches) acknowledges once all of its attached replicas hold the write and
logs ``replication degraded``: yure stays writable, and a *second* failure inside that window
can lose writes (docs/operations.md).

``WAIT`` counts the writes of its own connection, so the write and the ``WAIT`` go out as one
pipeline on one connection. redis-py's cluster client cannot carry a keyless ``WAIT`` in a
pipeline, so for a cluster the pair goes to the master of the key's slot over a small direct
connection pool of that node (a ``MOVED`` during a resharding surfaces as an error and the
caller retries, as it does for any failed write).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio
from redis.exceptions import RedisClusterException, RedisError

from yure.errors import YureError

log = logging.getLogger(__name__)

_BARRIER_LUA = "return redis.call('INCR', KEYS[1])"
#: How often a master with fewer replicas than wanted is asked again.
ATTACHED_RECHECK_S = 1.0
#: Connections of a direct pool to one cluster master (used only for replicated writes).
DIRECT_POOL_CONNECTIONS = 8


class ReplicationError(YureError):
    """Fewer replicas than asked acknowledged a write in time (it may still be lost)."""


class ReplicatedWriter:
    """Runs Lua writes followed by ``WAIT`` on the same connection, on any topology."""

    def __init__(self, client: redis.asyncio.Redis, *, replicas: int, timeout_ms: int) -> None:
        self.client = client
        self.replicas = replicas
        self.timeout_ms = timeout_ms
        self._direct: dict[tuple[str, int], redis.asyncio.Redis] = {}
        #: Replicas attached to each master connection (count, when read).
        self._attached: dict[int, tuple[int, float]] = {}

    def _connection_for(self, key: str) -> redis.asyncio.Redis:
        get_node = getattr(self.client, "get_node_from_key", None)
        if get_node is None:
            return self.client
        node = get_node(key)
        address = (str(node.host), int(node.port))
        direct = self._direct.get(address)
        if direct is None:
            kwargs = getattr(node, "connection_kwargs", {})
            direct = redis.asyncio.Redis(
                host=address[0],
                port=address[1],
                password=kwargs.get("password"),
                ssl=bool(kwargs.get("ssl", False)),
                max_connections=DIRECT_POOL_CONNECTIONS,
            )
            self._direct[address] = direct
        return direct

    async def eval(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """``EVAL script`` then ``WAIT``; return the script's result.

        Raises:
            ReplicationError: fewer than ``replicas`` replicas acknowledged in time.
            redis.exceptions.RedisError, OSError: Redis failed (the caller maps it).
        """
        try:
            connection = self._connection_for(keys[0])
        except RedisClusterException:
            # The slot has no master right now (a failover is under way): reload the map.
            await self._refresh_slots(keys[0])
            raise
        try:
            # Inside the try: asking a dead master how many replicas it has fails too, and
            # must forget it as a failed write does (else every retry asks it again).
            wanted = await self._replicas_to_wait_for(connection)
            async with connection.pipeline(transaction=False) as pipe:
                pipe.eval(script, len(keys), *keys, *args)
                if wanted:
                    pipe.execute_command("WAIT", wanted, self.timeout_ms)
                replies = await pipe.execute()
        except (RedisError, OSError):
            if connection is not self.client:
                # The slot's master died or moved: forget it and reload the slot map, so the
                # caller's retry goes to the promoted replica.
                await self._forget(connection, keys[0])
            raise
        if wanted and int(replies[1]) < wanted:
            self._attached.pop(id(connection), None)
            raise ReplicationError(f"{replies[1]} of {wanted} replicas acknowledged in time")
        return replies[0]

    async def barrier(self, tag: str) -> None:
        """Return once the replicas hold every write made so far to the slot of hash tag
        ``tag`` (from any connection): a write after them on one connection, then ``WAIT``
        — a master's replication stream is one ordered log, so the earlier writes are in.

        Raises:
            ReplicationError: fewer than ``replicas`` replicas acknowledged in time.
            redis.exceptions.RedisError, OSError: Redis failed.
        """
        await self.eval(_BARRIER_LUA, [tag + ":barrier"], [])

    async def _replicas_to_wait_for(self, connection: redis.asyncio.Redis) -> int:
        """``replicas``, or fewer while the master has fewer attached (after a failover,
        until a replica re-attaches: degraded, but writable; re-checked every
        ``ATTACHED_RECHECK_S``)."""
        known = self._attached.get(id(connection))
        now = time.monotonic()
        if known is None or (known[0] < self.replicas and now - known[1] > ATTACHED_RECHECK_S):
            info = await connection.info("replication")
            known = (int(info.get("connected_slaves", 0)), now)
            self._attached[id(connection)] = known
            if known[0] < self.replicas:
                log.warning("replication degraded attached=%d wanted=%d", known[0], self.replicas)
        return min(self.replicas, known[0])

    async def _forget(self, connection: redis.asyncio.Redis, key: str) -> None:
        for address, direct in list(self._direct.items()):
            if direct is connection:
                del self._direct[address]
                self._attached.pop(id(direct), None)
                await direct.aclose()
        await self._refresh_slots(key)

    async def _refresh_slots(self, key: str) -> None:
        # A keyed command through the cluster client rides over the failover with the
        # client's own retries and leaves its slot map pointing at the promoted master.
        with contextlib.suppress(RedisError, RedisClusterException, OSError):
            await self.client.exists(key)

    async def aclose(self) -> None:
        for direct in self._direct.values():
            await direct.aclose()
        self._direct.clear()
