"""prefs + alert + match: the pure core, by tables and by hypothesis."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.push.events import entry, event_doc, tsunami_area
from yure.broadcast.envelope import Entry
from yure.broadcast.errors import FilterError
from yure.ingest.event import Intensity, Kind
from yure.push import alert as alert_mod
from yure.push.alert import Urgency, alert_from_entry, message_of, topic_of
from yure.push.errors import SubscriptionError
from yure.push.match import should_push
from yure.push.prefs import (
    DEFAULT_KINDS,
    PushFilter,
    QuietHours,
    filter_to_json,
    parse_filter,
)

NOON = 12 * 60
MIDNIGHT = 0


def resolve(tokens: Any) -> frozenset[str]:
    table = {"13": {"13"}, "14": {"14"}, "kanto": {"08", "09", "10", "11", "12", "13", "14"}}
    out: set[str] = set()
    for token in tokens:
        if token not in table:
            raise FilterError(f"unknown prefecture or region {token!r}")
        out |= table[token]
    return frozenset(out)


def alert(doc: dict[str, Any], entry_id: str = "1-0") -> alert_mod.Alert:
    found = alert_from_entry(entry(doc, entry_id))
    assert found is not None
    return found


TOKYO = PushFilter(prefs=frozenset({"13"}))
TOKYO_5 = PushFilter(prefs=frozenset({"13"}), min_intensity=Intensity.I5_LOWER)
QUIET = QuietHours(start=23 * 60, end=7 * 60, except_from=Intensity.I5_LOWER)

CASES = [
    # (name, filter, doc, minute, expected)
    ("tokyo quake", TOKYO, event_doc(), NOON, True),
    ("osaka quake", TOKYO, event_doc(prefs=("27",)), NOON, False),
    ("nationwide", PushFilter(), event_doc(prefs=("27",)), NOON, True),
    ("below min", TOKYO_5, event_doc(intensity={"13": "4"}), NOON, False),
    ("at min", TOKYO_5, event_doc(intensity={"13": "5-"}), NOON, True),
    (
        "min judged in the chosen pref, not the maximum elsewhere",
        TOKYO_5,
        event_doc(prefs=("13", "14"), intensity={"13": "3", "14": "6-"}),
        NOON,
        False,
    ),
    ("no intensity with a min", TOKYO_5, event_doc(intensity={}, max_intensity=None), NOON, False),
    (
        "max_intensity without per-pref values",
        TOKYO_5,
        event_doc(intensity={}, max_intensity="5+"),
        NOON,
        True,
    ),
    ("eew", TOKYO, event_doc("eew", intensity={}, max_intensity="5-"), NOON, True),
    (
        "eew off",
        PushFilter(prefs=frozenset({"13"}), eew=False),
        event_doc("eew", intensity={}, max_intensity="5-"),
        NOON,
        False,
    ),
    ("eew below min", TOKYO_5, event_doc("eew", intensity={}, max_intensity="4"), NOON, False),
    (
        "tsunami advisory",
        TOKYO_5,
        event_doc("tsunami", intensity={}, tsunami=[tsunami_area("advisory", ("13",))]),
        NOON,
        True,
    ),
    (
        "tsunami off",
        PushFilter(prefs=frozenset({"13"}), tsunami=False),
        event_doc("tsunami", intensity={}, tsunami=[tsunami_area("warning", ("13",))]),
        NOON,
        False,
    ),
    (
        "tsunami forecast only",
        TOKYO,
        event_doc("tsunami", intensity={}, tsunami=[tsunami_area("forecast", ("13",))]),
        NOON,
        False,
    ),
    (
        "tsunami warning lifted (解除)",
        TOKYO,
        event_doc("tsunami", intensity={}, tsunami=[tsunami_area("none", ("13",), "warning")]),
        NOON,
        True,
    ),
    (
        "tsunami elsewhere in a telegram tagged with tokyo",
        TOKYO,
        event_doc(
            "tsunami",
            prefs=("13", "01"),
            intensity={},
            tsunami=[tsunami_area("warning", ("01",)), tsunami_area("forecast", ("13",))],
        ),
        NOON,
        False,
    ),
    ("post never", PushFilter(), event_doc("post", official=False), NOON, False),
    ("felt never", PushFilter(), event_doc("felt", official=False), NOON, False),
    ("notice", TOKYO, event_doc("notice", intensity={}), NOON, True),
    ("other is opt-in", TOKYO, event_doc("other", intensity={}), NOON, False),
    (
        "other opted in",
        PushFilter(prefs=frozenset({"13"}), kinds=frozenset({Kind.OTHER})),
        event_doc("other", intensity={}),
        NOON,
        True,
    ),
    (
        "kinds exclude quake",
        PushFilter(kinds=frozenset({Kind.TSUNAMI})),
        event_doc(),
        NOON,
        False,
    ),
    ("quiet: weak quake held", PushFilter(quiet=QUIET), event_doc(), MIDNIGHT, False),
    (
        "quiet: strong quake passes",
        PushFilter(quiet=QUIET),
        event_doc(intensity={"13": "5-"}),
        MIDNIGHT,
        True,
    ),
    ("quiet: outside the hours", PushFilter(quiet=QUIET), event_doc(), NOON, True),
    ("quiet ends at 'to'", PushFilter(quiet=QUIET), event_doc(), 7 * 60, True),
    ("quiet starts at 'from'", PushFilter(quiet=QUIET), event_doc(), 23 * 60, False),
    (
        "quiet without except_from holds quakes",
        PushFilter(quiet=QuietHours(0, 60)),
        event_doc(intensity={"13": "7"}),
        30,
        False,
    ),
    (
        "quiet: tsunami warning passes",
        PushFilter(quiet=QUIET),
        event_doc("tsunami", intensity={}, tsunami=[tsunami_area("major_warning", ("13",))]),
        MIDNIGHT,
        True,
    ),
    (
        "quiet: tsunami advisory held",
        PushFilter(quiet=QUIET),
        event_doc("tsunami", intensity={}, tsunami=[tsunami_area("advisory", ("13",))]),
        MIDNIGHT,
        False,
    ),
    ("quiet: notice held", PushFilter(quiet=QUIET), event_doc("notice", intensity={}), 0, False),
    (
        "daytime quiet window",
        PushFilter(quiet=QuietHours(9 * 60, 17 * 60)),
        event_doc(),
        NOON,
        False,
    ),
    ("empty quiet window", PushFilter(quiet=QuietHours(60, 60)), event_doc(), 60, True),
]


@pytest.mark.parametrize(
    ("flt", "doc", "minute", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_should_push(flt: PushFilter, doc: dict[str, Any], minute: int, expected: bool) -> None:
    found = alert_from_entry(entry(doc))
    if found is None:
        assert expected is False
        return
    assert should_push(flt, found, minute) is expected


def test_parse_filter_full() -> None:
    flt = parse_filter(
        {
            "prefs": ["13", "kanto"],
            "kinds": ["quake", "tsunami"],
            "min_intensity": "5-",
            "tsunami": False,
            "eew": True,
            "quiet": {"from": "23:00", "to": "07:30", "except_from": "6-"},
        },
        resolve,
    )
    assert flt == PushFilter(
        prefs=frozenset({"08", "09", "10", "11", "12", "13", "14"}),
        kinds=frozenset({Kind.QUAKE, Kind.TSUNAMI}),
        min_intensity=Intensity.I5_LOWER,
        tsunami=False,
        eew=True,
        quiet=QuietHours(23 * 60, 7 * 60 + 30, Intensity.I6_LOWER),
    )
    assert parse_filter(filter_to_json(flt)) == flt


def test_parse_filter_defaults() -> None:
    assert parse_filter(None) == PushFilter()
    assert parse_filter({}) == PushFilter()
    assert parse_filter({"prefs": []}).prefs is None
    assert parse_filter({}).kinds == DEFAULT_KINDS
    assert filter_to_json(PushFilter())["prefs"] == []


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ([], "filter must be an object"),
        ({"area": []}, "unknown field 'area'"),
        ({"prefs": "13"}, "prefs must be a list"),
        ({"prefs": ["99"]}, "unknown prefecture"),
        ({"prefs": [""]}, "1..32 characters"),
        ({"prefs": ["13"] * 65}, "more than 64"),
        ({"kinds": ["post"]}, "'post' is not one of"),
        ({"kinds": ["felt"]}, "'felt' is not one of"),
        ({"kinds": []}, "must name a kind"),
        ({"kinds": [1]}, "list of strings"),
        ({"min_intensity": "8"}, "min_intensity must be one of"),
        ({"min_intensity": 5}, "must be a string"),
        ({"tsunami": "yes"}, "tsunami must be true or false"),
        ({"eew": 1}, "eew must be true or false"),
        ({"quiet": "23-07"}, "quiet must be an object"),
        ({"quiet": {"from": "23:00"}}, "quiet.to must be a time"),
        ({"quiet": {"from": "24:00", "to": "07:00"}}, "quiet.from must be a time"),
        ({"quiet": {"from": "7:00", "to": "08:00"}}, "quiet.from must be a time"),
        ({"quiet": {"from": "23:00", "to": "07:00", "x": 1}}, "unknown field 'x'"),
        ({"quiet": {"from": "23:00", "to": "07:00", "except_from": "5"}}, "except_from"),
    ],
)
def test_parse_filter_errors(obj: object, reason: str) -> None:
    with pytest.raises(SubscriptionError, match=reason):
        parse_filter(obj, resolve)


def test_alert_from_non_events() -> None:
    for kind, payload in [
        ("quake", b"not json"),
        ("quake", b'{"official": true, "intensity": {"13": "9"}}'),
        ("quake", b'{"official": false}'),
        ("unknown", b"{}"),
        ("post", b'{"official": true}'),
    ]:
        assert alert_from_entry(Entry("1-0", "k", kind, ("13",), payload)) is None


def test_alert_of_a_cancel_falls_back_to_the_key_for_an_empty_event_id() -> None:
    doc = event_doc(info_type="cancelled", intensity={}, max_intensity=None)
    doc["event_id"] = ""
    found = alert_from_entry(entry(doc, "2-0", ref="1-0"))
    assert found is not None
    assert found.retracts
    assert found.event_id == ""
    assert orjson.loads(message_of(found).payload)["url"] == "/?item=i:2-0"
    other = alert_from_entry(entry(doc, "3-0", ref="1-0"))
    assert other is not None
    assert topic_of(other) != topic_of(found)


def test_message_payload_and_headers() -> None:
    found = alert(event_doc(prefs=("13", "14"), intensity={"13": "5+", "14": "3"}), "7-1")
    msg = message_of(found)
    body = orjson.loads(msg.payload)
    assert body == {
        "id": "7-1",
        "kind": "quake",
        "title": "震源・震度情報",
        "body": "２９日２１時３０分ころ、地震がありました。",
        "url": "/?item=e:20260101000000",
        "prefs": ["13", "14"],
        "max_intensity": "5+",
        "official": True,
        "info_type": "issued",
        "topic": msg.topic,
    }
    assert msg.urgency is Urgency.HIGH
    assert msg.ttl_s == alert_mod.TTL_QUAKE_S


@pytest.mark.parametrize(
    ("doc", "urgency", "ttl"),
    [
        (event_doc(intensity={"13": "4"}), Urgency.NORMAL, alert_mod.TTL_QUAKE_S),
        (event_doc("eew", intensity={}, max_intensity="3"), Urgency.HIGH, alert_mod.TTL_EEW_S),
        (
            event_doc("tsunami", intensity={}, tsunami=[tsunami_area("warning", ("13",))]),
            Urgency.HIGH,
            alert_mod.TTL_TSUNAMI_S,
        ),
        (
            event_doc("tsunami", intensity={}, tsunami=[tsunami_area("advisory", ("13",))]),
            Urgency.NORMAL,
            alert_mod.TTL_TSUNAMI_S,
        ),
        (event_doc("notice", intensity={}), Urgency.NORMAL, alert_mod.TTL_OTHER_S),
    ],
)
def test_urgency_and_ttl(doc: dict[str, Any], urgency: Urgency, ttl: int) -> None:
    msg = message_of(alert(doc))
    assert (msg.urgency, msg.ttl_s) == (urgency, ttl)


def test_cancel_keeps_the_topic_and_is_marked() -> None:
    first = alert(event_doc(event_id="E1"), "1-0")
    cancel = alert(event_doc(event_id="E1", info_type="cancelled", intensity={}), "2-0")
    other = alert(event_doc(event_id="E2"), "3-0")
    tsunami = alert(event_doc("tsunami", event_id="E1", intensity={}), "4-0")
    assert topic_of(first) == topic_of(cancel)
    assert topic_of(first) != topic_of(other)
    assert topic_of(first) != topic_of(tsunami)
    assert orjson.loads(message_of(cancel).payload)["title"] == "【取消】震源・震度情報"


def test_long_headline_is_cut_to_the_payload_cap() -> None:
    msg = message_of(alert(event_doc(headline="長" * 5000)))
    assert len(msg.payload) <= alert_mod.MAX_PUSH_PAYLOAD_BYTES
    assert orjson.loads(msg.payload)["body"].startswith("長")


INTENSITIES = [i.value for i in Intensity]
PREFS = [f"{i:02d}" for i in range(1, 48)]


@st.composite
def filters(draw: st.DrawFn) -> PushFilter:
    prefs = draw(st.one_of(st.none(), st.frozensets(st.sampled_from(PREFS), min_size=1)))
    quiet = draw(
        st.one_of(
            st.none(),
            st.builds(
                QuietHours,
                st.integers(0, 1439),
                st.integers(0, 1439),
                st.one_of(st.none(), st.sampled_from(list(Intensity))),
            ),
        )
    )
    return PushFilter(
        prefs=prefs,
        kinds=draw(st.frozensets(st.sampled_from(sorted(DEFAULT_KINDS)), min_size=1)),
        min_intensity=draw(st.one_of(st.none(), st.sampled_from(list(Intensity)))),
        tsunami=draw(st.booleans()),
        eew=draw(st.booleans()),
        quiet=quiet,
    )


@st.composite
def docs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["quake", "eew", "tsunami", "notice", "other", "post", "felt"]))
    prefs = tuple(draw(st.frozensets(st.sampled_from(PREFS), max_size=5)))
    intensity = draw(
        st.dictionaries(st.sampled_from(prefs or ("13",)), st.sampled_from(INTENSITIES))
    )
    grades = ["none", "forecast", "advisory", "warning", "major_warning"]
    areas = [
        tsunami_area(draw(st.sampled_from(grades)), (p,), draw(st.sampled_from([None, *grades])))
        for p in prefs
    ]
    return event_doc(
        kind,
        prefs=prefs,
        intensity=intensity if kind == "quake" else {},
        max_intensity=draw(st.one_of(st.none(), st.sampled_from(INTENSITIES))),
        tsunami=areas if kind == "tsunami" else [],
        official=kind not in ("post", "felt"),
    )


@given(filters(), docs(), st.integers(0, 1439))
def test_properties(flt: PushFilter, doc: dict[str, Any], minute: int) -> None:
    found = alert_from_entry(entry(doc))
    if doc["kind"] in ("post", "felt"):
        assert found is None
        return
    assert found is not None
    result = should_push(flt, found, minute)
    if result:
        # Never outside the chosen prefectures, never a kind not asked for.
        assert flt.prefs is None or not flt.prefs.isdisjoint(found.prefs)
        assert found.kind in flt.kinds
    # Widening the filter never loses a push: all of Japan, no minimum, no quiet hours.
    wider = PushFilter(kinds=flt.kinds, tsunami=flt.tsunami, eew=flt.eew)
    assert not result or should_push(wider, found, minute)
    # Quiet hours only ever hold pushes back.
    loud = PushFilter(flt.prefs, flt.kinds, flt.min_intensity, flt.tsunami, flt.eew, None)
    assert not result or should_push(loud, found, minute)
    # The message always fits and always has a valid topic.
    msg = message_of(found)
    assert len(msg.payload) <= alert_mod.MAX_PUSH_PAYLOAD_BYTES
    assert len(msg.topic) == alert_mod.TOPIC_CHARS


@given(st.integers(0, 1439), st.integers(0, 1439), st.integers(0, 1439))
def test_quiet_window_covers_exactly_its_minutes(start: int, end: int, minute: int) -> None:
    covered = QuietHours(start, end).covers(minute)
    span = (end - start) % 1440
    assert covered == ((minute - start) % 1440 < span)
