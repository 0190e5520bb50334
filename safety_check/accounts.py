"""Pseudonymous accounts: a handle and an argon2id password hash (driver).

No real name, no e-mail, nothing else about the person. Hashing is shared fairly between
client addresses (:mod:`.hashing`); a login for an unknown handle still verifies against
a dummy hash, so timing does not tell which handles exist.
"""

from __future__ import annotations

import logging

from redis.asyncio.client import Pipeline

from yure.safety_check import keys, store, voices
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.errors import Conflict, Unauthorized
from yure.safety_check.hashing import PasswordHasher
from yure.safety_check.model import Account
from yure.safety_check.text import handle_skeleton
from yure.safety_check.tokens import new_id

log = logging.getLogger(__name__)

#: Keys asked for per SCAN step of the skeleton backfill.
SCAN_COUNT = 500


class Accounts:
    """Create and look up accounts."""

    def __init__(self, redis: store.Redis, *, config: SafetyConfig, clock: Clock) -> None:
        self._redis = redis
        self._config = config
        self._clock = clock
        self._hasher = PasswordHasher(config)

    async def create(self, handle: str, password: str, *, subject: str, network: str) -> Account:
        """Create an account for a canonical ``handle``; ``subject`` is the client's
        address subject (its turn in the hashing queue), ``network`` its network subject
        (the account's sign-up cohort, :mod:`.voices`).

        Raises:
            Conflict: the handle, or one with the same skeleton (``al1ce1`` for
                ``alice1``: :func:`.text.handle_skeleton`), is taken.
            RateLimited: ``subject`` has its share of hashes waiting.
            StoreError: Redis failed or hashing is saturated.
        """
        timeout = self._config.redis_timeout_s
        skeleton_key = keys.skeleton(handle_skeleton(handle))
        if await store.call(self._redis.exists(keys.handle(handle), skeleton_key), timeout):
            raise Conflict("handle is taken (or looks like one that is)")
        now = self._clock()
        account = Account(
            uid=new_id(),
            handle=handle,
            password_hash=await self._hasher.hash(password, subject=subject),
            created_at=now,
            cohort=voices.cohort_of(network, now),
        )

        async def body(pipe: Pipeline) -> Account:
            if await pipe.exists(keys.handle(handle), skeleton_key):
                raise Conflict("handle is taken (or looks like one that is)")
            store.begin(pipe)
            queue_account(pipe, account)
            return account

        created = await store.transaction(
            self._redis, [keys.handle(handle), skeleton_key], body, timeout_s=timeout
        )
        await self._count_signup(created.cohort)
        log.info("account created")
        return created

    async def _count_signup(self, cohort: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(keys.signups(cohort))
            pipe.expire(keys.signups(cohort), round(2 * voices.COHORT_WINDOW_S))
            made = int((await store.call(pipe.execute(), self._config.redis_timeout_s))[0])
        if made >= voices.COHORT_MIN_SIGNUPS:
            await store.call(
                self._redis.set(keys.cohort(cohort), "1"), self._config.redis_timeout_s
            )

    async def voice(self, uid: str, network: str) -> tuple[str, ...]:
        """The voice tokens of a report by ``uid`` from ``network`` (:mod:`.voices`).

        Raises:
            StoreError: Redis failed.
        """
        account = await self.get(uid)
        if account is None:
            return (network, f"acct:{uid}")
        bursty = bool(
            account.cohort
            and await store.call(
                self._redis.exists(keys.cohort(account.cohort)), self._config.redis_timeout_s
            )
        )
        token = voices.account_token(
            uid,
            created_at=account.created_at,
            cohort=account.cohort,
            cohort_signups=voices.COHORT_MIN_SIGNUPS if bursty else 0,
            now=self._clock(),
        )
        return voices.voice(network, token)

    async def verify(self, handle: str, password: str, *, subject: str) -> Account:
        """The account of ``handle`` if ``password`` is right.

        Raises:
            Unauthorized: unknown handle or wrong password (indistinguishable).
            RateLimited: ``subject`` has its share of hashes waiting.
            StoreError: Redis failed or hashing is saturated.
        """
        account = await self.by_handle(handle)
        stored = None if account is None else account.password_hash
        if not await self._hasher.verify(stored, password, subject=subject) or account is None:
            raise Unauthorized("wrong handle or password")
        if self._hasher.needs_rehash(account.password_hash):
            new_hash = await self._hasher.hash(password, subject=subject)
            await store.call(
                self._redis.hset(keys.user(account.uid), "pw", new_hash),
                self._config.redis_timeout_s,
            )
        return account

    async def backfill_skeletons(self) -> int:
        """Give every handle made before skeletons were kept its ``skel:`` key (once per
        database: a marker key records it). Returns how many keys were added.

        Raises:
            StoreError: Redis failed.
        """
        timeout = self._config.redis_timeout_s
        if await store.call(self._redis.exists(keys.SKELETONS_DONE), timeout):
            return 0
        added = 0
        prefix = keys.handle("")
        cursor: int = 0
        while True:
            cursor, found = await store.call(
                self._redis.scan(cursor, match=prefix + "*", count=SCAN_COUNT), timeout
            )
            for raw in found:
                handle = store.text(raw)[len(prefix) :]
                uid = store.opt_text(await store.call(self._redis.get(store.text(raw)), timeout))
                if uid is None:
                    continue
                skeleton_key = keys.skeleton(handle_skeleton(handle))
                if await store.call(self._redis.set(skeleton_key, uid, nx=True), timeout):
                    added += 1
            if int(cursor) == 0:
                break
        await store.call(self._redis.set(keys.SKELETONS_DONE, "1"), timeout)
        if added:
            log.info("handle skeletons backfilled count=%d", added)
        return added

    async def set_password(self, uid: str, password: str, *, subject: str) -> None:
        """Replace the password of ``uid`` (recovery).

        Raises:
            RateLimited: ``subject`` has its share of hashes waiting.
            StoreError: Redis failed or hashing is saturated.
        """
        new_hash = await self._hasher.hash(password, subject=subject)
        await store.call(
            self._redis.hset(keys.user(uid), "pw", new_hash), self._config.redis_timeout_s
        )
        log.info("password reset with a recovery code")

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
            cohort=fields.get("cohort", ""),
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


def queue_account(pipe: Pipeline, account: Account) -> None:
    """Queue the writes that store a new ``account`` (its handle, the handle's skeleton and
    the ``user:`` hash) on ``pipe``: the layout :meth:`Accounts.create` writes, which
    ``bench/safety_live_bench.py`` also uses to seed accounts in bulk."""
    pipe.set(keys.handle(account.handle), account.uid)
    pipe.set(keys.skeleton(handle_skeleton(account.handle)), account.uid)
    pipe.hset(
        keys.user(account.uid),
        mapping={
            "handle": account.handle,
            "pw": account.password_hash,
            "created_at": repr(account.created_at),
            "cohort": account.cohort,
        },
    )
