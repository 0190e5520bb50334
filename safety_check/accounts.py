"""Pseudonymous accounts: a handle and an argon2id password hash (driver).

No real name, no e-mail, nothing else about the person. Hashing runs in a worker thread
under a semaphore (argon2id with m=64 MiB: a few computations at once, not hundreds); a
login for an unknown handle still verifies against a dummy hash, so timing does not tell
which handles exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from redis.asyncio.client import Pipeline

from yure.safety_check import keys, store
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.errors import Conflict, StoreError, Unauthorized
from yure.safety_check.model import Account
from yure.safety_check.tokens import new_id

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Logins/sign-ups waiting for a hashing slot at most; more answer 503 at once.
MAX_HASH_WAITERS = 64


class PasswordHasher:
    """argon2id (RFC 9106) in a thread pool, bounded in concurrency and in waiters."""

    def __init__(self, config: SafetyConfig) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=config.argon2_time_cost,
            memory_cost=config.argon2_memory_kib,
            parallelism=config.argon2_parallelism,
            type=argon2.Type.ID,
        )
        self._slots = asyncio.Semaphore(config.argon2_concurrency)
        self._waiting = 0
        self._dummy: str | None = None

    async def _run_bounded(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._waiting >= MAX_HASH_WAITERS:
            raise StoreError("busy hashing passwords, retry")
        self._waiting += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(func, *args, **kwargs)
        finally:
            self._waiting -= 1

    async def hash(self, password: str) -> str:
        """The PHC string of ``password``.

        Raises:
            StoreError: too many hashes waiting.
        """
        return str(await self._run_bounded(self._hasher.hash, password))

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (None: verify against a dummy and fail).

        Raises:
            StoreError: too many hashes waiting.
        """
        if self._dummy is None:
            self._dummy = await self.hash("not a password of anyone")
        target = stored if stored is not None else self._dummy
        try:
            ok = bool(await self._run_bounded(self._hasher.verify, target, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than the current ones."""
        return bool(self._hasher.check_needs_rehash(stored))


class Accounts:
    """Create and look up accounts."""

    def __init__(self, redis: store.Redis, *, config: SafetyConfig, clock: Clock) -> None:
        self._redis = redis
        self._config = config
        self._clock = clock
        self._hasher = PasswordHasher(config)

    async def create(self, handle: str, password: str) -> Account:
        """Create an account for a canonical ``handle``.

        Raises:
            Conflict: the handle is taken.
            StoreError: Redis failed or hashing is saturated.
        """
        timeout = self._config.redis_timeout_s
        if await store.call(self._redis.exists(keys.handle(handle)), timeout):
            raise Conflict("handle is taken")
        account = Account(
            uid=new_id(),
            handle=handle,
            password_hash=await self._hasher.hash(password),
            created_at=self._clock(),
        )

        async def body(pipe: Pipeline) -> Account:
            if await pipe.exists(keys.handle(handle)):
                raise Conflict("handle is taken")
            store.begin(pipe)
            pipe.set(keys.handle(handle), account.uid)
            pipe.hset(
                keys.user(account.uid),
                mapping={
                    "handle": handle,
                    "pw": account.password_hash,
                    "created_at": repr(account.created_at),
                },
            )
            return account

        created = await store.transaction(
            self._redis, [keys.handle(handle)], body, timeout_s=timeout
        )
        log.info("account created")
        return created

    async def verify(self, handle: str, password: str) -> Account:
        """The account of ``handle`` if ``password`` is right.

        Raises:
            Unauthorized: unknown handle or wrong password (indistinguishable).
            StoreError: Redis failed or hashing is saturated.
        """
        account = await self.by_handle(handle)
        stored = None if account is None else account.password_hash
        if not await self._hasher.verify(stored, password) or account is None:
            raise Unauthorized("wrong handle or password")
        if self._hasher.needs_rehash(account.password_hash):
            new_hash = await self._hasher.hash(password)
            await store.call(
                self._redis.hset(keys.user(account.uid), "pw", new_hash),
                self._config.redis_timeout_s,
            )
        return account

    async def uid_of(self, handle: str) -> str | None:
        """The uid holding canonical ``handle``, or None.

        Raises:
            StoreError: Redis failed.
        """
        value = await store.call(self._redis.get(keys.handle(handle)), self._config.redis_timeout_s)
        return store.opt_text(value)

    async def by_handle(self, handle: str) -> Account | None:
        """The account holding ``handle``, or None.

        Raises:
            StoreError: Redis failed.
        """
        uid = await self.uid_of(handle)
        return None if uid is None else await self.get(uid)

    async def get(self, uid: str) -> Account | None:
        """The account ``uid``, or None.

        Raises:
            StoreError: Redis failed.
        """
        fields = store.text_map(
            await store.call(self._redis.hgetall(keys.user(uid)), self._config.redis_timeout_s)
        )
        if "handle" not in fields:
            return None
        return Account(
            uid=uid,
            handle=fields["handle"],
            password_hash=fields.get("pw", ""),
            created_at=float(fields.get("created_at", "0")),
        )

    async def handles_of(self, uids: list[str]) -> dict[str, str]:
        """``{uid: handle}`` for the uids that exist.

        Raises:
            StoreError: Redis failed.
        """
        if not uids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid in uids:
                pipe.hget(keys.user(uid), "handle")
            values = await store.call(pipe.execute(), self._config.redis_timeout_s)
        return {uid: store.text(v) for uid, v in zip(uids, values, strict=True) if v is not None}
