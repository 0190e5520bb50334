"""envelope: validation, canonical payloads, stream ids."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.broadcast.envelope import (
    MAX_KEY_BYTES,
    Envelope,
    check_envelope,
    format_stream_id,
    parse_stream_id,
    split_prefs,
)
from yure.broadcast.errors import CursorError, EnvelopeError
from yure.broadcast.limits import MAX_PAYLOAD_BYTES


def test_canonical_form() -> None:
    env = Envelope(key="k", kind="quake", prefs=("14", "13", "13"), payload=b'{ "a" : 1 }')
    checked = check_envelope(env)
    assert checked.prefs_field == "13,14"
    assert checked.payload == b'{"a":1}'
    assert checked.replaces == ""
    assert check_envelope(Envelope("k", "quake", (), b"{}", replaces="old")).replaces == "old"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (Envelope("", "quake", (), b"{}"), "key"),
        (Envelope("k" * (MAX_KEY_BYTES + 1), "quake", (), b"{}"), "key"),
        (Envelope("k", "quake", (), b"{}", replaces=""), "replaces"),
        (Envelope("k", "Quake", (), b"{}"), "kind"),
        (Envelope("k", "", (), b"{}"), "kind"),
        (Envelope("k", "quake", ("1,3",), b"{}"), "pref"),
        (Envelope("k", "quake", ("",), b"{}"), "pref"),
        (Envelope("k", "quake", (), b"[1]"), "object"),
        (Envelope("k", "quake", (), b"{"), "JSON"),
        (Envelope("k", "quake", (), b'{"ref":"1-0"}'), "ref"),
        (Envelope("k", "quake", (), b"{" + b" " * MAX_PAYLOAD_BYTES + b"}"), "bytes"),
    ],
)
def test_rejects(env: Envelope, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        check_envelope(env)


def test_payload_has_no_raw_newline() -> None:
    checked = check_envelope(Envelope("k", "quake", (), b'{\n"t": "a\\nb"\n}'))
    assert b"\n" not in checked.payload
    assert orjson.loads(checked.payload) == {"t": "a\nb"}


@pytest.mark.parametrize(
    ("text", "parsed"), [("0-0", (0, 0)), ("12", (12, 0)), ("1700000000000-5", (1700000000000, 5))]
)
def test_parse_stream_id(text: str, parsed: tuple[int, int]) -> None:
    assert parse_stream_id(text) == parsed


@pytest.mark.parametrize("text", ["", "-", "1-", "a-1", "1-2-3", " 1-0", "$", "1" * 21, str(2**64)])
def test_parse_stream_id_rejects(text: str) -> None:
    with pytest.raises(CursorError):
        parse_stream_id(text)


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_stream_id_round_trip(ms: int, seq: int) -> None:
    assert parse_stream_id(format_stream_id((ms, seq))) == (ms, seq)


def test_split_prefs() -> None:
    assert split_prefs("") == ()
    assert split_prefs("01,13") == ("01", "13")
