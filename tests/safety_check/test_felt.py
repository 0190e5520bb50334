"""The pure felt-report grouping (safety_check.felt)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.safety_check.felt import (
    FELT_GAP_S,
    FeltBurst,
    FeltSource,
    add_report,
    belongs_to,
    is_over,
    is_stale,
    mark_published,
    publication_due,
)

T0 = 1_700_000_000.0
USER, P2P = FeltSource.USER, FeltSource.P2P


def test_first_report_starts_a_burst() -> None:
    burst = add_report(None, pref="13", source=USER, at=T0)
    assert burst == FeltBurst(pref="13", started_at=T0, last_at=T0, user_count=1)
    assert burst.key == f"felt:13:{int(T0 * 1000)}"
    assert burst.publication_key == burst.key + ":1"
    assert burst.previous_publication_key is None


@pytest.mark.parametrize(
    ("offset", "same_burst"),
    [(0.0, True), (10.0, True), (FELT_GAP_S, True), (FELT_GAP_S + 0.001, False), (600.0, False)],
)
def test_quiet_gap_splits(offset: float, same_burst: bool) -> None:
    first = add_report(None, pref="13", source=USER, at=T0)
    second = add_report(first, pref="13", source=P2P, at=T0 + offset)
    assert second is not None
    assert (second.key == first.key if first else False) is same_burst
    if same_burst:
        assert (second.user_count, second.p2p_count, second.last_at) == (1, 1, T0 + offset)
    else:
        assert (second.user_count, second.p2p_count, second.started_at) == (0, 1, T0 + offset)


def test_gap_counts_from_the_last_report_not_the_first() -> None:
    burst = None
    for i in range(10):
        burst = add_report(burst, pref="01", source=USER, at=T0 + i * 30)
    assert burst is not None
    assert burst.started_at == T0 and burst.total == 10


def test_late_and_stale_reports() -> None:
    burst = add_report(None, pref="13", source=USER, at=T0)
    assert burst is not None
    late = add_report(burst, pref="13", source=P2P, at=T0 - 5)
    assert late is not None and late.key == burst.key and late.last_at == T0 and late.total == 2
    assert is_stale(burst, T0 - FELT_GAP_S - 1)
    assert add_report(burst, pref="13", source=P2P, at=T0 - FELT_GAP_S - 1) is None
    assert not is_stale(None, T0) and not belongs_to(None, T0)


def test_publication_throttle() -> None:
    burst = add_report(None, pref="13", source=USER, at=T0)
    assert burst is not None
    assert publication_due(burst, T0, 2.0)
    published = mark_published(burst, T0)
    assert not publication_due(published, T0 + 100, 2.0)  # nothing new
    grown = add_report(published, pref="13", source=USER, at=T0 + 1)
    assert grown is not None
    assert not publication_due(grown, T0 + 1, 2.0)
    assert publication_due(grown, T0 + 2, 2.0)
    assert grown.previous_publication_key == burst.publication_key
    assert grown.publication_key == burst.key + ":2"


def test_is_over() -> None:
    burst = add_report(None, pref="13", source=USER, at=T0)
    assert burst is not None
    assert not is_over(burst, T0 + FELT_GAP_S)
    assert is_over(burst, T0 + FELT_GAP_S + 0.5)


@given(gaps=st.lists(st.floats(min_value=0, max_value=120, allow_nan=False), max_size=40))
def test_bursts_split_exactly_at_quiet_gaps(gaps: list[float]) -> None:
    """Feeding reports in time order: a new burst starts exactly where the distance to the
    previous report exceeds the gap (P2P地震情報's rule), and counts add up."""
    times = [T0]
    for gap in gaps:
        times.append(times[-1] + gap)
    burst: FeltBurst | None = None
    starts: list[float] = []
    totals: list[int] = []
    for i, at in enumerate(times):
        source = USER if i % 3 else P2P
        grown = add_report(burst, pref="27", source=source, at=at)
        assert grown is not None
        if burst is None or grown.key != burst.key:
            starts.append(at)
            totals.append(0)
        totals[-1] += 1
        assert grown.total == totals[-1]
        burst = grown
    expected_starts = [times[0]] + [b for a, b in itertools.pairwise(times) if b - a > FELT_GAP_S]
    assert starts == expected_starts
    assert sum(totals) == len(times)
