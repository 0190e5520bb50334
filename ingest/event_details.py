"""The details of an event: a tsunami forecast area with its expected arrival, height and
tide stations; observed and estimated tsunamis; intensity stations with coordinates and
長周期地震動階級 — the types and their part of the wire form (the entry points are
:func:`ingest.event.event_to_json` / :func:`ingest.event.event_from_json`). Core module.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, TypeVar

from yure.ingest.jsonread import (
    read_list,
    read_object,
    read_optional_float,
    read_optional_str,
    read_optional_time,
    read_str,
    read_text,
)
from yure.ingest.scales import Intensity, LgIntensity, TsunamiGrade


@dataclasses.dataclass(frozen=True, slots=True)
class TsunamiStation:
    """A tide station under a 津波予報区 (``Forecast/Item/Station``, VTSE51): its expected
    first arrival and high tide. Texts are JMA's words verbatim."""

    code: str
    name: str
    arrival_time: datetime | None = None
    #: ``FirstHeight/Condition``, e.g. 「第１波の到達を確認」「ただちに津波来襲と予測」.
    arrival_condition: str | None = None
    high_tide_at: datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TsunamiArea:
    """One 津波予報区 in a tsunami telegram, with every prefecture it touches, the
    expected first arrival and maximum height (VTSE41/51). Texts are JMA's words."""

    area_code: str
    area_name: str
    grade: TsunamiGrade
    prefs: tuple[str, ...]
    #: The grade before this telegram (from LastKind); a 解除 is grade NONE after a higher one.
    last_grade: TsunamiGrade | None = None
    arrival_time: datetime | None = None
    #: ``FirstHeight/Condition``, e.g. 「津波到達中と推測」.
    arrival_condition: str | None = None
    #: ``MaxHeight/TsunamiHeight`` in metres; None when JMA writes NaN or none.
    max_height_m: float | None = None
    #: Its ``description`` verbatim (「巨大」「１０ｍ超」「３ｍ」), None when empty.
    max_height_text: str | None = None
    stations: tuple[TsunamiStation, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class TsunamiObservation:
    """An observed (VTSE51 coastal, VTSE52 offshore) or estimated (VTSE52 coastal)
    tsunami. Observations name a station (and, on the coast, its 津波予報区);
    estimates name a 津波予報区 only. Texts are JMA's words verbatim."""

    station_code: str | None
    station_name: str | None
    area_code: str | None
    area_name: str | None
    #: Sorted JIS codes of the 津波予報区; () offshore.
    prefs: tuple[str, ...]
    first_arrival_time: datetime | None = None
    #: ``FirstHeight/Initial``: 「押し」 or 「引き」.
    first_initial: str | None = None
    #: ``FirstHeight/Condition``, e.g. 「第１波識別不能」「早いところでは既に津波到達と推定」.
    first_condition: str | None = None
    max_height_m: float | None = None
    max_height_text: str | None = None
    max_height_time: datetime | None = None
    #: ``MaxHeight/Condition`` (「観測中」「重要」), else the height's ``condition`` (「上昇中」).
    max_height_condition: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class IntensityStation:
    """One 震度観測点 (VXSE53/61) or 長周期地震動観測点 (VXSE62) with what it observed;
    ``lat``/``lon`` from yure's station table, None when the code is not in it."""

    code: str
    name: str
    #: JIS code of the ``Pref`` the telegram lists it under.
    pref: str
    #: None for 「震度５弱以上未入電」 (as in ``max_intensity``) or when not given.
    intensity: Intensity | None
    lat: float | None
    lon: float | None
    lg_intensity: LgIntensity | None = None


def when(moment: datetime | None) -> str | None:
    """ISO 8601 with offset, None for None."""
    return None if moment is None else moment.isoformat()


def enum_value(member: Intensity | LgIntensity | TsunamiGrade | None) -> str | None:
    """The member's value, None for None."""
    return None if member is None else member.value


def station_to_json(station: IntensityStation) -> dict[str, Any]:
    """The wire form of an intensity station."""
    return {
        "code": station.code,
        "name": station.name,
        "pref": station.pref,
        "intensity": enum_value(station.intensity),
        "lat": station.lat,
        "lon": station.lon,
        "lg_intensity": enum_value(station.lg_intensity),
    }


def _tsunami_station_json(station: TsunamiStation) -> dict[str, Any]:
    return {
        "code": station.code,
        "name": station.name,
        "arrival_time": when(station.arrival_time),
        "arrival_condition": station.arrival_condition,
        "high_tide_at": when(station.high_tide_at),
    }


def area_to_json(area: TsunamiArea) -> dict[str, Any]:
    """The wire form of a tsunami forecast area."""
    return {
        "area_code": area.area_code,
        "area_name": area.area_name,
        "grade": area.grade.value,
        "last_grade": enum_value(area.last_grade),
        "prefs": list(area.prefs),
        "arrival_time": when(area.arrival_time),
        "arrival_condition": area.arrival_condition,
        "max_height_m": area.max_height_m,
        "max_height_text": area.max_height_text,
        "stations": [_tsunami_station_json(station) for station in area.stations],
    }


def observation_to_json(obs: TsunamiObservation) -> dict[str, Any]:
    """The wire form of an observed or estimated tsunami."""
    return {
        "station_code": obs.station_code,
        "station_name": obs.station_name,
        "area_code": obs.area_code,
        "area_name": obs.area_name,
        "prefs": list(obs.prefs),
        "first_arrival_time": when(obs.first_arrival_time),
        "first_initial": obs.first_initial,
        "first_condition": obs.first_condition,
        "max_height_m": obs.max_height_m,
        "max_height_text": obs.max_height_text,
        "max_height_time": when(obs.max_height_time),
        "max_height_condition": obs.max_height_condition,
    }


_Enum = TypeVar("_Enum", Intensity, LgIntensity, TsunamiGrade)


def optional_enum(o: dict[str, Any], key: str, enum: type[_Enum]) -> _Enum | None:
    """``o[key]`` as a member of ``enum``, None when absent or null."""
    value = o.get(key)
    return None if value is None else enum(read_text(value, key))


def _prefs(o: dict[str, Any]) -> tuple[str, ...]:
    return tuple(read_text(pref, "prefs") for pref in read_list(o.get("prefs", []), "prefs"))


def area_from_json(value: object) -> TsunamiArea:
    """Read :func:`area_to_json`'s output back."""
    o = read_object(value, "tsunami area")
    return TsunamiArea(
        area_code=read_str(o, "area_code"),
        area_name=read_str(o, "area_name"),
        grade=TsunamiGrade(read_str(o, "grade")),
        prefs=_prefs(o),
        last_grade=optional_enum(o, "last_grade", TsunamiGrade),
        arrival_time=read_optional_time(o, "arrival_time"),
        arrival_condition=read_optional_str(o, "arrival_condition"),
        max_height_m=read_optional_float(o, "max_height_m"),
        max_height_text=read_optional_str(o, "max_height_text"),
        stations=tuple(_tsunami_station(v) for v in read_list(o.get("stations", []), "stations")),
    )


def _tsunami_station(value: object) -> TsunamiStation:
    o = read_object(value, "tsunami station")
    return TsunamiStation(
        code=read_str(o, "code"),
        name=read_str(o, "name"),
        arrival_time=read_optional_time(o, "arrival_time"),
        arrival_condition=read_optional_str(o, "arrival_condition"),
        high_tide_at=read_optional_time(o, "high_tide_at"),
    )


def observation_from_json(value: object) -> TsunamiObservation:
    """Read :func:`observation_to_json`'s output back."""
    o = read_object(value, "tsunami observation")
    return TsunamiObservation(
        station_code=read_optional_str(o, "station_code"),
        station_name=read_optional_str(o, "station_name"),
        area_code=read_optional_str(o, "area_code"),
        area_name=read_optional_str(o, "area_name"),
        prefs=_prefs(o),
        first_arrival_time=read_optional_time(o, "first_arrival_time"),
        first_initial=read_optional_str(o, "first_initial"),
        first_condition=read_optional_str(o, "first_condition"),
        max_height_m=read_optional_float(o, "max_height_m"),
        max_height_text=read_optional_str(o, "max_height_text"),
        max_height_time=read_optional_time(o, "max_height_time"),
        max_height_condition=read_optional_str(o, "max_height_condition"),
    )


def station_from_json(value: object) -> IntensityStation:
    """Read :func:`station_to_json`'s output back."""
    o = read_object(value, "station")
    return IntensityStation(
        code=read_str(o, "code"),
        name=read_str(o, "name"),
        pref=read_str(o, "pref"),
        intensity=optional_enum(o, "intensity", Intensity),
        lat=read_optional_float(o, "lat"),
        lon=read_optional_float(o, "lon"),
        lg_intensity=optional_enum(o, "lg_intensity", LgIntensity),
    )
