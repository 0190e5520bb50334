"""The current-event pick (safety_check.events) and the JSON edge (safety_check.wire)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tests.support import event_json
from tests.web.browser import user_event
from yure.broadcast.envelope import Entry
from yure.ingest.event import Kind
from yure.safety_check import wire
from yure.safety_check.errors import InvalidInput
from yure.safety_check.events import pick_current_event
from yure.safety_check.felt import FeltBurst
from yure.safety_check.model import CheckinStatus

NOW = datetime(2024, 1, 1, 16, 30, tzinfo=UTC).timestamp()
DAY = 86400.0


def _entry(n: int, kind: str, /, **payload: Any) -> Entry:
    """A timeline entry of ``kind`` whose event JSON has ``payload``'s fields replaced."""
    if kind in {"post", "felt"}:
        body: dict[str, Any] = user_event(kind, [])
    else:
        body = event_json(kind=Kind(kind), event_id=payload.pop("event_id", "x"))
    body.update(payload)
    return Entry(id=f"{n}-0", key=f"k{n}", kind=kind, prefs=(), payload=orjson.dumps(body))


def test_newest_official_quake_or_tsunami_wins() -> None:
    entries = [
        _entry(5, "post"),
        _entry(4, "eew", event_id="eew1"),
        _entry(3, "tsunami", event_id="T1"),
        _entry(2, "quake", event_id="Q1"),
    ]
    event = pick_current_event(entries, now=NOW, window_s=DAY)
    assert event is not None and (event.event_id, event.kind) == ("T1", Kind.TSUNAMI)
    assert event.occurred_at == datetime(2024, 1, 1, 16, 10, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "newest",
    [
        {"status": "exercise"},
        {"kind": "post"},
        {"kind": "eew"},
        {"event_id": ""},
        {"event_id": 5},
        {"reported_at": datetime(2023, 12, 1, tzinfo=UTC).isoformat()},
        {"reported_at": "yesterday"},
    ],
)
def test_unusable_newest_is_skipped(newest: dict[str, Any]) -> None:
    entries = [
        _entry(3, "quake", **{"event_id": "NEW", **newest}),
        _entry(2, "quake", event_id="OLD"),
    ]
    event = pick_current_event(entries, now=NOW, window_s=DAY)
    assert event is not None and event.event_id == "OLD"


def test_cancelled_event_is_not_current() -> None:
    entries = [
        _entry(3, "quake", event_id="Q2", info_type="cancelled"),
        _entry(2, "quake", event_id="Q2"),
        _entry(1, "quake", event_id="Q1"),
    ]
    event = pick_current_event(entries, now=NOW, window_s=DAY)
    assert event is not None and event.event_id == "Q1"
    assert pick_current_event(entries[:2], now=NOW, window_s=DAY) is None


def test_garbage_payloads_are_skipped() -> None:
    garbage = Entry(id="9-0", key="g", kind="quake", prefs=(), payload=b"not json")
    listed = Entry(id="8-0", key="l", kind="quake", prefs=(), payload=b"[1]")
    good = _entry(7, "quake", event_id="U")
    event = pick_current_event([garbage, listed, good], now=NOW, window_s=DAY)
    assert event is not None and event.event_id == "U"
    assert pick_current_event([], now=NOW, window_s=DAY) is None


def test_parse_object() -> None:
    assert wire.parse_object(b'{"a": 1}') == {"a": 1}
    for bad in [b"", b"[]", b"nul", b'"x"']:
        with pytest.raises(InvalidInput):
            wire.parse_object(bad)


def test_parse_checkin() -> None:
    draft, point = wire.parse_checkin(
        {"status": "safe", "lat": 35.123456, "lon": 139.654321, "share_location": True}
    )
    assert draft.status is CheckinStatus.SAFE and (draft.lat, draft.lon) == (35.1235, 139.6543)
    assert point == (35.123456, 139.654321)
    draft, point = wire.parse_checkin({"status": "unknown", "lat": 35, "lon": 139})
    assert (draft.lat, draft.lon, point) == (None, None, (35.0, 139.0))
    bad_bodies: list[dict[str, Any]] = [
        {"status": "safe", "share_location": "yes"},
        {"status": "safe", "note": 5},
        {"status": "safe", "lat": "35", "lon": 139},
        {"status": "safe", "lat": float("nan"), "lon": 139},
        {"status": "safe", "lat": 35, "lon": 10**400},
    ]
    for bad in bad_bodies:
        with pytest.raises(InvalidInput):
            wire.parse_checkin(bad)


def test_parse_felt_and_post() -> None:
    assert wire.parse_felt({"pref": "13"}) == ("13", None)
    assert wire.parse_felt({"lat": 35.0, "lon": 139.0}) == (None, (35.0, 139.0))
    with pytest.raises(InvalidInput):
        wire.parse_felt({})
    post = wire.parse_post({"text": "hi", "pref": "13"})
    assert (post.text, post.pref, post.lat) == ("hi", "13", None)


def test_felt_json_fields() -> None:
    burst = FeltBurst(pref="13", started_at=NOW, last_at=NOW + 5, user_count=2, p2p_count=1)
    obj = wire.felt_json(burst, "20240101161010")
    assert obj == {
        "kind": "felt",
        "official": False,
        "source": "user",
        "id": burst.key,
        "prefs": ["13"],
        "created_at": "2024-01-01T16:30:00.000+00:00",
        "started_at": "2024-01-01T16:30:00.000+00:00",
        "updated_at": "2024-01-01T16:30:05.000+00:00",
        "counts": {"user": 2, "p2p": 1, "total": 3},
        "event_id": "20240101161010",
    }
