"""How long a client must wait after wrong passwords (pure; the driver is .throttle).

Guessing is slowed, never blocked outright, and only where the guessing comes from
(issue 10 #4; NIST SP 800-63B §5.2.2 "Rate Limiting (Throttling)" allows delays that
grow with the failures of an account): failures are counted per **client address** (any
handle) and per **handle + address**. After ``free_failures`` failures each further one
doubles the wait, up to ``max_delay_s``; the count is forgotten ``forget_after_s`` after
the last failure. A correct password from an address that has not been guessing is
never refused, so nobody can lock an owner out of their account.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class GuessPolicy:
    """The delay schedule of one counting scope."""

    name: str
    free_failures: int
    base_delay_s: float
    max_delay_s: float
    forget_after_s: float

    def __post_init__(self) -> None:
        if self.free_failures < 0 or self.base_delay_s <= 0 or self.max_delay_s < 1:
            raise ValueError(f"guess policy {self.name}: bad values")


#: Failures of one handle from one address: 5 free, then 1 s, 2 s, 4 s … 15 min.
PAIR_GUESSES = GuessPolicy("pair", 5, 1.0, 900.0, 24 * 3600.0)
#: Failures from one address over every handle (shelter Wi-Fi shares one address, so
#: more are free): 20 free, then 1 s, 2 s, 4 s … 15 min.
ADDRESS_GUESSES = GuessPolicy("address", 20, 1.0, 900.0, 24 * 3600.0)


def delay_after(policy: GuessPolicy, failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure (0 while they are free)."""
    over = failures - policy.free_failures
    if over <= 0:
        return 0.0
    # The exponent is capped before the power, so a huge count cannot overflow.
    return min(policy.max_delay_s, policy.base_delay_s * float(2 ** min(over - 1, 62)))
