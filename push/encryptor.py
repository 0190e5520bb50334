"""Encrypting one message for many subscribers, in this process or in worker processes.

An ECDH agreement per message (RFC 8291 §3.1, a fresh sender key each time) is most of
the CPU a push costs, and it does not release the GIL, so the delivery job hands whole
batches to a process pool (:class:`PoolEncryptor`) while its event loop does the HTTP.
:class:`InlineEncryptor` does the same work in-process (tests, one-core machines).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
from collections.abc import Sequence
from typing import Protocol

from yure.push import ece
from yure.push.errors import SubscriptionError

#: Receivers per task sent to a worker process.
POOL_CHUNK = 250

#: A receiver as it crosses a process boundary: (p256dh, auth), base64url.
RawKeys = tuple[str, str]


def encrypt_many(payload: bytes, keys: Sequence[RawKeys]) -> list[bytes | None]:
    """One body per receiver (None where the stored keys are unusable)."""
    bodies: list[bytes | None] = []
    for p256dh, auth in keys:
        try:
            bodies.append(ece.encrypt(payload, ece.parse_receiver(p256dh, auth)))
        except SubscriptionError:
            bodies.append(None)
    return bodies


class Encryptor(Protocol):
    """Turns one payload and many receivers into bodies, in order."""

    async def encrypt(self, payload: bytes, keys: Sequence[RawKeys]) -> list[bytes | None]:
        """One body per receiver (None for unusable keys)."""
        ...


class InlineEncryptor:
    """Encrypts in the calling process."""

    async def encrypt(self, payload: bytes, keys: Sequence[RawKeys]) -> list[bytes | None]:
        """See :class:`Encryptor`."""
        return encrypt_many(payload, keys)


class PoolEncryptor:
    """Encrypts in a pool of worker processes (spawned, so no forked event loop)."""

    def __init__(self, processes: int) -> None:
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("spawn")
        )

    async def encrypt(self, payload: bytes, keys: Sequence[RawKeys]) -> list[bytes | None]:
        """See :class:`Encryptor`."""
        loop = asyncio.get_running_loop()
        chunks = [keys[i : i + POOL_CHUNK] for i in range(0, len(keys), POOL_CHUNK)]
        parts = await asyncio.gather(
            *(loop.run_in_executor(self._pool, encrypt_many, payload, chunk) for chunk in chunks)
        )
        return [body for part in parts for body in part]

    def close(self, *, wait: bool = False) -> None:
        """Stop the workers (pending work is cancelled)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)


def default_encryptor() -> InlineEncryptor | PoolEncryptor:
    """A pool with one worker per CPU when there are several CPUs, else in-process."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus is None or cpus < 2:
        return InlineEncryptor()
    return PoolEncryptor(cpus)
