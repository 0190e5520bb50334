"""JMA 防災情報XML telegram → :class:`~ingest.event.Event`.

The entry point is :func:`parse_telegram`. The document is loaded safely
(:mod:`ingest.xmlsafe`), ``Control`` and ``Head`` give what every telegram has
(status, info type, event id, serial, time, title, headline), and the seismic
``Body`` is read according to the type (電文種別コード):

=========================  =======  ==================================================
type code                  kind     body parts read
=========================  =======  ==================================================
VXSE51 52 53 61 62         quake    hypocentre, observed intensities per prefecture and
                                    per station (with coordinates), 長周期地震動階級
                                    (VXSE62) (prefs: observed prefectures, else the
                                    epicentre's prefecture)
VXSE43 44 45               eew      hypocentre, forecast max intensity and areas (prefs:
                                    forecast areas, else the epicentre's prefecture)
VTSE41 51 52               tsunami  hypocentre, every 津波予報区 with grade, last grade,
                                    expected arrival and height and tide stations;
                                    observations and estimates (VTSE51/52) (prefs:
                                    every area named, lifted ones included)
VZSE40, VYSE50 60          notice   hypocentre when given
anything else              other    nothing: title and headline only
=========================  =======  ==================================================

A 取消 telegram has an almost empty body; the same rules then simply find nothing.
Core module: bytes in, Event out, no I/O.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from xml.etree.ElementTree import Element

from yure.ingest.eew import parse_eew_forecast
from yure.ingest.errors import TelegramError
from yure.ingest.event import Event, Kind
from yure.ingest.jma_words import (
    FOREIGN_QUAKE_TITLE,
    INFO_TYPE_WORDS,
    KIND_OF_TYPE_CODE,
    STATUS_WORDS,
    TYPE_CODE_OF_TITLE,
)
from yure.ingest.quake import epicenter_prefs, parse_hypocenter, parse_observation
from yure.ingest.stations import parse_long_period, parse_stations
from yure.ingest.tsunami import parse_tsunami
from yure.ingest.tsunami_obs import parse_tsunami_readings
from yure.ingest.xmlsafe import (
    MAX_TELEGRAM_BYTES,
    NS_HEAD,
    NS_REPORT,
    Report,
    child,
    descend,
    load_report,
    text,
)

__all__ = ["MAX_TELEGRAM_BYTES", "parse_telegram", "type_code_of"]

#: 電文種別コード as it appears in JMA file names (``…_VXSE53_….xml``,
#: ``32-35_06_03_240613_VXSE53.xml``).
_TYPE_CODE = re.compile(r"(?<![A-Z])V[A-Z]{3}\d\d(?!\d)", re.ASCII)
_SERIAL = re.compile(r"\d{1,9}", re.ASCII)


def type_code_of(file_name: str | None, control_title: str) -> str:
    """The 電文種別コード: from the file name's last segment, else from Control/Title.

    Returns ``""`` when neither tells (an unknown title and no usable file name).
    """
    if file_name:
        base = re.split(r"[/\\]", file_name)[-1]
        match = _TYPE_CODE.search(base)
        if match is not None:
            return match.group()
    return TYPE_CODE_OF_TITLE.get(control_title, "")


def _required(parent: Element, namespace: str, local: str) -> str:
    value = text(child(parent, namespace, local))
    if not value:
        raise TelegramError(f"missing or empty {local}")
    return value


def _serial(head: Element) -> int | None:
    """Head/Serial: an integer, or None for an empty (or absent) element."""
    value = text(child(head, NS_HEAD, "Serial"))
    if not value:
        return None
    if _SERIAL.fullmatch(value) is None:
        raise TelegramError(f"Serial {value!r} is not a number")
    return int(value)


def _reported_at(head: Element) -> datetime:
    value = _required(head, NS_HEAD, "ReportDateTime")
    try:
        reported_at = datetime.fromisoformat(value)
    except ValueError as err:
        raise TelegramError(f"ReportDateTime {value!r} is not ISO 8601") from err
    if reported_at.tzinfo is None:
        raise TelegramError(f"ReportDateTime {value!r} has no UTC offset")
    return reported_at


def _envelope(report: Report, file_name: str | None) -> Event:
    """The Event as far as Control and Head tell (no body parts)."""
    control, head = report.control, report.head
    status_word = text(child(control, NS_REPORT, "Status"))
    if status_word not in STATUS_WORDS:
        raise TelegramError(f"unknown Control/Status {status_word!r}")
    info_type_word = text(child(head, NS_HEAD, "InfoType"))
    if info_type_word not in INFO_TYPE_WORDS:
        raise TelegramError(f"unknown Head/InfoType {info_type_word!r}")
    type_code = type_code_of(file_name, text(child(control, NS_REPORT, "Title")))
    kind = KIND_OF_TYPE_CODE.get(type_code, Kind.OTHER)
    title = _required(head, NS_HEAD, "Title")
    # Earthquake and tsunami telegrams always carry an EventID (it groups an event's
    # telegrams); other families may leave it empty (気象警報・注意報 do).
    event_id = text(child(head, NS_HEAD, "EventID"))
    if not event_id and kind is not Kind.OTHER:
        raise TelegramError("missing or empty EventID")
    return Event(
        type_code=type_code,
        kind=kind,
        status=STATUS_WORDS[status_word],
        info_type=INFO_TYPE_WORDS[info_type_word],
        event_id=event_id,
        serial=_serial(head),
        reported_at=_reported_at(head),
        title=title,
        headline=text(descend(head, NS_HEAD, "Headline", "Text")),
        foreign=title == FOREIGN_QUAKE_TITLE,
    )


def _with_body(event: Event, body: Element | None) -> Event:
    """``event`` completed with what its kind reads from the seismic body."""
    hypocenter = parse_hypocenter(body)
    event = dataclasses.replace(event, hypocenter=hypocenter)
    if event.kind is Kind.QUAKE:
        observation = parse_observation(body)
        long_period = parse_long_period(body)
        return dataclasses.replace(
            event,
            max_intensity=observation.max_intensity,
            intensity=observation.intensity,
            stations=parse_stations(body),
            max_lg_intensity=long_period.max_lg_intensity,
            lg_intensity=long_period.lg_intensity,
            prefs=_sorted(observation.prefs or epicenter_prefs(hypocenter)),
        )
    if event.kind is Kind.EEW:
        forecast = parse_eew_forecast(body)
        return dataclasses.replace(
            event,
            max_intensity=forecast.max_intensity,
            prefs=_sorted(forecast.prefs or epicenter_prefs(hypocenter)),
        )
    if event.kind is Kind.TSUNAMI:
        info = parse_tsunami(body)
        readings = parse_tsunami_readings(body)
        return dataclasses.replace(
            event,
            tsunami=info.areas,
            tsunami_observations=readings.observations,
            tsunami_estimates=readings.estimates,
            prefs=_sorted(info.prefs),
        )
    return event


def _sorted(prefs: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(prefs))


def parse_telegram(data: bytes, *, file_name: str | None = None) -> Event:
    """Parse one JMA 防災情報XML telegram into an :class:`Event`.

    Args:
        data: the document's bytes, at most :data:`MAX_TELEGRAM_BYTES`.
        file_name: the name (or URL) it came under; its ``V…`` type code wins over
            the one derived from ``Control/Title``.

    Returns:
        The event, with ``provenance`` None (drivers attach it). Types yure does not
        interpret come back as :attr:`Kind.OTHER` with their title and headline.

    Raises:
        TelegramError: the only exception raised because of the document: too large,
            not well-formed, DTD/entities, not a JMA report, a required Head element
            missing, or a value (status, info type, serial, date, coordinate,
            magnitude, intensity, tsunami code, prefecture) not in JMA's format.
            (geo's :class:`~geo.errors.GeoError` can only come from a broken
            installation, when yure's own code tables in ``data/`` cannot be read.)
    """
    report = load_report(data)
    event = _envelope(report, file_name)
    if event.kind is Kind.OTHER:
        return event
    return _with_body(event, report.body)
