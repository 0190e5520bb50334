"""The normalized event: what one JMA telegram (or P2P地震情報 item) says, typed.

This is the contract between ``ingest`` and the rest of yure, and the JSON shape
of ``yure parse`` (docs/cli.md) and of ``event`` in the stream protocol
(docs/protocol.md): :func:`event_to_json` writes it, :func:`event_from_json` (and
:func:`event_from_payload` for JSON bytes) reads it back; nobody else decodes it
(the details' parts are in :mod:`ingest.event_details`). Core module: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from yure.ingest.errors import EventJsonError
from yure.ingest.event_details import (
    IntensityStation,
    TsunamiArea,
    TsunamiObservation,
    TsunamiStation,
    area_from_json,
    area_to_json,
    enum_value,
    observation_from_json,
    observation_to_json,
    optional_enum,
    station_from_json,
    station_to_json,
    when,
)
from yure.ingest.jsonread import (
    read_bool,
    read_datetime,
    read_list,
    read_object,
    read_optional_float,
    read_optional_int,
    read_optional_str,
    read_str,
    read_text,
)
from yure.ingest.scales import INTENSITY_ORDER, Intensity, LgIntensity, TsunamiGrade

__all__ = [
    "INTENSITY_ORDER",
    "Event",
    "Hypocenter",
    "InfoType",
    "Intensity",
    "IntensityStation",
    "Kind",
    "LgIntensity",
    "Provenance",
    "Source",
    "Status",
    "TsunamiArea",
    "TsunamiGrade",
    "TsunamiObservation",
    "TsunamiStation",
    "event_from_json",
    "event_from_payload",
    "event_to_json",
]


class Kind(StrEnum):
    """What an item is about; subscribers filter on it."""

    QUAKE = "quake"  # VXSE51/52/53/61/62
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
    #: Every IntensityStation, sorted by code (VXSE53/61/62).
    stations: tuple[IntensityStation, ...] = ()
    #: Observed tsunamis in telegram order (VTSE51 coastal, VTSE52 offshore).
    tsunami_observations: tuple[TsunamiObservation, ...] = ()
    #: Estimated coastal tsunamis in telegram order (VTSE52).
    tsunami_estimates: tuple[TsunamiObservation, ...] = ()
    #: 長周期地震動階級: the maximum, and per JIS prefecture code (VXSE62).
    max_lg_intensity: LgIntensity | None = None
    lg_intensity: Mapping[str, LgIntensity] = dataclasses.field(default_factory=dict)

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

    Datetimes are ISO 8601 with offset; NaN never appears (unknown numbers are None).
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
        "max_intensity": enum_value(event.max_intensity),
        "intensity": {pref: value.value for pref, value in sorted(event.intensity.items())},
        "stations": [station_to_json(station) for station in event.stations],
        "max_lg_intensity": enum_value(event.max_lg_intensity),
        "lg_intensity": {pref: value.value for pref, value in sorted(event.lg_intensity.items())},
        "tsunami": [area_to_json(area) for area in event.tsunami],
        "tsunami_observations": [observation_to_json(o) for o in event.tsunami_observations],
        "tsunami_estimates": [observation_to_json(o) for o in event.tsunami_estimates],
        "prefs": list(event.prefs),
        "source": None if prov is None else prov.source.value,
        "source_url": None if prov is None else prov.source_url,
        "sha256": None if prov is None else prov.sha256,
        "received_at": None if prov is None else when(prov.received_at),
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
    o = read_object(obj, "event")
    try:
        kind = Kind(read_str(o, "kind"))
        if kind in _USER_KINDS:
            raise EventJsonError(f"kind {kind.value} is not an official event")
        return Event(
            type_code=read_str(o, "type_code"),
            kind=kind,
            status=Status(read_str(o, "status")),
            info_type=InfoType(read_str(o, "info_type")),
            event_id=read_str(o, "event_id"),
            serial=read_optional_int(o, "serial"),
            reported_at=read_datetime(read_str(o, "reported_at")),
            title=read_str(o, "title"),
            headline=read_str(o, "headline"),
            foreign=read_bool(o, "foreign"),
            hypocenter=_hypocenter(o.get("hypocenter")),
            max_intensity=optional_enum(o, "max_intensity", Intensity),
            intensity={
                pref: Intensity(read_text(value, "intensity"))
                for pref, value in read_object(o.get("intensity", {}), "intensity").items()
            },
            tsunami=tuple(
                area_from_json(area) for area in read_list(o.get("tsunami", []), "tsunami")
            ),
            prefs=tuple(
                read_text(pref, "prefs") for pref in read_list(o.get("prefs", []), "prefs")
            ),
            stations=tuple(
                station_from_json(v) for v in read_list(o.get("stations", []), "stations")
            ),
            tsunami_observations=tuple(
                observation_from_json(v)
                for v in read_list(o.get("tsunami_observations", []), "observations")
            ),
            tsunami_estimates=tuple(
                observation_from_json(v)
                for v in read_list(o.get("tsunami_estimates", []), "estimates")
            ),
            max_lg_intensity=optional_enum(o, "max_lg_intensity", LgIntensity),
            lg_intensity={
                pref: LgIntensity(read_text(value, "lg_intensity"))
                for pref, value in read_object(o.get("lg_intensity", {}), "lg_intensity").items()
            },
            provenance=_provenance(o),
        )
    except ValueError as err:  # an enum value or a date that is not ours
        raise EventJsonError(str(err)) from err


_USER_KINDS = frozenset({Kind.POST, Kind.FELT})


def _hypocenter(value: object) -> Hypocenter | None:
    if value is None:
        return None
    o = read_object(value, "hypocenter")
    return Hypocenter(
        name=read_str(o, "name"),
        lat=read_optional_float(o, "lat"),
        lon=read_optional_float(o, "lon"),
        depth_km=read_optional_float(o, "depth_km"),
        magnitude=read_optional_float(o, "magnitude"),
        magnitude_text=read_str(o, "magnitude_text"),
    )


def _provenance(o: dict[str, Any]) -> Provenance | None:
    source = o.get("source")
    if source is None:
        return None
    received = read_optional_str(o, "received_at")
    return Provenance(
        source=Source(read_text(source, "source")),
        source_url=read_optional_str(o, "source_url"),
        sha256=read_optional_str(o, "sha256"),
        received_at=None if received is None else read_datetime(received),
    )
