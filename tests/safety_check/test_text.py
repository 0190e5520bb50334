"""Normalization and validation of user text (safety_check.text)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.safety_check import text
from yure.safety_check.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "handle"), [("abc", "abc"), ("Alice_01", "alice_01"), ("A" * 20, "a" * 20)]
)
def test_handles(raw: str, handle: str) -> None:
    assert text.normalize_handle(raw) == handle


@pytest.mark.parametrize(
    "raw", ["ab", "a" * 21, "has space", "dash-ed", "ｆｕｌｌ", "名前", "", "abc\n", "İstanbul"]
)
def test_bad_handles(raw: str) -> None:
    with pytest.raises(InvalidInput):
        text.normalize_handle(raw)


def test_passwords() -> None:
    assert text.validate_password("12345678") == "12345678"
    assert text.validate_password(" pässwörd ") == " pässwörd "  # never normalized
    assert text.validate_password("😀" * 128) == "😀" * 128  # 128 chars, 512 bytes
    for bad in ["1234567", "x" * 129, "😀" * 129, "\ud800" * 10]:
        with pytest.raises(InvalidInput):
            text.validate_password(bad)


@pytest.mark.parametrize(
    ("raw", "post", "note"),
    [
        ("hello", "hello", "hello"),
        ("  trim  ", "trim", "trim"),
        ("a\r\nb\rc\u2028d", "a\nb\nc\nd", "a b c d"),
        ("bell\x07 nul\x00 del\x7f c1\x85x", "bell nul del c1\nx", "bell nul del c1 x"),
        ("safe\u202eevil\u2066x\u2069", "safeevilx", "safeevilx"),
        ("\u304b\u3099", "\u304c", "\u304c"),  # NFC composes
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ kept
        ("<script>&amp;", "<script>&amp;", "<script>&amp;"),  # never HTML-escaped
    ],
)
def test_clean_text(raw: str, post: str, note: str) -> None:
    assert text.clean_post_text(raw) == post
    assert text.clean_note(raw) == note


def test_lengths_in_code_points_after_cleaning() -> None:
    assert text.clean_post_text("あ" * 280) == "あ" * 280
    with pytest.raises(InvalidInput):
        text.clean_post_text("あ" * 281)
    assert len(text.clean_note("\u304b\u3099" * 100)) == 100
    assert text.clean_note("x\x00" * 100) == "x" * 100
    with pytest.raises(InvalidInput):
        text.clean_note("x" * 401)  # refused before any work
    with pytest.raises(InvalidInput):
        text.clean_post_text("\x00\n ")
    assert text.clean_note("") == ""


@given(st.text(max_size=600))
def test_clean_text_properties(raw: str) -> None:
    try:
        cleaned = text.clean_post_text(raw)
    except InvalidInput:
        return
    assert 1 <= len(cleaned) <= text.MAX_POST_CHARS
    assert unicodedata.is_normalized("NFC", cleaned)
    assert all(ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in cleaned)
    assert not any(ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for ch in cleaned)
    assert text.clean_post_text(cleaned) == cleaned  # idempotent


@given(st.text(max_size=200))
def test_clean_note_is_one_line(raw: str) -> None:
    try:
        cleaned = text.clean_note(raw)
    except InvalidInput:
        return
    assert "\n" not in cleaned and len(cleaned) <= text.MAX_NOTE_CHARS


def test_prefs_event_ids_coordinates() -> None:
    assert text.validate_pref("01") == "01" and text.validate_pref("47") == "47"
    for bad in ["00", "48", "1", "13a", " 13"]:
        with pytest.raises(InvalidInput):
            text.validate_pref(bad)
    assert text.validate_event_id("20240101161010") == "20240101161010"
    for bad in ["", "x" * 65, "a b", "<x>"]:
        with pytest.raises(InvalidInput):
            text.validate_event_id(bad)
    assert text.validate_coordinates(35.0, 139.0) == (35.0, 139.0)
    for lat, lon in [(float("nan"), 0.0), (0.0, float("inf")), (91.0, 0.0), (0.0, -181.0)]:
        with pytest.raises(InvalidInput):
            text.validate_coordinates(lat, lon)


@given(st.floats(min_value=-180, max_value=180))
def test_coarsen_moves_at_most_half_a_step(value: float) -> None:
    coarse = text.coarsen(value)
    assert abs(coarse - value) <= 0.05 + 1e-9
    assert round(coarse * 10) == pytest.approx(coarse * 10)
