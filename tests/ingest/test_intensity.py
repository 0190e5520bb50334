"""Seismic intensity values (ingest.intensity)."""

from __future__ import annotations

import pytest

from yure.ingest.errors import TelegramError
from yure.ingest.event import Intensity
from yure.ingest.intensity import parse_intensity, strongest
from yure.ingest.jma_words import IntensityWord


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", Intensity.I1),
        ("4", Intensity.I4),
        ("5-", Intensity.I5_LOWER),
        ("5+", Intensity.I5_UPPER),
        ("6-", Intensity.I6_LOWER),
        ("6+", Intensity.I6_UPPER),
        (" 7\n", Intensity.I7),
    ],
)
def test_classes(value: str, expected: Intensity) -> None:
    assert parse_intensity(value) is expected


def test_not_received_is_unknown_only_when_allowed() -> None:
    word = "震度５弱以上未入電"
    assert parse_intensity(word, allow=(IntensityWord.NOT_RECEIVED,)) is None
    with pytest.raises(TelegramError, match="not a seismic intensity"):
        parse_intensity(word)


@pytest.mark.parametrize("value", ["0", "5", "５弱", "8", "", "over", "不明", "5-5+"])
def test_rejects(value: str) -> None:
    with pytest.raises(TelegramError):
        parse_intensity(value)


def test_strongest() -> None:
    assert strongest([]) is None
    assert strongest([None, None]) is None
    assert strongest([Intensity.I4, None, Intensity.I5_LOWER, Intensity.I3]) is Intensity.I5_LOWER
    assert strongest([Intensity.I5_UPPER, Intensity.I6_LOWER]) is Intensity.I6_LOWER
    assert strongest([Intensity.I7, Intensity.I6_UPPER]) is Intensity.I7
