"""filter: exact matching and parsing of subscriptions (core, tables + properties)."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.broadcast.errors import CursorError, FilterError, ProtocolError
from yure.broadcast.filter import (
    EVERYTHING,
    Filter,
    Subscribe,
    codes_as_given,
    parse_query,
    parse_since,
    parse_subscribe,
)
from yure.broadcast.limits import MAX_FILTER_KINDS, MAX_FILTER_PREFS, MAX_TOKEN_CHARS

PREFS = [f"{i:02d}" for i in range(1, 48)]
KINDS = ["quake", "eew", "tsunami", "notice", "post"]


def regions(tokens: Iterable[str]) -> frozenset[str]:
    table = {"kanto": {"08", "09", "10", "11", "12", "13", "14"}}
    out: set[str] = set()
    for token in tokens:
        if token in table:
            out |= table[token]
        elif token in PREFS:
            out.add(token)
        else:
            raise FilterError(f"unknown {token}")
    return frozenset(out)


@given(
    st.one_of(st.none(), st.frozensets(st.sampled_from(PREFS))),
    st.one_of(st.none(), st.frozensets(st.sampled_from(KINDS))),
    st.sampled_from(KINDS),
    st.lists(st.sampled_from(PREFS), max_size=5),
)
def test_matches_is_exact(
    prefs: frozenset[str] | None, kinds: frozenset[str] | None, kind: str, tags: list[str]
) -> None:
    expected = (kinds is None or kind in kinds) and (prefs is None or bool(prefs & set(tags)))
    assert Filter(prefs=prefs, kinds=kinds).matches(kind, tags) is expected


def test_untagged_entries_reach_only_unfiltered() -> None:
    assert EVERYTHING.matches("quake", ())
    assert not Filter(prefs=frozenset({"13"})).matches("quake", ())


def test_parse_subscribe_full() -> None:
    msg = orjson.dumps(
        {"type": "subscribe", "prefs": ["13", "kanto"], "kinds": ["quake"], "since": "5-1"}
    )
    sub = parse_subscribe(msg, regions)
    assert sub == Subscribe(
        filter=Filter(prefs=regions(["kanto"]), kinds=frozenset({"quake"})), since="5-1"
    )


def test_parse_subscribe_defaults() -> None:
    assert parse_subscribe('{"type":"subscribe"}') == Subscribe(EVERYTHING, None)
    empty = '{"type":"subscribe","prefs":[],"kinds":null,"since":""}'
    assert parse_subscribe(empty) == Subscribe(EVERYTHING, None)
    assert parse_subscribe('{"type":"subscribe","since":"0"}').since == "0-0"
    assert parse_subscribe('{"type":"subscribe","since":"17"}').since == "17-0"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("not json", ProtocolError),
        ("[]", ProtocolError),
        ('{"type":"hello"}', ProtocolError),
        ('{"prefs":["13"]}', ProtocolError),
        ('{"type":"subscribe","extra":1}', ProtocolError),
        ('{"type":"subscribe","prefs":"13"}', ProtocolError),
        ('{"type":"subscribe","prefs":[13]}', ProtocolError),
        ('{"type":"subscribe","prefs":[""]}', FilterError),
        ('{"type":"subscribe","prefs":["atlantis"]}', FilterError),
        ('{"type":"subscribe","kinds":["Quake"]}', FilterError),
        ('{"type":"subscribe","since":5}', ProtocolError),
        ('{"type":"subscribe","since":"yesterday"}', CursorError),
    ],
)
def test_parse_subscribe_rejects(raw: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_subscribe(raw, regions)


def test_parse_subscribe_limits() -> None:
    too_many = {"type": "subscribe", "prefs": ["13"] * (MAX_FILTER_PREFS + 1)}
    with pytest.raises(FilterError):
        parse_subscribe(orjson.dumps(too_many))
    too_many_kinds = {"type": "subscribe", "kinds": ["quake"] * (MAX_FILTER_KINDS + 1)}
    with pytest.raises(FilterError):
        parse_subscribe(orjson.dumps(too_many_kinds))
    too_long = {"type": "subscribe", "prefs": ["x" * (MAX_TOKEN_CHARS + 1)]}
    with pytest.raises(FilterError):
        parse_subscribe(orjson.dumps(too_long))


def test_parse_query() -> None:
    assert parse_query(None, None) == EVERYTHING
    assert parse_query(" ", "") == EVERYTHING
    assert parse_query("13, 14,", "quake") == Filter(frozenset({"13", "14"}), frozenset({"quake"}))
    assert parse_query("kanto", None, regions).prefs == regions(["kanto"])
    with pytest.raises(FilterError):
        parse_query(",".join(["13"] * (MAX_FILTER_PREFS + 1)), None)
    with pytest.raises(FilterError):
        parse_query("x" * (MAX_TOKEN_CHARS + 1), None)
    with pytest.raises(FilterError):
        parse_query("nowhere", None, regions)


def test_parse_since() -> None:
    assert parse_since(None) is None
    assert parse_since("") is None
    assert parse_since("0") == "0-0"
    assert parse_since("10-2") == "10-2"
    with pytest.raises(CursorError):
        parse_since("10-x")


def test_codes_as_given() -> None:
    assert codes_as_given(["13", "13", "x"]) == frozenset({"13", "x"})
