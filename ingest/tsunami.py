"""Tsunami parts of a seismic ``Body`` (VTSE41 警報・注意報・予報, VTSE51 津波情報,
VTSE52 沖合の津波観測に関する情報).

``Body/Tsunami/Forecast/Item`` gives one 津波予報区 each with ``Category/Kind`` (what
is now in force) and ``Category/LastKind`` (what was before): a 解除 is a normal item
whose Kind is lower than its LastKind, e.g. Kind 72 after LastKind 62 (JMA 技術資料
「津波警報・注意報・予報」, コード表 14). ``Observation`` and ``Estimation`` items name
areas too (VTSE51/52), without a Category. Core module.
"""

from __future__ import annotations

import dataclasses
from xml.etree.ElementTree import Element

from yure.geo import codes
from yure.ingest.errors import TelegramError
from yure.ingest.event import TsunamiArea, TsunamiGrade
from yure.ingest.jma_words import TSUNAMI_GRADE_OF_CODE
from yure.ingest.xmlsafe import NS_SEISMOLOGY, child, children, descend, text

#: Sections of ``Body/Tsunami`` whose items name areas without a Category.
_AREA_ONLY_SECTIONS = ("Observation", "Estimation")


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
    """Every forecast area with its grade and last grade, and all prefectures named.

    Items without an area code (offshore stations in VTSE52) are skipped; an area code
    unknown to yure's tables keeps its item with no prefectures. Forecast items without
    a ``Category`` (none in JMA's formats) only contribute prefectures.

    Raises:
        TelegramError: a Kind or LastKind code that is not in コード表 14.
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
        areas.append(
            TsunamiArea(
                area_code=code,
                area_name=text(descend(item, NS_SEISMOLOGY, "Area", "Name")),
                grade=grade,
                prefs=area_prefs,
                last_grade=_grade(child(category, NS_SEISMOLOGY, "LastKind"), "LastKind"),
            )
        )
    for section in _AREA_ONLY_SECTIONS:
        for item in children(child(tsunami, NS_SEISMOLOGY, section), NS_SEISMOLOGY, "Item"):
            code = text(descend(item, NS_SEISMOLOGY, "Area", "Code"))
            if code:
                prefs.update(codes.prefs_of_tsunami_area(code))
    return TsunamiInfo(areas=tuple(areas), prefs=frozenset(prefs))
