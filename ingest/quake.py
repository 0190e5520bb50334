"""Earthquake parts of a seismic ``Body``: the hypocentre and the observed intensities.

``Body/Earthquake`` (VXSE52/53/61, EEW and tsunami telegrams) carries the hypocentre
and magnitude; ``Body/Intensity/Observation`` (VXSE51/53) the observed maximum
intensity overall and per prefecture (JMA 技術資料 「地震情報」). Core module.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from xml.etree.ElementTree import Element

from yure.geo import codes
from yure.ingest.coordinate import UNKNOWN_POINT, Point, parse_coordinate
from yure.ingest.errors import TelegramError
from yure.ingest.event import Hypocenter, Intensity
from yure.ingest.intensity import parse_intensity, strongest
from yure.ingest.jma_words import (
    COORDINATE_DEGREE_MINUTE_TYPE,
    MAGNITUDE_NAN,
    TOKYO_DATUM,
    IntensityWord,
)
from yure.ingest.xmlsafe import NS_ELEMENT, NS_SEISMOLOGY, child, children, descend, text

_MAGNITUDE = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)
_PREF_CODES = frozenset(codes.PREF_CODES)


@dataclasses.dataclass(frozen=True, slots=True)
class Observation:
    """What ``Body/Intensity/Observation`` says."""

    max_intensity: Intensity | None
    #: Prefectures with a known maximum intensity.
    intensity: Mapping[str, Intensity]
    #: Every prefecture listed, including those whose values are only 「未入電」.
    prefs: frozenset[str]


NO_OBSERVATION = Observation(max_intensity=None, intensity={}, prefs=frozenset())


def _choose_coordinate(area: Element) -> Point:
    """The most precise world-datum point among the ``Coordinate`` elements of ``area``.

    VXSE61 gives the hypocentre twice, in 0.1° and in 0.1′ with a finer depth
    (``type="震源位置（度分）"``); the finer one is taken. Old telegrams may add a
    Tokyo-datum copy (``datum="日本測地系"``), used only when it is the sole one.
    """
    candidates = list(children(area, NS_ELEMENT, "Coordinate"))
    if not candidates:
        return UNKNOWN_POINT
    world = [c for c in candidates if c.get("datum", "").strip() != TOKYO_DATUM] or candidates
    finer = [c for c in world if c.get("type", "").strip() == COORDINATE_DEGREE_MINUTE_TYPE]
    return parse_coordinate(text((finer or world)[0]))


def _magnitude(element: Element | None) -> tuple[float | None, str]:
    """``(value, JMA's words)``: NaN (「M不明」, 「M8を超える巨大地震」) gives None."""
    if element is None:
        return None, ""
    words = element.get("description", "").strip() or element.get("condition", "").strip()
    value = text(element)
    if value in ("", MAGNITUDE_NAN):
        return None, words
    if _MAGNITUDE.fullmatch(value) is None:
        raise TelegramError(f"magnitude {value!r} is not a number")
    return float(value), words or value


def parse_hypocenter(body: Element | None) -> Hypocenter | None:
    """The hypocentre of the first ``Body/Earthquake``, if the body names one.

    Raises:
        TelegramError: a malformed coordinate or magnitude.
    """
    earthquake = child(body, NS_SEISMOLOGY, "Earthquake")
    area = descend(earthquake, NS_SEISMOLOGY, "Hypocenter", "Area")
    if area is None:
        return None
    point = _choose_coordinate(area)
    magnitude, magnitude_text = _magnitude(child(earthquake, NS_ELEMENT, "Magnitude"))
    return Hypocenter(
        name=text(child(area, NS_SEISMOLOGY, "Name")),
        lat=point.lat,
        lon=point.lon,
        depth_km=point.depth_km,
        magnitude=magnitude,
        magnitude_text=magnitude_text,
    )


def parse_observation(body: Element | None) -> Observation:
    """Observed intensities: the overall ``MaxInt`` and each ``Pref``'s.

    A ``Pref`` without ``MaxInt`` (all its stations 「震度５弱以上未入電」) is listed in
    ``prefs`` but gets no intensity. When the overall ``MaxInt`` is absent, the
    strongest prefecture value stands in for it.

    Raises:
        TelegramError: an unknown prefecture code or intensity value.
    """
    observation = descend(body, NS_SEISMOLOGY, "Intensity", "Observation")
    if observation is None:
        return NO_OBSERVATION
    allow = (IntensityWord.NOT_RECEIVED,)
    per_pref: dict[str, Intensity] = {}
    prefs: set[str] = set()
    for pref in children(observation, NS_SEISMOLOGY, "Pref"):
        code = text(child(pref, NS_SEISMOLOGY, "Code"))
        if code not in _PREF_CODES:
            raise TelegramError(f"observation Pref/Code {code!r} is not a prefecture code")
        prefs.add(code)
        max_int = child(pref, NS_SEISMOLOGY, "MaxInt")
        value = None if max_int is None else parse_intensity(text(max_int), allow=allow)
        best = strongest((per_pref.get(code), value))
        if best is not None:
            per_pref[code] = best
    overall = child(observation, NS_SEISMOLOGY, "MaxInt")
    if overall is None:
        max_intensity = strongest(per_pref.values())
    else:
        max_intensity = parse_intensity(text(overall), allow=allow)
    return Observation(
        max_intensity=max_intensity,
        intensity=dict(sorted(per_pref.items())),
        prefs=frozenset(prefs),
    )


def epicenter_prefs(hypocenter: Hypocenter | None) -> frozenset[str]:
    """The prefecture of the epicentre when it is on land or one prefecture's coast."""
    if hypocenter is None:
        return frozenset()
    pref = codes.pref_of_epicenter(hypocenter.name)
    return frozenset() if pref is None else frozenset({pref})
