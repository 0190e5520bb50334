"""The bytes waiting in this process's stream connections, bounded before they are written.

Driver module. A connection's send queue is its asyncio transport buffer. Clients that
never read must not make the server hold their history (issue 10: 200 such connections
once took 2.7 GB), so the buffers are bounded three ways, all checked *before* a write:

* a live write that would take a connection past ``max_send_buffer_bytes``, or its
  address past ``max_send_buffer_bytes_per_ip``, is not made: the connection is dropped
  (it resumes with ``since``);
* a replay writes one chunk at a time and only when the chunk fits under
  ``send_buffer_high_bytes`` (and the address's budget): :meth:`SendBuffers.room` waits
  for the client to drain, so a client that stops reading stops its replay;
* a connection above ``send_buffer_high_bytes`` for ``slow_consumer_after_s`` is dropped,
  and an address over its budget loses its *stalled* connections (nothing read since the
  last look), fullest first, before any that reads: one burst written to a healthy
  connection may take it above the high mark for a moment, which must not make it pay
  for the stalled connections of its address (they share a NAT or a proxy).

A dropped slow connection is aborted: its buffer is freed at once (no grace period).

asyncio transports tell only their own protocol (aiohttp's) when they drain, so the
buffers are looked at on a short tick (:data:`BUFFER_TICK_S`) while any is non-empty; a
connection that keeps up has an empty buffer after each write and costs nothing here.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable

from yure.broadcast.fanout import Subscriber, WriteBudget
from yure.broadcast.limits import Limits

#: How often non-empty buffers are looked at (drain wake-ups, slow and budget checks).
BUFFER_TICK_S = 0.02


class SendBuffers:
    """The hub's account of bytes waiting per connection and per address.

    Args:
        limits: the caps.
        drop: closes a connection found too slow (the hub's; it calls :meth:`forget`).
    """

    def __init__(self, limits: Limits, drop: Callable[[Subscriber], None]) -> None:
        self.limits = limits
        self._drop = drop
        #: connections above the high mark, with the loop time they first were
        self.over: dict[Subscriber, float] = {}
        #: bytes last seen waiting, per client address (connections with a non-empty buffer)
        self.peer_bytes: collections.Counter[str] = collections.Counter()
        #: connections whose buffer was non-empty when last seen
        self.charged: set[Subscriber] = set()
        #: replays waiting for room: (bytes wanted, loop time it started waiting, wake-up)
        self._waiters: dict[Subscriber, tuple[int, float, asyncio.Future[None]]] = {}

    def budget(self) -> WriteBudget:
        """The budget of one write turn (now)."""
        return WriteBudget.from_limits(
            self.limits,
            now=asyncio.get_running_loop().time(),
            over=self.over,
            peer_bytes=self.peer_bytes,
            charged=self.charged,
        )

    def forget(self, sub: Subscriber) -> None:
        """Stop accounting for ``sub`` (closed); a replay waiting for it wakes up."""
        if sub.buffered:
            self._charge(sub, 0)
        self.charged.discard(sub)
        self.over.pop(sub, None)
        waiter = self._waiters.pop(sub, None)
        if waiter is not None and not waiter[2].done():
            waiter[2].set_result(None)

    async def room(self, sub: Subscriber, need: int) -> None:
        """Return when ``need`` more bytes fit in ``sub``'s buffer (at once when they do),
        or when ``sub`` was closed meanwhile (the caller checks ``sub.closed``)."""
        if self._fits(sub, need):
            return
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        self._waiters[sub] = (need, loop.time(), wake)
        try:
            await wake
        finally:
            if self._waiters.get(sub, (0, 0.0, None))[2] is wake:
                del self._waiters[sub]

    async def run(self) -> None:
        """Look at the non-empty buffers every tick until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(BUFFER_TICK_S)
            self.tick(loop.time())

    def tick(self, now: float) -> None:
        """Refresh what is waiting; drop slow connections; wake replays that have room."""
        limits = self.limits
        high = limits.send_buffer_high_bytes
        for sub in list(self.charged):
            size = sub.transport.get_write_buffer_size()
            sub.stalled = size >= sub.buffered  # writes raise ``buffered``, reads lower size
            self._charge(sub, size)
            if size > high:
                self.over.setdefault(sub, now)
            else:
                self.over.pop(sub, None)
        for sub, since in list(self.over.items()):
            if now - since >= limits.slow_consumer_after_s:
                self._drop(sub)
        cap = limits.max_send_buffer_bytes_per_ip
        for peer in [p for p, total in self.peer_bytes.items() if total > cap]:
            self._shed(peer, cap)
        for sub, (need, since, wake) in list(self._waiters.items()):
            if sub.closed or sub.transport.is_closing():
                self._drop(sub)
            elif self._fits(sub, need):
                if not wake.done():
                    wake.set_result(None)
            elif (
                now - since >= limits.slow_consumer_after_s
                and sub.transport.get_write_buffer_size()
            ):
                self._drop(sub)  # waited that long and did not read what it had

    def _fits(self, sub: Subscriber, need: int) -> bool:
        size = sub.transport.get_write_buffer_size()
        if size and size + need > self.limits.send_buffer_high_bytes:
            return False
        others = self.peer_bytes.get(sub.peer, 0) - sub.buffered
        # A connection with nothing waiting may go past a full address budget: the
        # address's fullest connections (those not reading) are shed on the next tick.
        return size == 0 or others + size + need <= self.limits.max_send_buffer_bytes_per_ip

    def _shed(self, peer: str, cap: int) -> None:
        """Drop ``peer``'s connections until its buffers fit ``cap``: the stalled ones
        first, fullest first, then (only if still over) the fullest that read."""
        fullest = sorted(
            (s for s in self.charged if s.peer == peer),
            key=lambda s: (s.stalled, s.buffered),
            reverse=True,
        )
        for sub in fullest:
            if self.peer_bytes.get(peer, 0) <= cap:
                return
            self._drop(sub)

    def _charge(self, sub: Subscriber, size: int) -> None:
        peer = sub.peer
        total = self.peer_bytes[peer] + size - sub.buffered
        if total > 0:
            self.peer_bytes[peer] = total
        else:
            self.peer_bytes.pop(peer, None)
        sub.buffered = size
        if not size:
            sub.stalled = False
        if size:
            self.charged.add(sub)
        else:
            self.charged.discard(sub)
