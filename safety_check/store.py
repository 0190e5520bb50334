"""Redis plumbing shared by the safety_check stores (driver).

Every Redis await goes through :func:`call` or :func:`transaction`: under a timeout, with
``redis.exceptions`` wrapped into :class:`~safety_check.errors.StoreError`. Replies may be
``bytes`` or ``str`` (the client may or may not decode); :func:`text` accepts both.

Writes that must be all-or-nothing use optimistic transactions (WATCH … MULTI … EXEC,
https://redis.io/docs/latest/develop/interact/transactions/#optimistic-locking-using-check-and-set):
the pure modules decide from what was read, MULTI applies the decision, and a concurrent
change of a watched key makes EXEC fail and the decision is taken again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio
import redis.exceptions
from redis.asyncio.client import Pipeline

from yure.aio import bounded_call
from yure.broadcast.errors import BroadcastError
from yure.replication import ReplicatedWriter, ReplicationError
from yure.safety_check.errors import StoreError

__all__ = [
    "Redis",
    "StoreError",
    "begin",
    "call",
    "ms",
    "opt_text",
    "read_timeout_s",
    "replicated",
    "sibling",
    "text",
    "text_map",
    "transaction",
    "wrap_broadcast",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Attempts of one optimistic transaction before giving up with StoreError (contention).
MAX_TRANSACTION_ATTEMPTS = 32

Redis = redis.asyncio.Redis


async def call(awaitable: Awaitable[T], timeout_s: float) -> T:
    """Await one Redis operation under ``timeout_s``.

    Raises:
        StoreError: Redis failed or did not answer in time.
    """
    try:
        return await bounded_call(awaitable, timeout_s)
    except TimeoutError as err:
        raise StoreError("redis timed out") from err
    except redis.exceptions.RedisError as err:
        raise StoreError(f"redis failed: {type(err).__name__}") from err


async def transaction(
    client: Redis,
    watch: Sequence[str],
    body: Callable[[Pipeline], Awaitable[T]],
    *,
    timeout_s: float,
) -> T:
    """Run ``body`` as an optimistic transaction over the ``watch`` keys.

    ``body`` reads through the pipeline (immediate mode), then may call ``pipe.multi()``
    and queue writes; they are executed atomically unless a watched key changed, in which
    case ``body`` runs again. Exceptions raised by ``body`` abort without writing.

    Raises:
        StoreError: Redis failed, timed out, or the keys stayed contended.
    """
    for _ in range(MAX_TRANSACTION_ATTEMPTS):
        try:
            async with asyncio.timeout(timeout_s):
                async with client.pipeline(transaction=True) as pipe:
                    await pipe.watch(*watch)
                    result = await body(pipe)
                    if pipe.explicit_transaction:
                        await pipe.execute()
                    return result
        except redis.exceptions.WatchError:
            continue
        except TimeoutError as err:
            raise StoreError("redis timed out") from err
        except redis.exceptions.RedisError as err:
            raise StoreError(f"redis failed: {type(err).__name__}") from err
    log.warning("transaction contended keys=%d attempts=%d", len(watch), MAX_TRANSACTION_ATTEMPTS)
    raise StoreError("too much contention, retry")


async def replicated(writer: ReplicatedWriter, tag: str, *, timeout_s: float) -> None:
    """Return once the replicas hold every write made so far to the slot of ``tag``.

    Raises:
        StoreError: Redis failed, or too few replicas acknowledged in time.
    """
    try:
        await call(writer.barrier(tag), timeout_s)
    except ReplicationError as err:
        raise StoreError("not replicated in time") from err


def begin(pipe: Pipeline) -> None:
    """Switch a watching pipeline to MULTI (queue the writes that follow)."""
    pipe.multi()  # type: ignore[no-untyped-call]


def wrap_broadcast(err: BroadcastError) -> StoreError:
    """A broadcast failure (timeline append/read) as this package's StoreError."""
    return StoreError(f"timeline failed: {type(err).__name__}")


def text(value: Any) -> str:
    """A Redis reply (bytes or str) as str."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def opt_text(value: Any) -> str | None:
    """Like :func:`text`, None stays None."""
    return None if value is None else text(value)


def text_map(value: Any) -> dict[str, str]:
    """An HGETALL reply as ``{str: str}``."""
    return {text(k): text(v) for k, v in dict(value or {}).items()}


def read_timeout_s(client: Redis) -> float | None:
    """The socket read timeout of ``client``'s connections (redis-py's default is 5 s), or
    None when unknown (a cluster client) or unlimited. A blocking read (XREAD BLOCK) must
    ask for less, or an idle wait ends as a timeout error."""
    pool = getattr(client, "connection_pool", None)
    if pool is None:
        return None
    try:
        timeout = pool.connection_class(**pool.connection_kwargs).socket_timeout
    except (TypeError, ValueError):
        return None
    return None if timeout is None else float(timeout)


def sibling(client: Redis, *, max_connections: int, name: str) -> Redis:
    """A client of the same server as ``client`` with a pool of its own, at most
    ``max_connections``, whose connections carry ``name`` (``CLIENT SETNAME``: ``CLIENT
    LIST`` tells them apart). For a plain single-server client only; any other (cluster,
    pinned, sentinel) is returned as it is."""
    pool = getattr(client, "connection_pool", None)
    if type(pool) is not redis.asyncio.BlockingConnectionPool:
        return client
    kwargs = {**pool.connection_kwargs, "client_name": name}
    own = redis.asyncio.BlockingConnectionPool(
        connection_class=pool.connection_class,
        max_connections=max_connections,
        timeout=pool.timeout,
        **kwargs,
    )
    return redis.asyncio.Redis(connection_pool=own)


def ms(seconds: float) -> int:
    """Seconds as whole milliseconds, at least 1 (PEXPIRE refuses 0 and negatives)."""
    return max(1, round(seconds * 1000))
