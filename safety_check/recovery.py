"""Recovery codes: how someone who forgot their password gets back in, without e-mail
(driver; issue 15).

At sign-up (and on request) an account gets :data:`RECOVERY_CODES` one-time codes, shown
once. Each is 12 random characters (59 bits) of an alphabet without look-alikes
(``k7wq-3m9x-p2rt``); only its SHA-256 is stored (a set ``recovery:<uid>``): the codes are
random, so a plain hash is as strong as a slow one here, and guessing is throttled like
logins. Redeeming a code removes it (SREM: atomic, so a code works exactly once).
"""

from __future__ import annotations

import hashlib
import secrets

from yure.safety_check import keys, store
from yure.safety_check.config import SafetyConfig

#: Codes issued at once; a new set replaces the old one.
RECOVERY_CODES = 10
#: Characters of a code (12 of 31 symbols: 59 bits), in groups of 4.
CODE_CHARS = 12
CODE_GROUP = 4
#: Lower-case letters and digits without 0/o, 1/l/i (Crockford's base32 idea).
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
#: Longest code field accepted (spaces and hyphens allowed around the characters).
MAX_CODE_CHARS = 64


def new_code() -> str:
    """A fresh code, ``xxxx-xxxx-xxxx``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_CHARS, CODE_GROUP))


def canonical(code: str) -> str:
    """The code as stored before hashing: lower case, no spaces or hyphens."""
    return "".join(ch for ch in code.lower() if ch not in " -")


def code_hash(code: str) -> str:
    """SHA-256 hex of the canonical code."""
    return hashlib.sha256(canonical(code).encode("utf-8", "replace")).hexdigest()


class RecoveryCodes:
    """Issue and redeem the recovery codes of accounts."""

    def __init__(self, redis: store.Redis, *, config: SafetyConfig) -> None:
        self._redis = redis
        self._timeout_s = config.redis_timeout_s

    async def issue(self, uid: str) -> list[str]:
        """A new set of codes for ``uid``, replacing any earlier set (shown once).

        Raises:
            StoreError: Redis failed.
        """
        codes = [new_code() for _ in range(RECOVERY_CODES)]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.recovery(uid))
            pipe.sadd(keys.recovery(uid), *(code_hash(c) for c in codes))
            await store.call(pipe.execute(), self._timeout_s)
        return codes

    async def redeem(self, uid: str, code: str) -> int | None:
        """Burn ``code`` of ``uid``: the number of codes left, or None when it was not
        one of them (wrong, or used already).

        Raises:
            StoreError: Redis failed.
        """
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(keys.recovery(uid), code_hash(code))
            pipe.scard(keys.recovery(uid))
            removed, left = await store.call(pipe.execute(), self._timeout_s)
        return int(left) if int(removed) == 1 else None
