"""Capped exponential backoff with jitter (core: no clock, no sleeping).

"Exponential Backoff And Jitter", AWS Architecture Blog, 2015: the ceiling of try
``n`` is ``min(cap, base * 2**n)``; the delay is drawn uniformly from the upper half of
it ("equal jitter"), so that clients that failed together do not retry together, yet
none retries at once. The one backoff of the project: every reconnect or retry loop
keeps a :class:`Backoff`, asks :meth:`Backoff.next_delay` after a failure and calls
:meth:`Backoff.reset` after a success.
"""

from __future__ import annotations

import random

#: Doublings at most: past this the ceiling is the cap anyway, and 2**n stays small.
MAX_DOUBLINGS = 32


class Backoff:
    """Delays for successive failures; :meth:`reset` after a success."""

    def __init__(
        self, *, base_s: float = 0.1, cap_s: float = 10.0, rng: random.Random | None = None
    ) -> None:
        """
        Raises:
            ValueError: unless ``0 < base_s <= cap_s``.
        """
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("need 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        #: Failures since the last :meth:`reset`.
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Count one more failure and return the seconds to wait before the next try:
        uniform in ``[ceiling / 2, ceiling]``, ``ceiling = min(cap_s, base_s * 2**k)``
        for the ``k``-th failure since the last reset (from 0)."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(self.failures, MAX_DOUBLINGS))
        self.failures += 1
        return ceiling / 2 + self._rng.random() * ceiling / 2

    def reset(self) -> None:
        """Forget the failures after a success."""
        self.failures = 0
