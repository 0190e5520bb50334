"""The address budget drops the connections that do not read, not a reader caught by a burst.

One write of a coalesced burst can take a connection that reads above the high mark for a
moment; when the other connections of its address (a NAT, a proxy) do not read, it must not
pay for them (CI flake of tests/web/test_stream_memory.py: the healthy client was kicked).
The transports here only count bytes: what the client has read is set by the test.
"""

from __future__ import annotations

import asyncio

from yure.broadcast.buffers import SendBuffers
from yure.broadcast.fanout import Encoding, Subscriber, write_each
from yure.broadcast.limits import Limits

KIB = 1024
LIMITS = Limits(
    send_buffer_high_bytes=64 * KIB,
    max_send_buffer_bytes=2**20,
    max_send_buffer_bytes_per_ip=256 * KIB,
    slow_consumer_after_s=60.0,
)


class Pipe(asyncio.WriteTransport):
    """A transport whose client reads only when told (:meth:`read`)."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.waiting += len(data)

    def get_write_buffer_size(self) -> int:
        return self.waiting

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.closing = True
        self.waiting = 0

    def read(self, size: int) -> None:
        self.waiting -= min(size, self.waiting)


def accounts() -> tuple[SendBuffers, list[Subscriber]]:
    """Buffers whose drops are recorded (and forgotten, as the hub's kick does)."""
    dropped: list[Subscriber] = []

    def drop(sub: Subscriber) -> None:
        dropped.append(sub)
        buffers.forget(sub)

    buffers = SendBuffers(LIMITS, drop)
    return buffers, dropped


def connection() -> tuple[Subscriber, Pipe]:
    pipe = Pipe()
    return Subscriber(pipe, Encoding.WS, "192.0.2.1"), pipe


async def test_a_reader_above_the_high_mark_outlives_stalled_neighbours() -> None:
    buffers, dropped = accounts()
    stalled = [sub for sub, _ in (connection() for _ in range(3))]
    reader, reader_pipe = connection()
    members = [*stalled, reader]
    # A burst coalesced into one large write takes every connection above the high mark
    # and the address (400 KiB) over its budget.
    write_each(members, b"b" * 100 * KIB, buffers.budget())
    reader_pipe.read(10 * KIB)  # the reader reads, the others do not
    budget = buffers.budget()
    write_each(members, b"l" * 20 * KIB, budget)
    assert budget.slow == stalled, "only the connections that do not read get no more"
    assert reader_pipe.waiting == 110 * KIB
    assert dropped == []


async def test_a_stalled_connection_is_shed_before_a_fuller_reader() -> None:
    buffers, dropped = accounts()
    stalled, _ = connection()
    reader, reader_pipe = connection()
    write_each([stalled], b"s" * 100 * KIB, buffers.budget())
    write_each([reader], b"r" * 200 * KIB, buffers.budget())
    loop = asyncio.get_running_loop()
    reader_pipe.read(10 * KIB)
    buffers.tick(loop.time())  # 290 KiB over 256: one must go, the one that reads stays
    assert dropped == [stalled]
