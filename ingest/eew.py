"""緊急地震速報 (VXSE43 警報, VXSE44 予報, VXSE45 地震動予報) forecast areas.

``Body/Intensity/Forecast`` holds the forecast maximum intensity (``ForecastInt``
``From``/``To``; ``To`` may be ``over``, either may be 「不明」) and one ``Pref`` per
緊急地震速報／府県予報区 (4-digit ``Code``) with its 地震情報／細分区域 ``Area``
children (3-digit ``Code``) (JMA 技術資料 「緊急地震速報」). Core module.
"""

from __future__ import annotations

import dataclasses
from xml.etree.ElementTree import Element

from yure.geo import codes
from yure.ingest.event import Intensity
from yure.ingest.intensity import parse_intensity
from yure.ingest.jma_words import IntensityWord
from yure.ingest.xmlsafe import NS_SEISMOLOGY, child, children, descend, text


@dataclasses.dataclass(frozen=True, slots=True)
class EewForecast:
    """What an EEW's ``Body/Intensity/Forecast`` says."""

    #: Upper bound of the forecast maximum intensity (the lower bound when open-ended).
    max_intensity: Intensity | None
    #: Prefectures of every forecast area (府県予報区 and 細分区域).
    prefs: frozenset[str]


NO_FORECAST = EewForecast(max_intensity=None, prefs=frozenset())


def _forecast_max(forecast_int: Element | None) -> Intensity | None:
    """``To`` when it is a class, else ``From`` (``3``–``over`` → 3, i.e. 「3程度以上」;
    a missing ``To`` also falls back to ``From``). Both are checked."""
    if forecast_int is None:
        return None
    lower_element = child(forecast_int, NS_SEISMOLOGY, "From")
    upper_element = child(forecast_int, NS_SEISMOLOGY, "To")
    lower = (
        None
        if lower_element is None
        else parse_intensity(text(lower_element), allow=(IntensityWord.UNKNOWN,))
    )
    upper = (
        None
        if upper_element is None
        else parse_intensity(text(upper_element), allow=(IntensityWord.OVER, IntensityWord.UNKNOWN))
    )
    return lower if upper is None else upper


def parse_eew_forecast(body: Element | None) -> EewForecast:
    """The forecast maximum intensity and the prefectures of the forecast areas.

    Unknown area codes (JMA adds codes between table editions) contribute no prefecture.

    Raises:
        TelegramError: a ``ForecastInt`` value that is not an intensity.
    """
    forecast = descend(body, NS_SEISMOLOGY, "Intensity", "Forecast")
    if forecast is None:
        return NO_FORECAST
    prefs: set[str] = set()
    for pref in children(forecast, NS_SEISMOLOGY, "Pref"):
        prefs.update(codes.prefs_of_eew_area(text(child(pref, NS_SEISMOLOGY, "Code"))))
        for area in children(pref, NS_SEISMOLOGY, "Area"):
            region_pref = codes.pref_of_region(text(child(area, NS_SEISMOLOGY, "Code")))
            if region_pref is not None:
                prefs.add(region_pref)
    return EewForecast(
        max_intensity=_forecast_max(child(forecast, NS_SEISMOLOGY, "ForecastInt")),
        prefs=frozenset(prefs),
    )
