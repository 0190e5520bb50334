"""yure.backoff: capped, growing, jittered (equal jitter), resettable."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.backoff import Backoff


@given(
    st.integers(min_value=1, max_value=80),
    st.floats(min_value=0.01, max_value=100),
    st.floats(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=2**32),
)
def test_each_delay_is_in_the_upper_half_of_a_capped_doubling_ceiling(
    failures: int, base: float, extra_cap: float, seed: int
) -> None:
    cap = base + extra_cap
    backoff = Backoff(base_s=base, cap_s=cap, rng=random.Random(seed))
    for k in range(failures):
        delay = backoff.next_delay()
        ceiling = min(cap, base * 2.0 ** min(k, 32))
        assert ceiling / 2 <= delay <= ceiling
    assert backoff.failures == failures


def test_reset_starts_again_from_the_base() -> None:
    backoff = Backoff(base_s=1.0, cap_s=64.0, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(7)]
    assert delays[6] >= 32.0 > delays[0]  # 7th ceiling is 64, the first 1
    backoff.reset()
    assert backoff.failures == 0 and backoff.next_delay() <= 1.0


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_bad_bounds_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="0 < base_s <= cap_s"):
        Backoff(base_s=base, cap_s=cap)
