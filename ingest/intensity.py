"""Seismic intensity (震度) values as JMA writes them, and their order.

``MaxInt``/``Int`` hold ``1 2 3 4 5- 5+ 6- 6+ 7``; where a value has not arrived JMA
writes the literal 「震度５弱以上未入電」 (unknown, estimated at least 5-), which is
*not* an intensity: it maps to None so that no value is invented. EEW ``ForecastInt``
may also hold 「不明」 and, in ``To``, ``over`` (JMA 技術資料 「緊急地震速報」). Core module.
"""

from __future__ import annotations

from collections.abc import Iterable

from yure.ingest.errors import TelegramError
from yure.ingest.event import INTENSITY_ORDER, Intensity
from yure.ingest.jma_words import IntensityWord

_BY_VALUE = {member.value: member for member in Intensity}
_RANK = {member: rank for rank, member in enumerate(INTENSITY_ORDER)}


def parse_intensity(value: str, *, allow: Iterable[IntensityWord] = ()) -> Intensity | None:
    """Parse ``value`` as an intensity; the words in ``allow`` (and only they) give None.

    Raises:
        TelegramError: neither an intensity class nor an allowed word.
    """
    stripped = value.strip()
    intensity = _BY_VALUE.get(stripped)
    if intensity is not None:
        return intensity
    if stripped in {word.value for word in allow}:
        return None
    raise TelegramError(f"{stripped!r} is not a seismic intensity")


def strongest(values: Iterable[Intensity | None]) -> Intensity | None:
    """The highest intensity among ``values`` (None entries ignored; None if none)."""
    known = [value for value in values if value is not None]
    if not known:
        return None
    return max(known, key=_RANK.__getitem__)
