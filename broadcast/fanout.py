"""The pieces the hub fans out with: a connection (:class:`Subscriber`), the encodings
of one batch (:class:`Frames`), the buffer limits of one write turn
(:class:`WriteBudget`) and the write of the same bytes to many connections
(:func:`write_each`).

Driver module (a subscriber owns an asyncio transport); the hub (:mod:`broadcast.hub`)
does the dispatching, :mod:`broadcast.index` the matching.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from yure.broadcast.envelope import Entry, StreamId
from yure.broadcast.filter import Filter
from yure.broadcast.frames import Encoding, sse_frames, ws_frames
from yure.broadcast.index import Group
from yure.broadcast.limits import Limits

__all__ = ["Encoding", "Frames", "Subscriber", "WriteBudget", "write_each"]


class Subscriber:
    """One stream connection as the hub sees it: a transport and a position."""

    __slots__ = (
        "done",
        "encoding",
        "filter",
        "group",
        "joined_at",
        "last_pos",
        "peer",
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
    """The send-buffer bounds of one write turn, and the connections it found over them.

    Attributes:
        high_bytes: above this a connection is timed in ``over``.
        hard_bytes: above this a connection goes on ``slow`` (to be closed).
        now: the loop time of this turn.
        over: connections above ``high_bytes`` with the time they first were (the hub's).
        slow: connections found closing or over ``hard_bytes`` in this turn.
    """

    high_bytes: int
    hard_bytes: int
    now: float
    over: dict[Subscriber, float]
    slow: list[Subscriber] = dataclasses.field(default_factory=list)

    @classmethod
    def from_limits(
        cls, limits: Limits, *, over: dict[Subscriber, float], now: float
    ) -> WriteBudget:
        return cls(
            high_bytes=limits.send_buffer_high_bytes,
            hard_bytes=limits.max_send_buffer_bytes,
            now=now,
            over=over,
        )


def write_each(members: Sequence[Subscriber], data: bytes, budget: WriteBudget) -> None:
    """Write the same pre-encoded bytes to each member's transport (the hot path: inline,
    no await; the transport buffer is the connection's bounded send queue).

    A closing transport or one whose write buffer passed ``hard_bytes`` goes on
    ``budget.slow`` (to be closed); one above ``high_bytes`` is timed in ``budget.over``.
    """
    high = budget.high_bytes
    hard = budget.hard_bytes
    slow = budget.slow
    over = budget.over
    for sub in members:
        transport = sub.transport
        if transport.is_closing():
            slow.append(sub)
            continue
        transport.write(data)
        size = transport.get_write_buffer_size()
        if size > high:
            if size > hard:
                slow.append(sub)
            elif sub not in over:
                over[sub] = budget.now
