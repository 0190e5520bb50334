"""The pieces the hub fans out with: a connection (:class:`Subscriber`), the encodings
of one batch (:class:`Frames`), the buffer limits of one write turn
(:class:`WriteBudget`) and the write of the same bytes to many connections
(:func:`write_each`).

Driver module (a subscriber owns an asyncio transport); the hub (:mod:`broadcast.hub`)
does the dispatching, :mod:`broadcast.index` the matching.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import socket
from collections.abc import Sequence

from yure.broadcast.envelope import Entry, StreamId
from yure.broadcast.filter import Filter
from yure.broadcast.frames import Encoding, sse_frames, ws_frames
from yure.broadcast.index import Group
from yure.broadcast.limits import Limits

__all__ = [
    "Encoding",
    "Frames",
    "Subscriber",
    "WriteBudget",
    "limit_kernel_buffer",
    "write_each",
]


class Subscriber:
    """One stream connection as the hub sees it: a transport and a position."""

    __slots__ = (
        "buffered",
        "done",
        "encoding",
        "filter",
        "group",
        "joined_at",
        "last_pos",
        "peer",
        "stalled",
        "subscribes",
        "transport",
    )

    def __init__(self, transport: asyncio.WriteTransport, encoding: Encoding, peer: str) -> None:
        self.transport = transport
        self.encoding = encoding
        self.peer = peer
        self.filter: Filter | None = None
        self.group: Group[Subscriber] | None = None
        #: id of the last event written to this connection
        self.last_pos: StreamId = (0, 0)
        #: hub position when it joined its group
        self.joined_at: StreamId = (0, 0)
        self.subscribes = 0
        #: bytes last seen waiting in the transport (kept by broadcast.buffers)
        self.buffered = 0
        #: nothing of its buffer was read between the last two looks (kept by
        #: broadcast.buffers): a connection that reads is never taken for one that does not
        self.stalled = False
        #: resolved when the hub closed the connection (slow, shutdown) or saw it gone
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def closed(self) -> bool:
        return self.done.done()


class Frames:
    """The encodings of one set of matched entries, built on first use."""

    __slots__ = ("_sse", "_ws", "entries", "frame_count", "limits", "messages")

    def __init__(self, entries: list[Entry], messages: list[bytes], limits: Limits) -> None:
        self.entries = entries
        self.messages = messages
        self.limits = limits
        self.frame_count = 0
        self._ws: bytes | None = None
        self._sse: bytes | None = None

    def ws(self) -> bytes:
        if self._ws is None:
            self._ws, self.frame_count = ws_frames(
                self.messages,
                max_bytes=self.limits.max_frame_bytes,
                max_items=self.limits.max_events_per_frame,
            )
        return self._ws

    def sse(self) -> bytes:
        if self._sse is None:
            self._sse = sse_frames(self.entries, self.messages)
        return self._sse

    def encoded(self, encoding: Encoding) -> bytes:
        """The bytes for connections of ``encoding``."""
        return self.ws() if encoding is Encoding.WS else self.sse()

    def frames_for(self, encoding: Encoding) -> int:
        """Frames one connection of ``encoding`` receives (an SSE batch is one chunk)."""
        return self.frame_count if encoding is Encoding.WS else 1


@dataclasses.dataclass(frozen=True, slots=True)
class WriteBudget:
    """The send-buffer bounds of one write turn, the accounts it updates, and the
    connections it found over them (:mod:`broadcast.buffers` keeps the accounts).

    Attributes:
        high_bytes: above this a connection is timed in ``over``.
        hard_bytes: a write that would take a non-empty buffer past this is not made.
        peer_cap_bytes: a write that would take an address's buffers past this is not
            made to a connection of that address above ``high_bytes``.
        now: the loop time of this turn.
        over: connections above ``high_bytes`` with the time they first were.
        peer_bytes: bytes last seen waiting per client address.
        charged: connections last seen with a non-empty buffer.
        slow: connections found closing or refused a write in this turn (to be closed).
    """

    high_bytes: int
    hard_bytes: int
    peer_cap_bytes: int
    now: float
    over: dict[Subscriber, float]
    peer_bytes: collections.Counter[str]
    charged: set[Subscriber]
    slow: list[Subscriber] = dataclasses.field(default_factory=list)

    @classmethod
    def from_limits(
        cls,
        limits: Limits,
        *,
        now: float,
        over: dict[Subscriber, float],
        peer_bytes: collections.Counter[str],
        charged: set[Subscriber],
    ) -> WriteBudget:
        return cls(
            high_bytes=limits.send_buffer_high_bytes,
            hard_bytes=limits.max_send_buffer_bytes,
            peer_cap_bytes=limits.max_send_buffer_bytes_per_ip,
            now=now,
            over=over,
            peer_bytes=peer_bytes,
            charged=charged,
        )


def write_each(members: Sequence[Subscriber], data: bytes, budget: WriteBudget) -> None:
    """Write the same pre-encoded bytes to each member's transport (the hot path: inline,
    no await; the transport buffer is the connection's bounded send queue).

    The caps are checked before writing: a member whose non-empty buffer ``data`` would
    take past ``hard_bytes``, or that is stalled (read nothing since it was last looked at)
    above ``high_bytes`` while its address is over ``peer_cap_bytes``, gets nothing and
    goes on ``budget.slow``, as does a closing transport. A member that keeps up holds at
    most about one write (a burst's frames can take it above ``high_bytes`` for a moment)
    and is never refused because other connections of its address do not read.
    """
    size = len(data)
    high = budget.high_bytes
    hard = budget.hard_bytes
    slow = budget.slow
    over = budget.over
    peer_bytes = budget.peer_bytes
    for sub in members:
        transport = sub.transport
        if transport.is_closing():
            slow.append(sub)
            continue
        waiting = transport.get_write_buffer_size()
        sub.stalled = waiting >= sub.buffered > 0  # nothing read since the last look
        if waiting and (
            waiting + size > hard
            or (
                waiting > high
                and sub.stalled
                and peer_bytes[sub.peer] + size > budget.peer_cap_bytes
            )
        ):
            slow.append(sub)
            continue
        transport.write(data)
        after = transport.get_write_buffer_size()
        if after or sub.buffered:
            total = peer_bytes[sub.peer] + after - sub.buffered
            if total > 0:
                peer_bytes[sub.peer] = total
            else:
                del peer_bytes[sub.peer]
            sub.buffered = after
            if after:
                budget.charged.add(sub)
                if after > high and sub not in over:
                    over[sub] = budget.now
            else:
                budget.charged.discard(sub)


def limit_kernel_buffer(transport: asyncio.BaseTransport, size_bytes: int) -> None:
    """Cap the kernel's send buffer of ``transport``'s socket at ``size_bytes`` (0: leave
    the kernel's autotuning); a transport without a socket is left alone."""
    sock = transport.get_extra_info("socket")
    if size_bytes > 0 and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size_bytes)
