"""Capped exponential backoff with jitter. Core module: numbers in, a delay out."""

from __future__ import annotations

import random


def backoff_delay(failures: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` consecutive failures (≥ 1).

    The ceiling doubles per failure from ``base_s`` up to ``cap_s``; the delay is drawn
    uniformly from the upper half of it ("equal jitter"), so that many clients that
    failed together do not retry together, yet none retries at once.
    """
    exponent = min(max(failures, 1) - 1, 32)
    ceiling = min(cap_s, base_s * float(2**exponent))
    return ceiling / 2 + rng.random() * ceiling / 2
