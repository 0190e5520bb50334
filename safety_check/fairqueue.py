"""A bounded queue shared fairly between subjects (pure; no asyncio, no clock).

Each subject (a client address) has its own FIFO of at most ``max_waiting_per_subject``
items, and all of them together at most ``max_waiting``. :meth:`FairQueue.pop` serves
the waiting subject that has asked for the fewest items since it began waiting (ties:
the one waiting longest), one item per turn — fair queuing in the spirit of Demers,
Keshav and Shenker (SIGCOMM 1989) with unit-cost items. A flood from a few addresses
therefore fills only their own share, and an address that is not flooding is served
next, not after one item of every flooding address (too slow when each item is an
argon2id hash of about a second).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Refusal(StrEnum):
    """Why :meth:`FairQueue.push` refused an item."""

    #: The subject already has its whole share waiting.
    SUBJECT_FULL = "subject_full"
    #: The queue as a whole is full.
    QUEUE_FULL = "queue_full"


class FairQueue(Generic[T]):
    """Per-subject FIFOs served round-robin, bounded per subject and in total."""

    def __init__(self, *, max_waiting: int, max_waiting_per_subject: int) -> None:
        if max_waiting < 1 or max_waiting_per_subject < 1:
            raise ValueError("max_waiting and max_waiting_per_subject must be >= 1")
        self.max_waiting = max_waiting
        self.max_waiting_per_subject = max_waiting_per_subject
        #: Waiting subjects, longest-waiting first; a subject moves to the end when served.
        self._queues: OrderedDict[str, deque[T]] = OrderedDict()
        #: Items pushed per waiting subject since it began waiting.
        self._asked: dict[str, int] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, subject: str, item: T) -> Refusal | None:
        """Queue ``item`` for ``subject``; None when queued, else why it was refused."""
        waiting = self._queues.get(subject)
        if waiting is not None and len(waiting) >= self.max_waiting_per_subject:
            return Refusal.SUBJECT_FULL
        if self._size >= self.max_waiting:
            return Refusal.QUEUE_FULL
        if waiting is None:
            waiting = self._queues[subject] = deque()
            self._asked[subject] = 0
        waiting.append(item)
        self._asked[subject] += 1
        self._size += 1
        return None

    def pop(self) -> T | None:
        """The next item: of the waiting subject that asked for the fewest, or None when
        nothing waits."""
        if not self._queues:
            return None
        # min() keeps the first of equals: the subject waiting longest wins ties.
        subject = min(self._queues, key=self._asked.__getitem__)
        waiting = self._queues[subject]
        item = waiting.popleft()
        self._size -= 1
        if waiting:
            self._queues.move_to_end(subject)
        else:
            self._forget(subject)
        return item

    def _forget(self, subject: str) -> None:
        del self._queues[subject]
        del self._asked[subject]

    def remove(self, subject: str, item: T) -> bool:
        """Take ``item`` out (its waiter gave up); False when it is not waiting."""
        waiting = self._queues.get(subject)
        if waiting is None or item not in waiting:
            return False
        waiting.remove(item)
        self._size -= 1
        if not waiting:
            self._forget(subject)
        return True
