"""The normalized event: what one JMA telegram (or P2P地震情報 item) says, typed.

This is the contract between ``ingest`` and the rest of yure, and the JSON shape
of ``yure parse`` (docs/cli.md) and of ``event`` in the stream protocol
(docs/protocol.md): :func:`event_to_json` writes it, :func:`event_from_json` (and
:func:`event_from_payload` for JSON bytes) reads it back; nobody else decodes it.
Core module: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from yure.ingest.errors import EventJsonError


class Kind(StrEnum):
    """What an item is about; subscribers filter on it."""

    QUAKE = "quake"  # VXSE51/52/53/61
    EEW = "eew"  # VXSE43/44/45
    TSUNAMI = "tsunami"  # VTSE41/51/52
    NOTICE = "notice"  # VZSE40, VYSE50/60
    OTHER = "other"  # any other telegram type
    POST = "post"  # user post (unverified)
    FELT = "felt"  # aggregated "揺れた" felt reports (unverified)


class Status(StrEnum):
    """Control/Status: 通常 / 訓練 / 試験."""

    ACTUAL = "actual"
    EXERCISE = "exercise"
    TEST = "test"


class InfoType(StrEnum):
    """Head/InfoType: 発表 / 訂正 / 取消."""

    ISSUED = "issued"
    CORRECTED = "corrected"
    CANCELLED = "cancelled"


class Intensity(StrEnum):
    """JMA seismic intensity (震度) classes, as JMA writes them in ``MaxInt``."""

    I1 = "1"
    I2 = "2"
    I3 = "3"
    I4 = "4"
    I5_LOWER = "5-"
    I5_UPPER = "5+"
    I6_LOWER = "6-"
    I6_UPPER = "6+"
    I7 = "7"


#: Intensity order, weakest first, for "max of" computations.
INTENSITY_ORDER: tuple[Intensity, ...] = tuple(Intensity)


class TsunamiGrade(StrEnum):
    """津波警報等の種類, coarsened to what a subscriber needs."""

    MAJOR_WARNING = "major_warning"  # 大津波警報 (Kind 52/53, JMA code table 14)
    WARNING = "warning"  # 津波警報 (Kind 51)
    ADVISORY = "advisory"  # 津波注意報
    FORECAST = "forecast"  # 津波予報（若干の海面変動）
    NONE = "none"  # 解除 / なし


class Source(StrEnum):
    """Where an item came from."""

    JMA = "jma"
    P2P = "p2p"
    USER = "user"


@dataclasses.dataclass(frozen=True, slots=True)
class Hypocenter:
    """震源. ``depth_km`` is 0 for ごく浅い and None when unknown; ``magnitude`` is None
    when JMA gives NaN (``magnitude_text`` then keeps JMA's words, e.g. ``M不明``)."""

    name: str
    lat: float | None
    lon: float | None
    depth_km: float | None
    magnitude: float | None
    magnitude_text: str


@dataclasses.dataclass(frozen=True, slots=True)
class TsunamiArea:
    """One 津波予報区 in a tsunami telegram, with every prefecture it touches."""

    area_code: str
    area_name: str
    grade: TsunamiGrade
    prefs: tuple[str, ...]
    #: The grade before this telegram (from LastKind); a 解除 is grade NONE after a higher one.
    last_grade: TsunamiGrade | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Provenance:
    """Where and when yure got an item, and a hash of the exact bytes."""

    source: Source
    source_url: str | None
    sha256: str | None
    received_at: datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One normalized item. Field names and meanings are the ``yure parse`` contract."""

    type_code: str
    kind: Kind
    status: Status
    info_type: InfoType
    event_id: str
    serial: int | None
    reported_at: datetime
    title: str
    headline: str
    foreign: bool = False
    hypocenter: Hypocenter | None = None
    max_intensity: Intensity | None = None
    #: Observed max intensity per JIS prefecture code (VXSE51/53).
    intensity: Mapping[str, Intensity] = dataclasses.field(default_factory=dict)
    tsunami: tuple[TsunamiArea, ...] = ()
    #: Sorted JIS X 0401 codes the item concerns.
    prefs: tuple[str, ...] = ()
    provenance: Provenance | None = None

    @property
    def official(self) -> bool:
        """JMA telegrams (directly or relayed by P2P地震情報) are official."""
        return self.kind not in (Kind.POST, Kind.FELT)

    @property
    def public(self) -> bool:
        """訓練 and 試験 telegrams never reach the public feed."""
        return self.status is Status.ACTUAL


def event_to_json(event: Event) -> dict[str, Any]:
    """The wire form of an event (the wire edge: ``Any`` is allowed here).

    Datetimes are ISO 8601 with offset; NaN never appears (magnitudes are None).
    """
    hypo = event.hypocenter
    prov = event.provenance
    return {
        "type_code": event.type_code,
        "kind": event.kind.value,
        "official": event.official,
        "status": event.status.value,
        "info_type": event.info_type.value,
        "event_id": event.event_id,
        "serial": event.serial,
        "reported_at": event.reported_at.isoformat(),
        "title": event.title,
        "headline": event.headline,
        "foreign": event.foreign,
        "hypocenter": None
        if hypo is None
        else {
            "name": hypo.name,
            "lat": hypo.lat,
            "lon": hypo.lon,
            "depth_km": hypo.depth_km,
            "magnitude": hypo.magnitude,
            "magnitude_text": hypo.magnitude_text,
        },
        "max_intensity": None if event.max_intensity is None else event.max_intensity.value,
        "intensity": {pref: value.value for pref, value in sorted(event.intensity.items())},
        "tsunami": [
            {
                "area_code": area.area_code,
                "area_name": area.area_name,
                "grade": area.grade.value,
                "last_grade": None if area.last_grade is None else area.last_grade.value,
                "prefs": list(area.prefs),
            }
            for area in event.tsunami
        ],
        "prefs": list(event.prefs),
        "source": None if prov is None else prov.source.value,
        "source_url": None if prov is None else prov.source_url,
        "sha256": None if prov is None else prov.sha256,
        "received_at": None
        if prov is None or prov.received_at is None
        else prov.received_at.isoformat(),
    }


#: Largest event payload :func:`event_from_payload` decodes (a tsunami telegram with
#: every 津波予報区 is about 40 kB).
MAX_EVENT_JSON_BYTES = 1_000_000


def event_from_payload(payload: bytes) -> Event:
    """The event whose :func:`event_to_json` was serialized as ``payload`` (JSON bytes).

    Raises:
        EventJsonError: not JSON, too large, or not an event's wire form.
    """
    if len(payload) > MAX_EVENT_JSON_BYTES:
        raise EventJsonError(f"payload of {len(payload)} bytes > {MAX_EVENT_JSON_BYTES}")
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise EventJsonError(f"not JSON: {err}") from err
    return event_from_json(obj)


def event_from_json(obj: object) -> Event:
    """The inverse of :func:`event_to_json` (the wire edge: ``obj`` is untyped JSON).

    Only official items are events; posts and felt reports (``kind`` post/felt) are
    safety_check's own wire forms and are refused here.

    Raises:
        EventJsonError: ``obj`` is not the wire form of an event.
    """
    o = _object(obj, "event")
    try:
        kind = Kind(_str(o, "kind"))
        if kind in _USER_KINDS:
            raise EventJsonError(f"kind {kind.value} is not an official event")
        return Event(
            type_code=_str(o, "type_code"),
            kind=kind,
            status=Status(_str(o, "status")),
            info_type=InfoType(_str(o, "info_type")),
            event_id=_str(o, "event_id"),
            serial=_optional_int(o, "serial"),
            reported_at=_datetime(_str(o, "reported_at")),
            title=_str(o, "title"),
            headline=_str(o, "headline"),
            foreign=_bool(o, "foreign"),
            hypocenter=_hypocenter(o.get("hypocenter")),
            max_intensity=None
            if o.get("max_intensity") is None
            else Intensity(_str(o, "max_intensity")),
            intensity={
                pref: Intensity(_text(value, "intensity"))
                for pref, value in _object(o.get("intensity", {}), "intensity").items()
            },
            tsunami=tuple(_tsunami_area(area) for area in _list(o.get("tsunami", []), "tsunami")),
            prefs=tuple(_text(pref, "prefs") for pref in _list(o.get("prefs", []), "prefs")),
            provenance=_provenance(o),
        )
    except ValueError as err:  # an enum value or a date that is not ours
        raise EventJsonError(str(err)) from err


_USER_KINDS = frozenset({Kind.POST, Kind.FELT})


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventJsonError(f"{name} is not an object")
    return value


def _list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise EventJsonError(f"{name} is not a list")
    return value


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise EventJsonError(f"{name} is not a string")
    return value


def _str(o: dict[str, Any], key: str) -> str:
    return _text(o.get(key), key)


def _optional_str(o: dict[str, Any], key: str) -> str | None:
    value = o.get(key)
    return None if value is None else _text(value, key)


def _bool(o: dict[str, Any], key: str) -> bool:
    value = o.get(key, False)
    if not isinstance(value, bool):
        raise EventJsonError(f"{key} is not a boolean")
    return value


def _optional_int(o: dict[str, Any], key: str) -> int | None:
    value = o.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventJsonError(f"{key} is not an integer")
    return value


def _optional_float(o: dict[str, Any], key: str) -> float | None:
    value = o.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventJsonError(f"{key} is not a number")
    return float(value)


def _datetime(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise EventJsonError(f"datetime without offset: {text!r}")
    return when


def _hypocenter(value: object) -> Hypocenter | None:
    if value is None:
        return None
    o = _object(value, "hypocenter")
    return Hypocenter(
        name=_str(o, "name"),
        lat=_optional_float(o, "lat"),
        lon=_optional_float(o, "lon"),
        depth_km=_optional_float(o, "depth_km"),
        magnitude=_optional_float(o, "magnitude"),
        magnitude_text=_str(o, "magnitude_text"),
    )


def _tsunami_area(value: object) -> TsunamiArea:
    o = _object(value, "tsunami area")
    last = o.get("last_grade")
    return TsunamiArea(
        area_code=_str(o, "area_code"),
        area_name=_str(o, "area_name"),
        grade=TsunamiGrade(_str(o, "grade")),
        prefs=tuple(_text(pref, "prefs") for pref in _list(o.get("prefs", []), "prefs")),
        last_grade=None if last is None else TsunamiGrade(_text(last, "last_grade")),
    )


def _provenance(o: dict[str, Any]) -> Provenance | None:
    source = o.get("source")
    if source is None:
        return None
    received = _optional_str(o, "received_at")
    return Provenance(
        source=Source(_text(source, "source")),
        source_url=_optional_str(o, "source_url"),
        sha256=_optional_str(o, "sha256"),
        received_at=None if received is None else _datetime(received),
    )
