"""Sessions: bearer tokens stored as SHA-256 with an expiry, revocable (driver).

The token itself is returned once and never stored; ``session:<sha256>`` holds the uid and
expires after ``session_ttl_s`` (Redis PEXPIRE: an expired session is gone, not flagged).
"""

from __future__ import annotations

import logging

from yure.safety_check import keys, store
from yure.safety_check.config import Clock, SafetyConfig
from yure.safety_check.tokens import hash_token, is_token, new_token

log = logging.getLogger(__name__)

#: KEYS: session keys. Returns the (1-based) positions of those that no longer exist: one
#: command for a whole sweep of the live channels' sessions, however many.
MISSING_LUA = """
local gone = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then gone[#gone + 1] = i end
end
return gone
"""


class Sessions:
    """Issue, resolve and revoke session tokens."""

    def __init__(self, redis: store.Redis, *, config: SafetyConfig, clock: Clock) -> None:
        self._redis = redis
        self._config = config
        self._clock = clock
        self._missing = redis.register_script(MISSING_LUA)

    async def issue(self, uid: str) -> str:
        """A new session token for ``uid`` (shown to the client once).

        Raises:
            StoreError: Redis failed.
        """
        token = new_token()
        token_hash = hash_token(token)
        ttl_ms = store.ms(self._config.session_ttl_s)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                keys.session(token_hash),
                mapping={"uid": uid, "created_at": repr(self._clock())},
            )
            pipe.pexpire(keys.session(token_hash), ttl_ms)
            pipe.sadd(keys.user_sessions(uid), token_hash)
            pipe.pexpire(keys.user_sessions(uid), ttl_ms)
            await store.call(pipe.execute(), self._config.redis_timeout_s)
        return token

    async def resolve(self, token: str) -> tuple[str, str] | None:
        """``(uid, token_hash)`` of a live session, or None (unknown, expired, revoked or
        not token-shaped).

        Raises:
            StoreError: Redis failed.
        """
        if not is_token(token):
            return None
        token_hash = hash_token(token)
        return await self.resolve_hash(token_hash)

    async def resolve_hash(self, token_hash: str) -> tuple[str, str] | None:
        """Like :meth:`resolve` for an already hashed token (live channels re-check).

        Raises:
            StoreError: Redis failed.
        """
        uid = await store.call(
            self._redis.hget(keys.session(token_hash), "uid"), self._config.redis_timeout_s
        )
        return None if uid is None else (store.text(uid), token_hash)

    async def alive(self, token_hashes: list[str]) -> set[str]:
        """Which of ``token_hashes`` are live sessions (one script, one round trip: the
        live channels of a process re-check theirs together).

        Raises:
            StoreError: Redis failed.
        """
        if not token_hashes:
            return set()
        gone = await store.call(
            self._missing(keys=[keys.session(h) for h in token_hashes]),
            self._config.redis_timeout_s,
        )
        return set(token_hashes) - {token_hashes[int(i) - 1] for i in gone}

    async def revoke(self, uid: str, token_hash: str) -> None:
        """End one session.

        Raises:
            StoreError: Redis failed.
        """
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.session(token_hash))
            pipe.srem(keys.user_sessions(uid), token_hash)
            await store.call(pipe.execute(), self._config.redis_timeout_s)

    async def revoke_all(self, uid: str) -> int:
        """End every session of ``uid`` (a password was reset); returns how many.

        Raises:
            StoreError: Redis failed.
        """
        timeout = self._config.redis_timeout_s
        hashes = [
            store.text(h)
            for h in await store.call(self._redis.smembers(keys.user_sessions(uid)), timeout)
        ]
        async with self._redis.pipeline(transaction=True) as pipe:
            for token_hash in hashes:
                pipe.delete(keys.session(token_hash))
            pipe.delete(keys.user_sessions(uid))
            await store.call(pipe.execute(), timeout)
        return len(hashes)
