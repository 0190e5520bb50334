"""index: which groups an entry reaches, as plain tables (no I/O)."""

from __future__ import annotations

import pytest

from yure.broadcast.envelope import Entry
from yure.broadcast.filter import Filter
from yure.broadcast.frames import Encoding
from yure.broadcast.index import SubscriberIndex

WS, SSE = Encoding.WS, Encoding.SSE
ALL = Filter()
TOKYO = Filter(prefs=frozenset({"13"}))
KANTO = Filter(prefs=frozenset({"13", "14"}))
KANTO_QUAKE = Filter(prefs=frozenset({"13", "14"}), kinds=frozenset({"quake"}))
TSUNAMI = Filter(kinds=frozenset({"tsunami"}))


def entry(n: int, kind: str, *prefs: str) -> Entry:
    return Entry(f"{n}-0", f"k{n}", kind, tuple(prefs), b"{}")


# (members as (name, filter, encoding), entries, expected {name: matched indexes})
CASES = [
    pytest.param([], [entry(1, "quake", "13")], {}, id="no-subscribers"),
    pytest.param(
        [("a", ALL, WS)],
        [entry(1, "quake"), entry(2, "tsunami", "47")],
        {"a": [0, 1]},
        id="everything-reaches-an-empty-filter",
    ),
    pytest.param(
        [("t", TOKYO, WS), ("k", KANTO, WS)],
        [entry(1, "quake", "13", "14"), entry(2, "quake", "27"), entry(3, "eew", "14")],
        {"t": [0], "k": [0, 2]},
        id="an-entry-reaching-a-group-through-two-prefs-counts-once",
    ),
    pytest.param(
        [("q", KANTO_QUAKE, SSE), ("s", TSUNAMI, WS)],
        [entry(1, "tsunami", "13"), entry(2, "quake", "14"), entry(3, "tsunami")],
        {"q": [1], "s": [0, 2]},
        id="kinds-narrow-prefs",
    ),
    pytest.param(
        [("w", TOKYO, WS), ("e", TOKYO, SSE)],
        [entry(1, "quake", "13")],
        {"w": [0], "e": [0]},
        id="one-filter-two-encodings-two-groups",
    ),
    pytest.param(
        [("t", TOKYO, WS)],
        [entry(1, "quake"), entry(2, "quake", "01")],
        {},
        id="an-entry-without-prefs-reaches-only-empty-filters",
    ),
]


@pytest.mark.parametrize(("members", "entries", "expected"), CASES)
def test_match(
    members: list[tuple[str, Filter, Encoding]],
    entries: list[Entry],
    expected: dict[str, list[int]],
) -> None:
    index: SubscriberIndex[str] = SubscriberIndex()
    groups = {name: index.join(name, flt, enc) for name, flt, enc in members}
    found = index.match(entries)
    got = {name: found[g] for name, g in groups.items() if g in found}
    assert got == expected
    assert all(found[g] == sorted(set(found[g])) for g in found)


def test_members_share_groups_and_empty_groups_leave() -> None:
    index: SubscriberIndex[str] = SubscriberIndex()
    a = index.join("a", KANTO, WS)
    b = index.join("b", KANTO, WS)
    c = index.join("c", ALL, SSE)
    assert a is b and len(index) == 2
    assert a.snapshot() in {("a", "b"), ("b", "a")}
    index.leave("a", a)
    assert a.snapshot() == ("b",) and len(index) == 2
    index.leave("b", b)
    index.leave("c", c)
    assert len(index) == 0
    assert index.match([entry(1, "quake", "13"), entry(2, "quake")]) == {}
    # A stale group left twice changes nothing.
    index.leave("b", b)
    assert index.join("d", KANTO, WS) is not a
