"""P2P地震情報 JSON API v2 items → typed values. Core module: bytes in, values out.

One WebSocket text frame (or one element of ``/v2/history``) is one JSON object with
``id`` (unique, the dedup key), ``code`` and ``time`` (P2P's receive time, JST,
``yyyy/MM/dd HH:mm:ss.fff``). Codes used here (spec: p2pquake/epsp-specifications
``json-api-v2.yaml`` 2.3.0):

* 551 地震情報 → a VXSE51/52/53 :class:`~ingest.event.Event` (``issue.type``
  ScalePrompt → 震度速報 VXSE51, Destination → 震源に関する情報 VXSE52,
  ScaleAndDestination / DetailScale / Foreign / Other → VXSE53, P2P's converter emits
  the first two from one VXSE53 and Foreign from a 遠地地震に関する情報);
* 552 津波予報 → a VTSE41 event; ``cancelled: true`` is a 解除 (JMA's *normal*
  telegram whose Kind fell below LastKind), not a 取消;
* 556 緊急地震速報（警報） → a VXSE43 event with JMA's EventID and serial;
  ``cancelled: true`` is a 取消;
* 561 地震感知情報 and 9611 its evaluation → :class:`FeltReport` / :class:`FeltEvaluation`
  (unofficial, for the felt-report feature);
* anything else (554, 555, new codes) → :class:`Ignored`.

Sentinels: latitude/longitude −200, depth −1, magnitude −1 mean unknown (→ None);
depth 0 is ごく浅い (→ 0.0); scale −1 is none and 46 is 震度5弱以上未入電 (→ no
intensity value, but the prefecture still concerns the item). Unknown keys are
ignored (real items carry ``user-agent`` *or* ``user_agent``, ``ver``, ``hop`` …).
Place names are resolved to prefectures through :class:`Places`; an item whose names
did not all resolve is marked ``partial`` (see :mod:`ingest.merge`). Typed access to the
decoded JSON is in :mod:`ingest.p2p_wire`, the felt records in :mod:`ingest.p2p_felt`;
this module maps 551/552/556 and dispatches on ``code``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from yure.ingest.event import (
    Event,
    Hypocenter,
    InfoType,
    Intensity,
    Kind,
    Status,
    TsunamiArea,
    TsunamiGrade,
)
from yure.ingest.intensity import strongest
from yure.ingest.p2p_felt import (
    AreaConfidence,
    FeltEvaluation,
    FeltReport,
    parse_evaluation,
    parse_felt_report,
)
from yure.ingest.p2p_wire import (
    JST,
    P2PError,
    Places,
    as_int,
    as_list,
    as_number,
    as_str,
    as_time,
    get_field,
    parse_time,
)

__all__ = [
    "JST",
    "MAX_P2P_MESSAGE_BYTES",
    "AreaConfidence",
    "Code",
    "FeltEvaluation",
    "FeltReport",
    "Ignored",
    "P2PError",
    "P2PItem",
    "Places",
    "QuakeType",
    "Relayed",
    "parse_message",
    "parse_time",
]

#: Largest P2P message accepted, in bytes (a 551 DetailScale of a large earthquake with
#: every station is a few hundred kB).
MAX_P2P_MESSAGE_BYTES = 1024 * 1024
#: Longest ``id`` accepted (P2P uses 24-hex MongoDB ObjectIds).
MAX_P2P_ID_CHARS = 64

#: 551 ``earthquake.time`` of an ``Other`` item without an earthquake.
_MIN_YEAR = 1900
_UNKNOWN_COORDINATE = -200
_UNKNOWN_DEPTH = -1
_UNKNOWN_MAGNITUDE = -1


class Code(StrEnum):
    """P2P information codes handled here."""

    QUAKE = "551"
    TSUNAMI = "552"
    EEW = "556"
    USERQUAKE = "561"
    USERQUAKE_EVALUATION = "9611"


class QuakeType(StrEnum):
    """551 ``issue.type``."""

    SCALE_PROMPT = "ScalePrompt"
    DESTINATION = "Destination"
    SCALE_AND_DESTINATION = "ScaleAndDestination"
    DETAIL_SCALE = "DetailScale"
    FOREIGN = "Foreign"
    OTHER = "Other"


#: 551 issue.type → (電文種別コード, Head/Title of that telegram).
_QUAKE_TYPE: Mapping[QuakeType, tuple[str, str]] = {
    QuakeType.SCALE_PROMPT: ("VXSE51", "震度速報"),
    QuakeType.DESTINATION: ("VXSE52", "震源に関する情報"),
    QuakeType.SCALE_AND_DESTINATION: ("VXSE53", "震源・震度情報"),
    QuakeType.DETAIL_SCALE: ("VXSE53", "震源・震度情報"),
    QuakeType.FOREIGN: ("VXSE53", "遠地地震に関する情報"),
    QuakeType.OTHER: ("VXSE53", "地震情報"),
}
#: 551 ``issue.correct`` values meaning "not a correction".
_NOT_CORRECTED = frozenset({"None", "Unknown", ""})
#: P2P seismic scale → intensity (−1 none, 46 未入電 and EEW 0 / 99 have no class).
_SCALE: Mapping[int, Intensity] = {
    10: Intensity.I1,
    20: Intensity.I2,
    30: Intensity.I3,
    40: Intensity.I4,
    45: Intensity.I5_LOWER,
    50: Intensity.I5_UPPER,
    55: Intensity.I6_LOWER,
    60: Intensity.I6_UPPER,
    70: Intensity.I7,
}
#: 552 grade → yure's grade. ``Unknown`` (old relays) is taken as a warning: an item
#: of unknown strength must not look weaker than it may be.
_TSUNAMI_GRADE: Mapping[str, TsunamiGrade] = {
    "MajorWarning": TsunamiGrade.MAJOR_WARNING,
    "Warning": TsunamiGrade.WARNING,
    "Watch": TsunamiGrade.ADVISORY,
    "Unknown": TsunamiGrade.WARNING,
}
_GRADE_WORD: Mapping[TsunamiGrade, str] = {
    TsunamiGrade.MAJOR_WARNING: "大津波警報",
    TsunamiGrade.WARNING: "津波警報",
    TsunamiGrade.ADVISORY: "津波注意報",
}
_INTENSITY_WORD: Mapping[Intensity, str] = {
    Intensity.I1: "1",
    Intensity.I2: "2",
    Intensity.I3: "3",
    Intensity.I4: "4",
    Intensity.I5_LOWER: "5弱",
    Intensity.I5_UPPER: "5強",
    Intensity.I6_LOWER: "6弱",
    Intensity.I6_UPPER: "6強",
    Intensity.I7: "7",
}
#: Fixed words of the titles and headlines yure writes for relayed items (P2P does not
#: carry JMA's Headline text).
TSUNAMI_TITLE = "津波警報・注意報・予報"
TSUNAMI_LIFTED = "津波警報・注意報は解除されました"
EEW_TITLE = "緊急地震速報（警報）"
EEW_HEADLINE = "強い揺れに警戒してください"
EEW_CANCELLED = "緊急地震速報（警報）は取り消されました"
MAGNITUDE_UNKNOWN = "M不明"
MAX_INTENSITY_WORD = "最大震度"


@dataclasses.dataclass(frozen=True, slots=True)
class Relayed:
    """A JMA item relayed by P2P地震情報 (551, 552, 556). ``event.provenance`` is None."""

    p2p_id: str
    code: Code
    event: Event
    #: Some place names did not resolve to prefectures (see :mod:`ingest.merge`).
    partial: bool
    #: ``user-agent`` / ``user_agent`` of the relay, when given (for logs).
    user_agent: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Ignored:
    """A valid message of a code yure does not use (554, 555, …)."""

    p2p_id: str
    code: int


P2PItem = Relayed | FeltReport | FeltEvaluation | Ignored


def _report_minute(value: Any, p2p_id: str) -> datetime:
    """551/552 ``issue.time`` as JMA's ReportDateTime: P2P gives Control/DateTime, a
    few seconds after the minute-precision ReportDateTime."""
    return as_time(value, "issue.time", p2p_id).replace(second=0, microsecond=0)


# --- 551 / 552 / 556 ------------------------------------------------------------


def _hypocenter(raw: Any, p2p_id: str) -> Hypocenter | None:
    if raw is None:
        return None
    name = as_str(get_field(raw, "name", p2p_id) or "", "hypocenter.name", p2p_id)
    lat = as_number(get_field(raw, "latitude", p2p_id), "latitude", p2p_id)
    lon = as_number(get_field(raw, "longitude", p2p_id), "longitude", p2p_id)
    depth = as_number(get_field(raw, "depth", p2p_id), "depth", p2p_id)
    magnitude = as_number(get_field(raw, "magnitude", p2p_id), "magnitude", p2p_id)
    known_place = lat > _UNKNOWN_COORDINATE and lon > _UNKNOWN_COORDINATE
    if not name and not known_place and magnitude <= _UNKNOWN_MAGNITUDE:
        return None
    mag = None if magnitude <= _UNKNOWN_MAGNITUDE else round(magnitude, 1)
    return Hypocenter(
        name=name,
        lat=lat if known_place else None,
        lon=lon if known_place else None,
        # EEW depths come as floats of which only the integer part is valid (spec).
        depth_km=None if depth <= _UNKNOWN_DEPTH else float(int(depth)),
        magnitude=mag,
        magnitude_text=MAGNITUDE_UNKNOWN if mag is None else f"M{mag:.1f}",
    )


def _quake_headline(hypo: Hypocenter | None, max_int: Intensity | None) -> str:
    parts: list[str] = []
    if hypo is not None and hypo.name:
        parts.append(hypo.name)
    if hypo is not None and hypo.magnitude is not None:
        parts.append(hypo.magnitude_text)
    if max_int is not None:
        parts.append(f"{MAX_INTENSITY_WORD}{_INTENSITY_WORD[max_int]}")
    return "　".join(parts)


def _quake(raw: Any, p2p_id: str, places: Places) -> tuple[Event, bool]:
    issue = get_field(raw, "issue", p2p_id)
    quake = get_field(raw, "earthquake", p2p_id)
    try:
        quake_type = QuakeType(as_str(get_field(issue, "type", p2p_id), "issue.type", p2p_id))
    except ValueError:
        quake_type = QuakeType.OTHER
    type_code, title = _QUAKE_TYPE[quake_type]
    correct = get_field(issue, "correct", p2p_id)
    info_type = (
        InfoType.ISSUED if correct is None or correct in _NOT_CORRECTED else (InfoType.CORRECTED)
    )
    reported_at = _report_minute(get_field(issue, "time", p2p_id), p2p_id)
    quake_time = as_time(get_field(quake, "time", p2p_id), "earthquake.time", p2p_id)
    hypo = _hypocenter(get_field(quake, "hypocenter", p2p_id), p2p_id)
    max_int = _SCALE.get(as_int(get_field(quake, "maxScale", p2p_id), "maxScale", p2p_id))
    partial = False
    by_pref: dict[str, list[Intensity]] = {}
    for point in as_list(get_field(raw, "points", p2p_id), "points", p2p_id):
        name = as_str(get_field(point, "pref", p2p_id), "points.pref", p2p_id)
        scale = as_int(get_field(point, "scale", p2p_id), "points.scale", p2p_id)
        pref = places.pref_of_name(name)
        if pref is None:
            partial = True
            continue
        values = by_pref.setdefault(pref, [])
        if scale in _SCALE:
            values.append(_SCALE[scale])
    intensity = {pref: v for pref, values in by_pref.items() if (v := strongest(values))}
    prefs = set(by_pref)
    if hypo is not None and hypo.name and quake_type is not QuakeType.FOREIGN:
        epicenter_pref = places.pref_of_epicenter(hypo.name)
        if epicenter_pref is not None:
            prefs.add(epicenter_pref)
    stamp = quake_time if quake_time.year >= _MIN_YEAR else reported_at
    event = Event(
        type_code=type_code,
        kind=Kind.QUAKE,
        status=Status.ACTUAL,
        info_type=info_type,
        event_id=f"p2p-{stamp.strftime('%Y%m%d%H%M%S')}",
        serial=None,
        reported_at=reported_at,
        title=title,
        headline=_quake_headline(hypo, max_int),
        foreign=quake_type is QuakeType.FOREIGN,
        hypocenter=hypo,
        max_intensity=max_int,
        intensity=dict(sorted(intensity.items())),
        prefs=tuple(sorted(prefs)),
    )
    return event, partial


def _optional_text(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value.strip() or None if isinstance(value, str) else None


def _with_heights(area: TsunamiArea, raw: dict[str, Any]) -> TsunamiArea:
    """``area`` with P2P's ``firstHeight`` (arrivalTime, condition) and ``maxHeight``
    (value, description), given since 2023-11. These details are optional: a malformed
    one is left out, never a reason to drop a tsunami warning."""
    first, highest = raw.get("firstHeight"), raw.get("maxHeight")
    arrival = _optional_text(first, "arrivalTime")
    try:
        arrival_time = None if arrival is None else parse_time(arrival)
    except P2PError:
        arrival_time = None
    value = highest.get("value") if isinstance(highest, dict) else None
    metres = (
        float(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        else None
    )
    return dataclasses.replace(
        area,
        arrival_time=arrival_time,
        arrival_condition=_optional_text(first, "condition"),
        max_height_m=metres,
        max_height_text=_optional_text(highest, "description"),
    )


def _tsunami(raw: Any, p2p_id: str, places: Places) -> tuple[Event, bool]:
    cancelled = get_field(raw, "cancelled", p2p_id)
    if not isinstance(cancelled, bool):
        raise P2PError("cancelled is not a boolean", p2p_id)
    reported_at = _report_minute(get_field(get_field(raw, "issue", p2p_id), "time", p2p_id), p2p_id)
    partial = False
    areas: list[TsunamiArea] = []
    for area in [] if cancelled else as_list(get_field(raw, "areas", p2p_id), "areas", p2p_id):
        name = as_str(get_field(area, "name", p2p_id), "areas.name", p2p_id)
        grade_text = get_field(area, "grade", p2p_id)
        grade = (
            _TSUNAMI_GRADE.get(grade_text, TsunamiGrade.WARNING)
            if isinstance(grade_text, str)
            else TsunamiGrade.WARNING
        )
        found = places.tsunami_area(name)
        if found is None:
            partial = True
        code, prefs = found if found is not None else ("", ())
        areas.append(_with_heights(TsunamiArea(code, name, grade, prefs), area))
    grades = {area.grade for area in areas}
    words = [word for grade, word in _GRADE_WORD.items() if grade in grades]
    event = Event(
        type_code="VTSE41",
        kind=Kind.TSUNAMI,
        status=Status.ACTUAL,
        info_type=InfoType.ISSUED,
        event_id=f"p2p-{p2p_id}",
        serial=None,
        reported_at=reported_at,
        title=TSUNAMI_TITLE,
        headline=TSUNAMI_LIFTED if cancelled else "・".join(words),
        tsunami=tuple(areas),
        prefs=tuple(sorted({pref for area in areas for pref in area.prefs})),
    )
    return event, partial


def _eew(raw: Any, p2p_id: str, places: Places) -> tuple[Event, bool]:
    issue = get_field(raw, "issue", p2p_id)
    event_id = as_str(get_field(issue, "eventId", p2p_id), "issue.eventId", p2p_id)
    serial_raw = get_field(issue, "serial", p2p_id)
    # The spec says string ("1"); accept a JSON integer too.
    serial_text = str(serial_raw) if isinstance(serial_raw, int) else serial_raw
    serial_text = as_str(serial_text, "issue.serial", p2p_id).strip()
    if not event_id or not serial_text.isdigit():
        raise P2PError("issue.eventId or issue.serial missing", p2p_id)
    cancelled = get_field(raw, "cancelled", p2p_id) is True
    test = get_field(raw, "test", p2p_id) is True
    quake = get_field(raw, "earthquake", p2p_id)
    hypo = None if quake is None else _hypocenter(get_field(quake, "hypocenter", p2p_id), p2p_id)
    partial = False
    prefs: set[str] = set()
    lower_bounds: list[Intensity] = []
    for area in as_list(get_field(raw, "areas", p2p_id), "areas", p2p_id):
        name = as_str(get_field(area, "pref", p2p_id), "areas.pref", p2p_id)
        found = places.prefs_of_eew_area(name)
        if found is None:
            partial = True
        else:
            prefs.update(found)
        scale_from = _SCALE.get(as_int(get_field(area, "scaleFrom", p2p_id), "scaleFrom", p2p_id))
        if scale_from is not None:
            lower_bounds.append(scale_from)
    max_int = strongest(lower_bounds)
    headline = (
        EEW_CANCELLED
        if cancelled
        else "　".join(part for part in (hypo.name if hypo else "", EEW_HEADLINE) if part)
    )
    event = Event(
        type_code="VXSE43",
        kind=Kind.EEW,
        status=Status.TEST if test else Status.ACTUAL,
        info_type=InfoType.CANCELLED if cancelled else InfoType.ISSUED,
        event_id=event_id,
        serial=int(serial_text),
        reported_at=as_time(get_field(issue, "time", p2p_id), "issue.time", p2p_id),
        title=EEW_TITLE,
        headline=headline,
        hypocenter=hypo,
        max_intensity=max_int,
        prefs=tuple(sorted(prefs)),
    )
    return event, partial


def parse_message(data: bytes, places: Places) -> P2PItem:
    """Parse one P2P地震情報 message (one JSON object).

    Raises:
        P2PError: too large, not JSON, not an object, no ``id``/``code``, or a field of a
            known code has the wrong type or format (``p2p_id`` set when known).
    """
    if len(data) > MAX_P2P_MESSAGE_BYTES:
        raise P2PError(f"message is {len(data)} bytes, over {MAX_P2P_MESSAGE_BYTES}")
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise P2PError(f"message is not JSON: {err}") from err
    if not isinstance(raw, dict):
        raise P2PError("message is not a JSON object")
    p2p_id = raw.get("id")
    if not isinstance(p2p_id, str) or not p2p_id or len(p2p_id) > MAX_P2P_ID_CHARS:
        raise P2PError("message has no usable id")
    code = as_int(raw.get("code"), "code", p2p_id)
    agent = raw.get("user-agent", raw.get("user_agent"))
    user_agent = agent if isinstance(agent, str) else None
    builders = {Code.QUAKE: _quake, Code.TSUNAMI: _tsunami, Code.EEW: _eew}
    try:
        known = Code(str(code))
    except ValueError:
        return Ignored(p2p_id=p2p_id, code=code)
    if known in builders:
        event, partial = builders[known](raw, p2p_id, places)
        return Relayed(p2p_id, known, event, partial, user_agent)
    if known is Code.USERQUAKE:
        return parse_felt_report(raw, p2p_id, places)
    return parse_evaluation(raw, p2p_id, places)
