"""Tsunami parts of a seismic ``Body`` (VTSE41 警報・注意報・予報, VTSE51 津波情報,
VTSE52 沖合の津波観測に関する情報).

``Body/Tsunami/Forecast/Item`` gives one 津波予報区 each with ``Category/Kind`` (what
is now in force) and ``Category/LastKind`` (what was before): a 解除 is a normal item
whose Kind is lower than its LastKind, e.g. Kind 72 after LastKind 62 (JMA 技術資料
「津波警報・注意報・予報」, コード表 14), the expected first arrival (``FirstHeight``:
``ArrivalTime`` and/or ``Condition`` such as 「津波到達中と推測」), the expected maximum
height (``MaxHeight/jmx_eb:TsunamiHeight``: a number of metres or ``NaN``, and JMA's
words in ``description``: 「巨大」「１０ｍ超」「３ｍ」) and, in VTSE51, the tide stations
of the area with their expected arrival and high tide. ``Observation`` and
``Estimation`` items name areas too (VTSE51/52), without a Category; they are read by
:mod:`ingest.tsunami_obs`. Texts are kept verbatim. Core module.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from xml.etree.ElementTree import Element

from yure.geo import codes
from yure.ingest.errors import TelegramError
from yure.ingest.event import TsunamiArea, TsunamiGrade, TsunamiStation
from yure.ingest.jma_words import MAGNITUDE_NAN, TSUNAMI_GRADE_OF_CODE
from yure.ingest.xmlsafe import NS_ELEMENT, NS_SEISMOLOGY, child, children, descend, text

#: Sections of ``Body/Tsunami`` whose items name areas without a Category.
_AREA_ONLY_SECTIONS = ("Observation", "Estimation")
_HEIGHT = re.compile(r"\d+(?:\.\d+)?", re.ASCII)


def parse_time(element: Element | None, what: str) -> datetime | None:
    """An ISO 8601 time with offset (``2011-03-11T15:10:00+09:00``); None when absent.

    Raises:
        TelegramError: not ISO 8601, or without an offset.
    """
    value = text(element)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise TelegramError(f"{what} {value!r} is not ISO 8601") from err
    if moment.tzinfo is None:
        raise TelegramError(f"{what} {value!r} has no UTC offset")
    return moment


def optional_text(element: Element | None) -> str | None:
    """The element's text, None when absent or empty."""
    return text(element) or None


def parse_height(max_height: Element | None) -> tuple[float | None, str | None]:
    """``(metres, JMA's words)`` of ``MaxHeight/jmx_eb:TsunamiHeight``: metres None for
    ``NaN`` or none; the words (``description``) None when empty.

    Raises:
        TelegramError: a height that is neither a number of metres nor ``NaN``.
    """
    height = child(max_height, NS_ELEMENT, "TsunamiHeight")
    if height is None:
        return None, None
    words = height.get("description", "").strip() or None
    value = text(height)
    if value in ("", MAGNITUDE_NAN):
        return None, words
    if _HEIGHT.fullmatch(value) is None:
        raise TelegramError(f"tsunami height {value!r} is not a number")
    return float(value), words


def _stations(item: Element) -> tuple[TsunamiStation, ...]:
    stations = []
    for station in children(item, NS_SEISMOLOGY, "Station"):
        first = child(station, NS_SEISMOLOGY, "FirstHeight")
        stations.append(
            TsunamiStation(
                code=text(child(station, NS_SEISMOLOGY, "Code")),
                name=text(child(station, NS_SEISMOLOGY, "Name")),
                arrival_time=parse_time(child(first, NS_SEISMOLOGY, "ArrivalTime"), "ArrivalTime"),
                arrival_condition=optional_text(child(first, NS_SEISMOLOGY, "Condition")),
                high_tide_at=parse_time(
                    child(station, NS_SEISMOLOGY, "HighTideDateTime"), "HighTideDateTime"
                ),
            )
        )
    return tuple(stations)


@dataclasses.dataclass(frozen=True, slots=True)
class TsunamiInfo:
    """The areas with a grade, and every prefecture any area of the telegram touches."""

    areas: tuple[TsunamiArea, ...]
    prefs: frozenset[str]


NO_TSUNAMI = TsunamiInfo(areas=(), prefs=frozenset())


def _grade(kind: Element | None, what: str) -> TsunamiGrade | None:
    if kind is None:
        return None
    code = text(child(kind, NS_SEISMOLOGY, "Code"))
    try:
        return TSUNAMI_GRADE_OF_CODE[code]
    except KeyError:
        raise TelegramError(f"unknown tsunami {what} code {code!r}") from None


def parse_tsunami(body: Element | None) -> TsunamiInfo:
    """Every forecast area with its grade, last grade, expected arrival and height and
    tide stations, and all prefectures named.

    Items without an area code (offshore stations in VTSE52) are skipped; an area code
    unknown to yure's tables keeps its item with no prefectures. Forecast items without
    a ``Category`` (none in JMA's formats) only contribute prefectures.

    Raises:
        TelegramError: a Kind or LastKind code that is not in コード表 14, a time or a
            height not in JMA's format.
    """
    tsunami = child(body, NS_SEISMOLOGY, "Tsunami")
    if tsunami is None:
        return NO_TSUNAMI
    areas: list[TsunamiArea] = []
    seen: set[str] = set()
    prefs: set[str] = set()
    for item in children(child(tsunami, NS_SEISMOLOGY, "Forecast"), NS_SEISMOLOGY, "Item"):
        code = text(descend(item, NS_SEISMOLOGY, "Area", "Code"))
        if not code:
            continue
        area_prefs = codes.prefs_of_tsunami_area(code)
        prefs.update(area_prefs)
        category = child(item, NS_SEISMOLOGY, "Category")
        grade = _grade(child(category, NS_SEISMOLOGY, "Kind"), "Kind")
        if grade is None or code in seen:
            continue
        seen.add(code)
        first = child(item, NS_SEISMOLOGY, "FirstHeight")
        height_m, height_text = parse_height(child(item, NS_SEISMOLOGY, "MaxHeight"))
        areas.append(
            TsunamiArea(
                area_code=code,
                area_name=text(descend(item, NS_SEISMOLOGY, "Area", "Name")),
                grade=grade,
                prefs=area_prefs,
                last_grade=_grade(child(category, NS_SEISMOLOGY, "LastKind"), "LastKind"),
                arrival_time=parse_time(child(first, NS_SEISMOLOGY, "ArrivalTime"), "ArrivalTime"),
                arrival_condition=optional_text(child(first, NS_SEISMOLOGY, "Condition")),
                max_height_m=height_m,
                max_height_text=height_text,
                stations=_stations(item),
            )
        )
    for section in _AREA_ONLY_SECTIONS:
        for item in children(child(tsunami, NS_SEISMOLOGY, section), NS_SEISMOLOGY, "Item"):
            code = text(descend(item, NS_SEISMOLOGY, "Area", "Code"))
            if code:
                prefs.update(codes.prefs_of_tsunami_area(code))
    return TsunamiInfo(areas=tuple(areas), prefs=frozenset(prefs))
