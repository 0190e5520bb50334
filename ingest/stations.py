"""Station observations of ``Body/Intensity/Observation``: every 震度観測点 with its
intensity (VXSE53, and VXSE61 where present) and, in 長周期地震動に関する観測情報
(VXSE62), every 長周期地震動観測点 with its 長周期地震動階級 and the classes per
prefecture. Core module.

Stations sit under ``Pref/Area/City/IntensityStation`` in 震度情報 and under
``Pref/Area/IntensityStation`` in VXSE62 (JMA 技術資料 「地震情報」「長周期地震動に関する
観測情報」); both are read. Coordinates come from yure's station table
(:func:`geo.codes.station_point`): None when the code is not in it, never guessed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from xml.etree.ElementTree import Element

from yure.geo import codes
from yure.ingest.errors import TelegramError
from yure.ingest.event import INTENSITY_ORDER, IntensityStation, LgIntensity
from yure.ingest.intensity import parse_intensity
from yure.ingest.jma_words import IntensityWord
from yure.ingest.xmlsafe import NS_SEISMOLOGY, child, children, descend, text

#: Stations kept from one telegram at most: about 120 bytes of JSON each, so that an event
#: stays well under the 512 KiB a timeline entry may carry (JMA has 4,361 震度観測点; the
#: largest reference VXSE53 lists 1,127). The strongest are kept when there are more.
MAX_STATIONS = 3000

_LG_BY_VALUE = {member.value: member for member in LgIntensity}
_RANK = {member: rank for rank, member in enumerate(INTENSITY_ORDER)}
_PREF_CODES = frozenset(codes.PREF_CODES)


@dataclasses.dataclass(frozen=True, slots=True)
class LongPeriod:
    """長周期地震動階級: the overall ``MaxLgInt`` and each ``Pref``'s."""

    max_lg_intensity: LgIntensity | None
    lg_intensity: Mapping[str, LgIntensity]


NO_LONG_PERIOD = LongPeriod(max_lg_intensity=None, lg_intensity={})


def parse_lg_intensity(value: str) -> LgIntensity:
    """Parse a 長周期地震動階級 (``0``–``4``).

    Raises:
        TelegramError: not a class.
    """
    found = _LG_BY_VALUE.get(value.strip())
    if found is None:
        raise TelegramError(f"{value.strip()!r} is not a long-period ground motion class")
    return found


def _optional_lg(element: Element | None) -> LgIntensity | None:
    return None if element is None else parse_lg_intensity(text(element))


def _station_elements(observation: Element) -> Iterator[tuple[str, Element]]:
    for pref in children(observation, NS_SEISMOLOGY, "Pref"):
        code = text(child(pref, NS_SEISMOLOGY, "Code"))
        if code not in _PREF_CODES:
            raise TelegramError(f"observation Pref/Code {code!r} is not a prefecture code")
        for area in children(pref, NS_SEISMOLOGY, "Area"):
            for station in children(area, NS_SEISMOLOGY, "IntensityStation"):
                yield code, station
            for city in children(area, NS_SEISMOLOGY, "City"):
                for station in children(city, NS_SEISMOLOGY, "IntensityStation"):
                    yield code, station


def _station(pref: str, element: Element) -> IntensityStation:
    code = text(child(element, NS_SEISMOLOGY, "Code"))
    if not code:
        raise TelegramError("IntensityStation without a Code")
    value = child(element, NS_SEISMOLOGY, "Int")
    intensity = (
        None if value is None else parse_intensity(text(value), allow=(IntensityWord.NOT_RECEIVED,))
    )
    point = codes.station_point(code)
    return IntensityStation(
        code=code,
        name=text(child(element, NS_SEISMOLOGY, "Name")),
        pref=pref,
        intensity=intensity,
        lat=None if point is None else point[0],
        lon=None if point is None else point[1],
        lg_intensity=_optional_lg(child(element, NS_SEISMOLOGY, "LgInt")),
    )


def _strength(station: IntensityStation) -> tuple[int, int]:
    rank = -1 if station.intensity is None else _RANK[station.intensity]
    lg = -1 if station.lg_intensity is None else int(station.lg_intensity)
    return (rank, lg)


def parse_stations(body: Element | None) -> tuple[IntensityStation, ...]:
    """Every IntensityStation of the observation, sorted by code (a code listed twice
    is kept once, the first time). Beyond :data:`MAX_STATIONS`, the strongest are kept.

    Raises:
        TelegramError: an unknown prefecture code, intensity or class, or a station
            without a code.
    """
    observation = descend(body, NS_SEISMOLOGY, "Intensity", "Observation")
    if observation is None:
        return ()
    found: dict[str, IntensityStation] = {}
    for pref, element in _station_elements(observation):
        station = _station(pref, element)
        found.setdefault(station.code, station)
    stations = list(found.values())
    if len(stations) > MAX_STATIONS:
        stations = sorted(stations, key=_strength, reverse=True)[:MAX_STATIONS]
    return tuple(sorted(stations, key=lambda s: s.code))


def parse_long_period(body: Element | None) -> LongPeriod:
    """``MaxLgInt`` overall and per ``Pref`` (VXSE62); nothing for other telegrams.

    Raises:
        TelegramError: a value that is not a class, or an unknown prefecture code.
    """
    observation = descend(body, NS_SEISMOLOGY, "Intensity", "Observation")
    if observation is None:
        return NO_LONG_PERIOD
    per_pref: dict[str, LgIntensity] = {}
    for pref in children(observation, NS_SEISMOLOGY, "Pref"):
        value = _optional_lg(child(pref, NS_SEISMOLOGY, "MaxLgInt"))
        if value is None:
            continue
        code = text(child(pref, NS_SEISMOLOGY, "Code"))
        if code not in _PREF_CODES:
            raise TelegramError(f"observation Pref/Code {code!r} is not a prefecture code")
        known = per_pref.get(code)
        per_pref[code] = value if known is None else max(known, value, key=int)
    overall = _optional_lg(child(observation, NS_SEISMOLOGY, "MaxLgInt"))
    if overall is None and per_pref:
        overall = max(per_pref.values(), key=int)
    return LongPeriod(max_lg_intensity=overall, lg_intensity=dict(sorted(per_pref.items())))
