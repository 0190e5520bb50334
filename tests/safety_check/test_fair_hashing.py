"""Password hashing is shared fairly between addresses (issue 10 #5): a bounded queue with
a per-address share, served round-robin, so a flood from a few addresses cannot starve
a login from another one. Timing is measured in the bench (``login_flood``); here the
order of service is checked."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from yure.safety_check.errors import RateLimited, StoreError
from yure.safety_check.fairqueue import FairQueue, Refusal
from yure.safety_check.hashing import FairGate

FLOOD_ADDRESSES = 10
FLOOD_REQUESTS = 150


def test_round_robin_serves_a_newcomer_before_the_flood_drains() -> None:
    queue: FairQueue[str] = FairQueue(max_waiting=64, max_waiting_per_subject=4)
    refused = 0
    for n in range(FLOOD_REQUESTS):
        if queue.push(f"flood{n % FLOOD_ADDRESSES}", f"junk{n}") is not None:
            refused += 1
    assert len(queue) == FLOOD_ADDRESSES * 4
    assert refused == FLOOD_REQUESTS - FLOOD_ADDRESSES * 4
    assert queue.push("owner", "legit") is None
    order = [queue.pop() for _ in range(len(queue))]
    assert queue.pop() is None
    # The address that asked for least goes first.
    assert order[0] == "legit"


def test_a_newcomer_is_served_next_while_the_flood_goes_on() -> None:
    queue: FairQueue[str] = FairQueue(max_waiting=64, max_waiting_per_subject=4)
    for n in range(FLOOD_REQUESTS):
        queue.push(f"flood{n % FLOOD_ADDRESSES}", f"junk{n}")
    served = [queue.pop() for _ in range(FLOOD_ADDRESSES + 3)]
    assert None not in served
    assert queue.push("owner", "legit") is None
    assert queue.pop() == "legit"
    assert queue.pop() != "legit"


def test_caps_and_removal() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=3, max_waiting_per_subject=2)
    assert queue.push("a", 1) is None
    assert queue.push("a", 2) is None
    assert queue.push("a", 3) is Refusal.SUBJECT_FULL
    assert queue.push("b", 4) is None
    assert queue.push("c", 5) is Refusal.QUEUE_FULL
    assert queue.remove("a", 1) and not queue.remove("a", 1) and not queue.remove("z", 1)
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [4, 2, None, None]
    # Ties go to the subject waiting longest; fewer asks go first.
    queue = FairQueue(max_waiting=10, max_waiting_per_subject=5)
    for subject, item in (("x", 1), ("y", 2), ("x", 3), ("y", 4), ("y", 5), ("z", 6)):
        queue.push(subject, item)
    assert [queue.pop() for _ in range(7)] == [6, 1, 3, 2, 4, 5, None]
    with pytest.raises(ValueError):
        FairQueue(max_waiting=0, max_waiting_per_subject=1)


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (bounded: 10 s)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in 10 s")


async def test_gate_serves_the_owner_before_the_flood_drains() -> None:
    gate = FairGate(slots=1, max_waiting=64, max_waiting_per_subject=4)
    turns = threading.Semaphore(0)
    done: list[str] = []

    def work(name: str) -> str:
        assert turns.acquire(timeout=10)
        return name

    async def submit(subject: str, name: str) -> None:
        done.append(await gate.run(subject, work, name))

    flood = [
        asyncio.create_task(submit(f"flood{n % FLOOD_ADDRESSES}", f"junk{n}"))
        for n in range(FLOOD_REQUESTS)
    ]
    await until(lambda: sum(t.done() for t in flood) == FLOOD_REQUESTS - 1 - 4 * FLOOD_ADDRESSES)
    owner = asyncio.create_task(submit("owner", "legit"))
    # Let the hashes through one at a time and watch the order they finish in.
    while not owner.done():
        finished = len(done)
        turns.release()
        await until(lambda finished=finished: len(done) > finished)  # type: ignore[misc]
    # The owner came after the flood; it waits only for the hash already running.
    assert done.index("legit") <= 1
    for _ in range(FLOOD_REQUESTS):
        turns.release()
    outcomes = await asyncio.gather(*flood, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, RateLimited)]
    assert len(refused) == FLOOD_REQUESTS - 1 - 4 * FLOOD_ADDRESSES
    assert all(o is None or isinstance(o, RateLimited) for o in outcomes)


async def test_gate_full_queue_is_unavailable() -> None:
    gate = FairGate(slots=1, max_waiting=1, max_waiting_per_subject=1)
    hold = threading.Event()
    first = asyncio.create_task(gate.run("a", hold.wait, 10))
    await until(lambda: gate._free == 0)  # first holds the slot
    second = asyncio.create_task(gate.run("b", hold.wait, 10))
    await until(lambda: len(gate._queue) == 1)  # second waits in the queue
    with pytest.raises(StoreError):
        await gate.run("c", hold.wait, 10)
    # A waiter that gives up leaves the queue.
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    hold.set()
    assert await first
    assert await gate.run("c", hold.wait, 10)
