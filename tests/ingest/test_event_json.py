"""The event's wire form read back: event_from_json is the inverse of event_to_json."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.ingest.errors import EventJsonError, TelegramError
from yure.ingest.event import (
    MAX_EVENT_JSON_BYTES,
    Event,
    Hypocenter,
    InfoType,
    Kind,
    Provenance,
    Source,
    Status,
    event_from_json,
    event_from_payload,
    event_to_json,
)
from yure.ingest.telegram import parse_telegram

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture_events() -> list[Event]:
    events = []
    for path in sorted(FIXTURES.glob("*.xml")):
        try:
            events.append(parse_telegram(path.read_bytes()))
        except TelegramError:
            continue
    return events


@pytest.mark.parametrize("event", _fixture_events(), ids=lambda e: e.type_code + e.event_id)
def test_every_fixture_round_trips(event: Event) -> None:
    wire = event_to_json(event)
    assert event_from_json(wire) == event
    assert event_from_payload(orjson.dumps(wire)) == event
    assert event_to_json(event_from_json(wire)) == wire


def _minimal(**fields: Any) -> Event:
    base: dict[str, Any] = {
        "type_code": "VXSE53",
        "kind": Kind.QUAKE,
        "status": Status.ACTUAL,
        "info_type": InfoType.ISSUED,
        "event_id": "20240101161010",
        "serial": None,
        "reported_at": datetime(2024, 1, 1, 7, 10, tzinfo=UTC),
        "title": "震源・震度情報",
        "headline": "",
    }
    return Event(**{**base, **fields})


@given(
    lat=st.none() | st.floats(-90, 90),
    magnitude=st.none() | st.floats(0, 10),
    serial=st.none() | st.integers(0, 999),
    received=st.none() | st.datetimes(timezones=st.just(UTC)),
)
def test_optional_fields_round_trip(
    lat: float | None, magnitude: float | None, serial: int | None, received: datetime | None
) -> None:
    event = _minimal(
        serial=serial,
        hypocenter=Hypocenter("三陸沖", lat, 142.5, 10.0, magnitude, "M不明"),
        provenance=Provenance(Source.P2P, None, None, received),
    )
    assert event_from_payload(orjson.dumps(event_to_json(event))) == event


GOOD = event_to_json(_minimal())


@pytest.mark.parametrize(
    "bad",
    [
        [],
        "quake",
        {**GOOD, "kind": "post"},
        {**GOOD, "kind": "felt"},
        {**GOOD, "kind": "meteor"},
        {**GOOD, "status": "drill"},
        {**GOOD, "info_type": None},
        {**GOOD, "event_id": 5},
        {**GOOD, "serial": "1"},
        {**GOOD, "serial": True},
        {**GOOD, "reported_at": "yesterday"},
        {**GOOD, "reported_at": "2024-01-01T16:10:00"},
        {**GOOD, "foreign": "no"},
        {**GOOD, "hypocenter": []},
        {**GOOD, "hypocenter": {"name": "x", "lat": "38", "magnitude_text": ""}},
        {**GOOD, "max_intensity": "8"},
        {**GOOD, "intensity": {"13": 4}},
        {**GOOD, "intensity": []},
        {**GOOD, "tsunami": [{"area_code": "100", "area_name": "x", "grade": "huge"}]},
        {**GOOD, "tsunami": {}},
        {**GOOD, "prefs": [13]},
        {**GOOD, "source": "rumour"},
        {**GOOD, "source": "jma", "received_at": 0},
    ],
)
def test_not_an_event_is_refused(bad: object) -> None:
    with pytest.raises(EventJsonError):
        event_from_json(bad)


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1]", b" " * (MAX_EVENT_JSON_BYTES + 1)])
def test_bad_payloads_are_refused(payload: bytes) -> None:
    with pytest.raises(EventJsonError):
        event_from_payload(payload)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.sampled_from(sorted(GOOD)), inner),
    )
)
def test_any_json_is_an_event_or_refused(value: object) -> None:
    """Nothing but EventJsonError escapes, whatever the JSON."""
    try:
        event = event_from_json(value)
    except EventJsonError:
        return
    assert isinstance(event, Event)
