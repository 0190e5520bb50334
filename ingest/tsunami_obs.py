"""Observed and estimated tsunamis: ``Body/Tsunami/Observation`` (VTSE51 津波情報 at
coastal tide stations, VTSE52 沖合の津波観測に関する情報 at offshore stations) and
``Body/Tsunami/Estimation`` (VTSE52: what the offshore observations imply for the
coast). Core module.

Each ``Observation/Item`` names a 津波予報区 (empty for offshore stations) and its
``Station``\\ s, each with ``FirstHeight`` (``ArrivalTime``, ``Initial`` 「押し」/「引き」,
or a ``Condition`` such as 「第１波識別不能」) and ``MaxHeight`` (``DateTime``,
``jmx_eb:TsunamiHeight`` with JMA's words in ``description`` and e.g. 「上昇中」 in
``condition``, or a ``Condition`` such as 「観測中」). Each ``Estimation/Item`` names a
coastal area with the same ``FirstHeight``/``MaxHeight`` and no station (JMA 技術資料
「津波情報」「沖合の津波観測に関する情報」). Every text is kept verbatim.
"""

from __future__ import annotations

import dataclasses
from xml.etree.ElementTree import Element

from yure.geo import codes
from yure.ingest.event import TsunamiObservation
from yure.ingest.tsunami import optional_text, parse_height, parse_time
from yure.ingest.xmlsafe import NS_ELEMENT, NS_SEISMOLOGY, child, children, descend, text

#: Observations and estimates kept from one telegram at most (JMA has a few hundred tide
#: stations and 66 津波予報区); the rest is dropped.
MAX_TSUNAMI_READINGS = 2000


@dataclasses.dataclass(frozen=True, slots=True)
class TsunamiReadings:
    """What a VTSE51/52 observed and estimated, each in telegram order."""

    observations: tuple[TsunamiObservation, ...]
    estimates: tuple[TsunamiObservation, ...]


NO_READINGS = TsunamiReadings(observations=(), estimates=())


def _reading(area: Element | None, station: Element | None, heights: Element) -> TsunamiObservation:
    """One observation (``station`` given) or estimate; ``heights`` holds its
    ``FirstHeight`` and ``MaxHeight``."""
    area_code = optional_text(child(area, NS_SEISMOLOGY, "Code"))
    first = child(heights, NS_SEISMOLOGY, "FirstHeight")
    max_height = child(heights, NS_SEISMOLOGY, "MaxHeight")
    height_m, height_text = parse_height(max_height)
    height = child(max_height, NS_ELEMENT, "TsunamiHeight")
    condition = optional_text(child(max_height, NS_SEISMOLOGY, "Condition"))
    if condition is None and height is not None and height_m is not None:
        condition = height.get("condition", "").strip() or None
    return TsunamiObservation(
        station_code=None if station is None else text(child(station, NS_SEISMOLOGY, "Code")),
        station_name=None if station is None else text(child(station, NS_SEISMOLOGY, "Name")),
        area_code=area_code,
        area_name=None if area_code is None else text(child(area, NS_SEISMOLOGY, "Name")),
        prefs=() if area_code is None else codes.prefs_of_tsunami_area(area_code),
        first_arrival_time=parse_time(child(first, NS_SEISMOLOGY, "ArrivalTime"), "ArrivalTime"),
        first_initial=optional_text(child(first, NS_SEISMOLOGY, "Initial")),
        first_condition=optional_text(child(first, NS_SEISMOLOGY, "Condition")),
        max_height_m=height_m,
        max_height_text=height_text,
        max_height_time=parse_time(child(max_height, NS_SEISMOLOGY, "DateTime"), "DateTime"),
        max_height_condition=condition,
    )


def parse_tsunami_readings(body: Element | None) -> TsunamiReadings:
    """Every observed station and every estimated area, in telegram order (at most
    :data:`MAX_TSUNAMI_READINGS` of each).

    ``max_height_condition`` is ``MaxHeight/Condition`` (「観測中」「重要」), else the
    height's ``condition`` attribute when the height is a number (「上昇中」); the
    attribute of a ``NaN`` height (「不明」) only explains the missing number.

    Raises:
        TelegramError: a time or a height not in JMA's format.
    """
    tsunami = child(body, NS_SEISMOLOGY, "Tsunami")
    if tsunami is None:
        return NO_READINGS
    observations = [
        _reading(child(item, NS_SEISMOLOGY, "Area"), station, station)
        for item in children(child(tsunami, NS_SEISMOLOGY, "Observation"), NS_SEISMOLOGY, "Item")
        for station in children(item, NS_SEISMOLOGY, "Station")
    ][:MAX_TSUNAMI_READINGS]
    estimates = [
        _reading(child(item, NS_SEISMOLOGY, "Area"), None, item)
        for item in children(child(tsunami, NS_SEISMOLOGY, "Estimation"), NS_SEISMOLOGY, "Item")
        if descend(item, NS_SEISMOLOGY, "Area", "Code") is not None
    ][:MAX_TSUNAMI_READINGS]
    return TsunamiReadings(observations=tuple(observations), estimates=tuple(estimates))
