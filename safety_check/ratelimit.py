"""Rate-limit arithmetic (pure): fixed windows counted per key.

A limit allows ``max_requests`` per ``window_s``-second window aligned on the epoch. The
driver (:mod:`safety_check.limiter`) increments one Redis counter per (limit, subject,
window) and asks :func:`decide` whether the count is allowed. A fixed window lets through at
most twice the rate across a boundary; that is the documented price of one INCR per check.
"""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True, slots=True)
class Limit:
    """``max_requests`` per ``window_s`` for one action, e.g. ``Limit("post_ip", 30, 60)``."""

    name: str
    max_requests: int
    window_s: int

    def __post_init__(self) -> None:
        if self.max_requests < 1 or self.window_s < 1:
            raise ValueError(f"limit {self.name}: max_requests and window_s must be >= 1")


def window_index(limit: Limit, now: float) -> int:
    """The number of the window ``now`` falls in."""
    return math.floor(now / limit.window_s)


def retry_after_s(limit: Limit, now: float) -> int:
    """Whole seconds until the current window ends (at least 1, as ``Retry-After`` wants a
    positive integer, RFC 9110 §10.2.3)."""
    end = (window_index(limit, now) + 1) * limit.window_s
    return max(1, math.ceil(end - now))


def decide(limit: Limit, count: int, now: float) -> int | None:
    """None when the ``count``-th request of this window is allowed, else the Retry-After."""
    if count <= limit.max_requests:
        return None
    return retry_after_s(limit, now)
