"""Capped exponential backoff with full jitter (core: no clock, no sleeping).

"Exponential Backoff And Jitter", AWS Architecture Blog, 2015: the delay of try
``n`` is uniform in ``[0, min(cap, base * 2**n)]``, so reconnecting clients (or
workers) spread out instead of arriving in waves.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays for successive failures; :meth:`reset` after a success."""

    def __init__(
        self, *, base_s: float = 0.1, cap_s: float = 10.0, rng: random.Random | None = None
    ):
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("need 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next try (and count one more failure)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.failures, 32))
        self.failures += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        """Forget the failures after a success."""
        self.failures = 0
