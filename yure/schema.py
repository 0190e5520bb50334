"""The version of yure's storage layout in Redis, checked before serving.

``yure:schema`` holds the layout version a running yure wrote. At start
(:func:`check_schema`): an empty Redis gets the current version; an older version is
migrated step by step (each step in :data:`MIGRATIONS`, idempotent, run under a lock so
that one process migrates); a newer one is refused — an older yure must not write into a
layout it does not know (e.g. after a rollback, or a restore of a newer backup).

:func:`plan` is the pure decision; :func:`check_schema` the Redis driver.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from yure.errors import YureError

log = logging.getLogger(__name__)

#: The layout this yure reads and writes. Bump it with a migration in MIGRATIONS.
SCHEMA_VERSION = 2
SCHEMA_KEY = "yure:schema"
#: A Redis that has yure's keys but no version is the layout before versioning.
UNVERSIONED = 0
#: Only one process migrates: the others wait for the lock (and then find it done).
LOCK_KEY = "yure:schema:lock"
LOCK_TTL_MS = 600_000
LOCK_WAIT_S = 600.0
LOCK_POLL_S = 0.1
#: Timeout of one Redis command here.
REDIS_TIMEOUT_S = 5.0

Migration = Callable[[Redis], Awaitable[None]]


async def _stamp_only(redis: Redis) -> None:
    """0 → 1: the first versioned layout is the unversioned one; nothing moves."""


def hash_tagged_name(key: str) -> str | None:
    """Layout 1 → 2: the new name of ``key``, or None when it keeps its name.

    Layout 2 puts every key of the safety check (``{yure:sc}:…``, the inbox streams too)
    and of the ingest's seen-store (``{yure:ingest}:…``) under one hash tag each, so that
    their multi-key transactions stay in one Redis Cluster slot (docs/operations.md).
    """
    if key.startswith("yure:sc:"):
        return "{yure:sc}:" + key.removeprefix("yure:sc:")
    if key.startswith("{yure:inbox:"):  # {yure:inbox:<uid>}[:keys|:keytimes|:floor]
        uid, sep, rest = key.removeprefix("{yure:inbox:").partition("}")
        return "{yure:sc}:inbox:" + uid + rest if sep else None
    if key.startswith(("yure:ingest:seen:", "yure:ingest:stream:")):
        return "{yure:ingest}:" + key.removeprefix("yure:ingest:")
    return None


#: Keys one migration step reads per SCAN round.
MIGRATION_SCAN_COUNT = 500


async def _hash_tags(redis: Redis) -> None:
    """1 → 2: rename keys to their hash-tagged names (:func:`hash_tagged_name`).

    ``DUMP`` + ``RESTORE … REPLACE`` (with the remaining TTL) + ``DEL`` instead of
    ``RENAME``, which Redis Cluster refuses across slots. Idempotent: a step cut short
    is finished by the next start (a key restored twice is replaced, not doubled).
    """
    moved = 0
    async for raw in redis.scan_iter(match="*yure:*", count=MIGRATION_SCAN_COUNT):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        target = hash_tagged_name(key)
        if target is None:
            continue
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            dumped = await redis.dump(key)
            if dumped is None:  # expired or moved meanwhile
                continue
            ttl_ms = await redis.pttl(key)
            await redis.restore(target, max(0, ttl_ms), dumped, replace=True)
            await redis.delete(key)
        moved += 1
    log.warning("storage layout 2: keys moved to hash-tagged names count=%d", moved)


#: ``MIGRATIONS[n]`` turns layout ``n`` into ``n + 1``.
MIGRATIONS: dict[int, Migration] = {UNVERSIONED: _stamp_only, 1: _hash_tags}


class SchemaError(YureError):
    """Redis holds a layout this yure cannot use (newer, or unreadable)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What to do at start: ``steps`` migrations from ``stored`` to ``current``."""

    stored: int | None
    current: int
    steps: tuple[int, ...]


def plan(stored: int | None, *, has_data: bool, current: int = SCHEMA_VERSION) -> Plan:
    """Decide from the stored version (``None``: no key) and whether Redis has yure data.

    Raises:
        SchemaError: the stored version is newer than ``current``, or a step is missing.
    """
    if stored is None:
        stored = UNVERSIONED if has_data else current
    if stored > current:
        raise SchemaError(
            f"Redis holds yure storage layout {stored}, this yure knows up to {current}: "
            "run a newer yure (or restore a backup made by this version)"
        )
    steps = tuple(range(stored, current))
    missing = [step for step in steps if step not in MIGRATIONS]
    if missing:
        raise SchemaError(f"no migration from layout {missing[0]}")
    return Plan(stored=stored, current=current, steps=steps)


async def check_schema(redis: Redis, *, current: int = SCHEMA_VERSION) -> Plan:
    """Check, migrate and stamp the layout before anything else touches Redis.

    Raises:
        SchemaError: a newer layout, an unreadable version, or Redis failed.
    """
    try:
        return await _check(redis, current)
    except (RedisError, TimeoutError) as err:
        raise SchemaError(f"cannot check the storage layout: {err}") from err


async def _check(redis: Redis, current: int) -> Plan:
    async with asyncio.timeout(LOCK_WAIT_S):
        while not await redis.set(LOCK_KEY, "1", nx=True, px=LOCK_TTL_MS):  # noqa: ASYNC110
            await asyncio.sleep(LOCK_POLL_S)  # another process migrates; bounded above
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            raw = await redis.get(SCHEMA_KEY)
            has_data = raw is None and await _has_yure_keys(redis)
        try:
            stored = None if raw is None else int(raw)
        except ValueError as err:
            raise SchemaError(f"{SCHEMA_KEY} is not a number: {raw!r}") from err
        decided = plan(stored, has_data=has_data, current=current)
        for step in decided.steps:
            log.warning("migrating storage layout from=%d to=%d", step, step + 1)
            await MIGRATIONS[step](redis)
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                await redis.set(SCHEMA_KEY, str(step + 1))
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            await redis.set(SCHEMA_KEY, str(current), nx=True)
        return decided
    finally:
        await redis.delete(LOCK_KEY)


async def _has_yure_keys(redis: Redis) -> bool:
    async for key in redis.scan_iter(match="*yure:*", count=100):
        if key not in (LOCK_KEY, LOCK_KEY.encode()):
            return True
    return False
