"""The pieces the hub fans out with: a connection (:class:`Subscriber`), subscribers
sharing a filter (:class:`Group`), the encodings of one batch (:class:`Frames`) and
the write of those bytes to every member (:func:`write_each`).

Driver module (a subscriber owns an asyncio transport); the hub (:mod:`broadcast.hub`)
does the dispatching.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import Enum

from yure.broadcast.envelope import Entry, StreamId
from yure.broadcast.filter import Filter
from yure.broadcast.frames import sse_frames, ws_frames
from yure.broadcast.limits import Limits


class Encoding(Enum):
    """How a connection frames messages."""

    WS = "ws"
    SSE = "sse"


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
        self.group: Group | None = None
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


class Group:
    """Subscribers sharing one filter; they receive identical bytes."""

    __slots__ = ("filter", "last_pos", "members", "snapshot_sse", "snapshot_ws")

    def __init__(self, flt: Filter) -> None:
        self.filter = flt
        self.members: set[Subscriber] = set()
        self.last_pos: StreamId = (0, 0)
        self.snapshot_ws: tuple[Subscriber, ...] | None = None
        self.snapshot_sse: tuple[Subscriber, ...] | None = None

    def snapshots(self) -> tuple[tuple[Subscriber, ...], tuple[Subscriber, ...]]:
        if self.snapshot_ws is None or self.snapshot_sse is None:
            self.snapshot_ws = tuple(s for s in self.members if s.encoding is Encoding.WS)
            self.snapshot_sse = tuple(s for s in self.members if s.encoding is Encoding.SSE)
        return self.snapshot_ws, self.snapshot_sse

    def changed(self) -> None:
        self.snapshot_ws = self.snapshot_sse = None


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


def write_each(
    members: Sequence[Subscriber],
    data: bytes,
    slow: list[Subscriber],
    over: dict[Subscriber, float],
    now: float,
    high: int,
    hard: int,
) -> None:
    """Write the same pre-encoded bytes to each member's transport (the hot path: inline,
    no await; the transport buffer is the connection's bounded send queue).

    A closing transport or one whose write buffer passed ``hard`` goes on ``slow`` (to be
    closed); one above ``high`` is timed in ``over`` (closed if it stays there).
    """
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
                over[sub] = now
