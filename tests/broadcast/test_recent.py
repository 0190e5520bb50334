"""recent: the in-memory window of newest entries (core, tables)."""

from __future__ import annotations

import pytest

from yure.broadcast.envelope import Entry
from yure.broadcast.recent import RecentEntries

NOW_MS = 10_000_000


def entry(ms: int, seq: int = 0, size: int = 10) -> Entry:
    return Entry(id=f"{ms}-{seq}", key=f"k{ms}-{seq}", kind="quake", prefs=(), payload=b"x" * size)


def ids(entries: list[Entry]) -> list[str]:
    return [e.id for e in entries]


def test_complete_reset_covers_everything() -> None:
    recent = RecentEntries(max_age_ms=NOW_MS)
    recent.reset([entry(3), entry(2), entry(1)], complete=True, now_ms=NOW_MS)
    assert recent.covers((0, 0))
    assert ids(recent.after((0, 0))) == ["1-0", "2-0", "3-0"]
    assert ids(recent.after((2, 0))) == ["3-0"]
    assert recent.after((3, 0)) == []


def test_partial_reset_covers_from_its_oldest() -> None:
    recent = RecentEntries(max_age_ms=NOW_MS)
    recent.reset([entry(3), entry(2)], complete=False, now_ms=NOW_MS)
    assert not recent.covers((1, 0))
    assert recent.covers((2, 0))
    recent.add([entry(4), entry(4, 1)], now_ms=NOW_MS)
    assert ids(recent.after((3, 0))) == ["4-0", "4-1"]


def test_bounds_move_coverage() -> None:
    recent = RecentEntries(max_age_ms=NOW_MS, max_entries=3)
    recent.reset([], complete=True, now_ms=NOW_MS)
    recent.add([entry(i) for i in range(1, 6)], now_ms=NOW_MS)
    assert len(recent) == 3 and recent.covered_from == (2, 0)
    assert not recent.covers((1, 0)) and recent.covers((2, 0))
    by_bytes = RecentEntries(max_age_ms=NOW_MS, max_bytes=25)
    by_bytes.add([entry(1), entry(2), entry(3)], now_ms=NOW_MS)
    assert ids(by_bytes.after((0, 0))) == ["2-0", "3-0"]
    by_bytes.add([entry(4, size=100)], now_ms=NOW_MS)  # the newest stays, however large
    assert ids(by_bytes.after((0, 0))) == ["4-0"] and by_bytes.covered_from == (3, 0)


def test_entries_older_than_retention_leave() -> None:
    recent = RecentEntries(max_age_ms=1000)
    recent.reset([entry(NOW_MS - 10), entry(NOW_MS - 5000)], complete=True, now_ms=NOW_MS)
    assert ids(recent.after((0, 0))) == [f"{NOW_MS - 10}-0"]
    assert recent.covered_from == (NOW_MS - 5000, 0)
    assert not recent.covers((NOW_MS - 6000, 0))


def test_unknown_until_filled() -> None:
    recent = RecentEntries(max_age_ms=NOW_MS)
    assert not recent.covers((0, 0))
    recent.add([entry(5)], now_ms=NOW_MS)
    assert recent.covers((5, 0)) and not recent.covers((4, 0))
    with pytest.raises(ValueError):
        RecentEntries(max_age_ms=0)


def test_incomplete_empty_reset_covers_nothing() -> None:
    recent = RecentEntries(max_age_ms=NOW_MS)
    recent.reset([], complete=False, now_ms=NOW_MS)
    assert not recent.covers((0, 0))
    recent.add([], now_ms=NOW_MS)
    assert not recent.covers((0, 0))
    recent.add([entry(7)], now_ms=NOW_MS)
    assert recent.covers((7, 0)) and not recent.covers((6, 0))
