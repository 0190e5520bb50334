"""History filters (pure core): every parameter's good and bad values, and a property:
nothing but QueryError ever comes out of parse_query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.archive.errors import QueryError
from yure.archive.query import (
    DEFAULT_PAGE_ITEMS,
    Cursor,
    HistoryQuery,
    check_event_id,
    decode_cursor,
    encode_cursor,
    parse_query,
)
from yure.geo import codes
from yure.geo.errors import GeoError
from yure.ingest.event import Intensity, Kind
from yure.ingest.merge import JST


def resolve(tokens: Iterable[str]) -> frozenset[str]:
    return codes.resolve_pref_tokens(list(tokens))


def stamp(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=JST).timestamp())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, HistoryQuery()),
        ({"prefs": "13, 14"}, HistoryQuery(prefs=frozenset({"13", "14"}))),
        ({"prefs": "shikoku"}, HistoryQuery(prefs=frozenset({"36", "37", "38", "39"}))),
        ({"kinds": "quake,tsunami"}, HistoryQuery(kinds=frozenset({Kind.QUAKE, Kind.TSUNAMI}))),
        ({"from": "2024-03-01"}, HistoryQuery(since=stamp(2024, 3, 1))),
        ({"to": "2024-03-01"}, HistoryQuery(until=stamp(2024, 3, 2))),
        ({"from": "2024-03-01T12:30"}, HistoryQuery(since=stamp(2024, 3, 1, 12, 30))),
        ({"from": "2024-03-01T03:30:00Z"}, HistoryQuery(since=stamp(2024, 3, 1, 12, 30))),
        ({"min_intensity": "5-"}, HistoryQuery(min_intensity=Intensity.I5_LOWER)),
        ({"min_intensity": "6強"}, HistoryQuery(min_intensity=Intensity.I6_UPPER)),
        ({"min_magnitude": "6.5"}, HistoryQuery(min_magnitude=6.5)),
        ({"max_depth_km": "0"}, HistoryQuery(max_depth_km=0.0)),
        ({"limit": "500"}, HistoryQuery(limit=500)),
        ({"prefs": "", "kinds": "", "from": ""}, HistoryQuery()),
    ],
)
def test_good_filters(params: dict[str, str], expected: HistoryQuery) -> None:
    assert parse_query(params, resolve) == expected


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"sort": "asc"}, "unknown parameter 'sort'"),
        ({"prefs": "x" * 600}, "longer than 512"),
        ({"prefs": ",".join(["13"] * 65)}, "more than 64"),
        ({"prefs": "atlantis"}, "prefs:"),
        ({"kinds": "post"}, "kinds: 'post'"),
        ({"kinds": "felt"}, "kinds: 'felt'"),
        ({"kinds": "quakes"}, "kinds: 'quakes'"),
        ({"from": "2024-13-01"}, "from:"),
        ({"to": "tomorrow"}, "to:"),
        ({"from": "2024-03-02", "to": "2024-03-01"}, "before to"),
        ({"min_intensity": "8"}, "min_intensity"),
        ({"min_intensity": "5"}, "min_intensity"),
        ({"min_magnitude": "ten"}, "min_magnitude: 'ten' is not a number"),
        ({"min_magnitude": "inf"}, "between 0 and 10"),
        ({"min_magnitude": "-1"}, "between 0 and 10"),
        ({"max_depth_km": "1001"}, "between 0 and 1000"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": encode_cursor(Cursor(1, "ok")) + "AA"}, "cursor"),
    ],
)
def test_bad_filters_say_why(params: dict[str, str], reason: str) -> None:
    with pytest.raises(QueryError, match=reason.replace("(", r"\(")):
        parse_query(params, resolve)


def test_exports_may_ask_for_more_rows() -> None:
    assert parse_query({"limit": "20000"}, resolve, max_items=50_000).limit == 20_000
    assert parse_query({}, resolve, max_items=50_000).limit == DEFAULT_PAGE_ITEMS


def test_cursor_round_trip_and_event_ids() -> None:
    cursor = Cursor(1710892800, "20240320210000_312")
    assert decode_cursor(encode_cursor(cursor)) == cursor
    bad_id = encode_cursor(Cursor(1, "a b"))
    with pytest.raises(QueryError):
        decode_cursor(bad_id)
    assert check_event_id("p2p-20240101000000") == "p2p-20240101000000"
    for bad in ("", "a/b", "<script>", "x" * 65):
        with pytest.raises(QueryError):
            check_event_id(bad)


def test_a_resolver_error_becomes_a_query_error() -> None:
    def failing(tokens: Iterable[str]) -> frozenset[str]:
        raise GeoError("no such region: mars")

    with pytest.raises(QueryError, match="prefs: no such region: mars"):
        parse_query({"prefs": "mars"}, failing)


NAMES = st.sampled_from(
    ["prefs", "kinds", "from", "to", "min_intensity", "min_magnitude", "max_depth_km",
     "limit", "cursor", "other"]
)  # fmt: skip


@given(st.dictionaries(NAMES, st.text(max_size=40), max_size=6))
def test_only_query_errors_come_out(params: dict[str, str]) -> None:
    try:
        query = parse_query(params, resolve)
    except QueryError:
        return
    assert 1 <= query.limit <= 500
    assert query.since is None or query.until is None or query.since < query.until
