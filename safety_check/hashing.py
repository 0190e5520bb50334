"""argon2id password hashing, shared fairly between client addresses (driver).

argon2id with m=64 MiB is deliberately expensive, so hashing is the resource a flood of
junk logins exhausts. :class:`FairGate` runs at most ``slots`` hashes at once in worker
threads; the rest wait in a :class:`~safety_check.fairqueue.FairQueue` keyed by the
client's address subject: each address may have ``max_waiting_per_subject`` hashes
waiting (more answer 429 at once), all addresses together ``max_waiting`` (more answer
503), and a free slot goes to the least-served waiting address. A login from an address
that is not flooding is therefore served as soon as a slot frees.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from yure.safety_check.config import SafetyConfig
from yure.safety_check.errors import RateLimited, StoreError
from yure.safety_check.fairqueue import FairQueue, Refusal

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Retry-After of a login refused because its address has its whole share waiting.
SHARE_FULL_RETRY_S = 1


class FairGate:
    """Run blocking functions in threads, ``slots`` at a time, fairly between subjects."""

    def __init__(self, *, slots: int, max_waiting: int, max_waiting_per_subject: int) -> None:
        self._free = slots
        self._queue: FairQueue[asyncio.Future[None]] = FairQueue(
            max_waiting=max_waiting, max_waiting_per_subject=max_waiting_per_subject
        )

    async def run(self, subject: str, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` in a worker thread once ``subject``'s turn comes.

        Raises:
            RateLimited: ``subject`` already has its share waiting.
            StoreError: the queue is full.
        """
        if self._free > 0 and len(self._queue) == 0:
            self._free -= 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            refusal = self._queue.push(subject, turn)
            if refusal is Refusal.SUBJECT_FULL:
                raise RateLimited(
                    "too many logins waiting from this address",
                    retry_after_s=SHARE_FULL_RETRY_S,
                )
            if refusal is Refusal.QUEUE_FULL:
                log.warning("hash queue full waiting=%d", len(self._queue))
                raise StoreError("busy hashing passwords, retry")
            try:
                await turn
            except asyncio.CancelledError:
                if not self._queue.remove(subject, turn):
                    self._release()  # the turn was granted just before the cancel
                raise
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the freed slot to the next waiter in round-robin order, or keep it."""
        while (turn := self._queue.pop()) is not None:
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1


def dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A PHC string (https://github.com/P-H-C/phc-string-format) with these parameters, a
    random salt and a random digest: verifying any password against it costs as much as
    against a real hash, and fails."""

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii").rstrip("=")

    params = f"m={memory_kib},t={time_cost},p={parallelism}"
    salt, digest = secrets.token_bytes(16), secrets.token_bytes(32)
    return f"$argon2id$v=19${params}${b64(salt)}${b64(digest)}"


class PasswordHasher:
    """argon2id (RFC 9106) behind a :class:`FairGate`."""

    def __init__(self, config: SafetyConfig) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=config.argon2_time_cost,
            memory_cost=config.argon2_memory_kib,
            parallelism=config.argon2_parallelism,
            type=argon2.Type.ID,
        )
        self._gate = FairGate(
            slots=config.argon2_concurrency,
            max_waiting=config.hash_max_waiting,
            max_waiting_per_subject=config.hash_max_waiting_per_address,
        )
        # Never matches, costs a full verification: for handles that do not exist.
        self._dummy = dummy_hash(
            config.argon2_time_cost, config.argon2_memory_kib, config.argon2_parallelism
        )

    async def hash(self, password: str, *, subject: str) -> str:
        """The PHC string of ``password``, hashed in ``subject``'s turn.

        Raises:
            RateLimited: ``subject`` has its share of hashes waiting.
            StoreError: the hashing queue is full.
        """
        return str(await self._gate.run(subject, self._hasher.hash, password))

    async def verify(self, stored: str | None, password: str, *, subject: str) -> bool:
        """Whether ``password`` matches ``stored`` (None: verify against a dummy and fail,
        so an unknown handle costs the same time as a known one).

        Raises:
            RateLimited: ``subject`` has its share of hashes waiting.
            StoreError: the hashing queue is full.
        """
        target = stored if stored is not None else self._dummy
        try:
            ok = bool(await self._gate.run(subject, self._hasher.verify, target, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than the current ones."""
        return bool(self._hasher.check_needs_rehash(stored))
