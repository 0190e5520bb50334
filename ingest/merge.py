"""One identity per JMA item, whether it came from JMA's feed or via P2P地震情報.

P2P地震情報 relays JMA telegrams (its converter, p2pquake/jmaxml-seis-parser-go, turns
VXSE51/52/53 into code 551, VTSE41 into 552 and VXSE43 into 556), usually a minute or
two before the item shows up in JMA's feed. Both copies must end up as *one* entry on
the timeline, which dedupes on the publication key. So the key of an item is built only
from what both copies carry. Core module: values in, strings out.

What each copy carries, and therefore the key (details and pitfalls in docs/ingest.md):

* EEW (VXSE43 ↔ 556): ``issue.eventId`` and ``issue.serial`` are JMA's Head/EventID and
  Head/Serial verbatim → ``jma:VXSE43:{event_id}:{serial}:{info_type}``.
* Quake information (VXSE51/52/53 ↔ 551): P2P carries no EventID and no serial, and the
  EventID cannot be rebuilt from ``earthquake.time``: JMA's EventID holds the seconds of
  the detection (北海道胆振東部地震: ``20180906030759``) while ``earthquake.time`` is the
  minute-rounded Body/Earthquake/ArrivalTime (``2018/09/06 03:08:00``), or Head/
  TargetDateTime for 震度速報 (reference telegram VXSE51: EventID ``20090811050711``,
  TargetDateTime ``05:07:00``). The key is instead the type, the minute of
  Head/ReportDateTime (P2P's ``issue.time``, which is Control/DateTime, a few seconds
  later: truncated to the minute), the info type and a digest of the content both
  carry: for 震度速報 the max intensity and the prefectures listed (both list every
  area with 震度3 or more); for VXSE52/53 the max intensity, magnitude and epicentre
  (P2P's ScaleAndDestination lists only the Headline's areas and DetailScale every
  station, so prefecture sets differ between the copies).
* Tsunami warnings (VTSE41 ↔ 552): type, report minute, info type and a digest of the
  areas under a warning or advisory with their grade (P2P drops forecast-only areas).
* Everything else exists only in JMA's feed: type, EventID, serial, info type and
  ReportDateTime.

A P2P copy whose place names could not all be resolved to prefectures is *partial*: its
key gets a ``:partial`` suffix so that the complete JMA copy is not mistaken for a
duplicate; it replaces the partial one instead (and reaches everyone the partial one
reached).

Streams (what the ledger orders): the EEW family of one event; all VTSE41 telegrams
(each states the national set of tsunami warnings in force, and its EventID may list
several earthquakes); otherwise one type of one event. A P2P quake item has no EventID,
so it is a stream of its own: its duplicates are caught, its order is not judged.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timedelta, timezone

from yure.ingest.event import Event, Source, TsunamiGrade

JST = timezone(timedelta(hours=9), "JST")

#: Every key starts with this: both sources carry JMA items.
KEY_PREFIX = "jma"
#: Suffix of the key of a P2P copy with unresolved place names.
PARTIAL_SUFFIX = "partial"
#: Quake information relayed by P2P as code 551.
QUAKE_INFO_TYPES = frozenset({"VXSE51", "VXSE52", "VXSE53"})
#: 震度速報: no hypocentre, every area with 震度3 or more.
SCALE_PROMPT_TYPE = "VXSE51"
#: 緊急地震速報 (警報 / 予報 / 地震動予報): one serial sequence per EventID.
EEW_TYPES = frozenset({"VXSE43", "VXSE44", "VXSE45"})
#: 津波警報・注意報・予報, relayed by P2P as code 552.
TSUNAMI_WARNING_TYPE = "VTSE41"
#: Grades P2P relays (it leaves out 若干の海面変動 and areas with nothing in force).
_RELAYED_GRADES = frozenset(
    {TsunamiGrade.MAJOR_WARNING, TsunamiGrade.WARNING, TsunamiGrade.ADVISORY}
)
_DIGEST_HEX_CHARS = 12
#: A serial-less telegram ranks below any numbered one of the same stream.
NO_SERIAL = -1

#: (serial or NO_SERIAL, ReportDateTime as POSIX seconds): larger is newer.
Rank = tuple[int, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """Where an item stands: its publication key and the stream the ledger orders it in."""

    key: str
    stream: str


def _minute(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y%m%d%H%M")


def _second(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y%m%d%H%M%S")


def _digest(parts: list[str]) -> str:
    joined = "\x1f".join(parts).encode()
    return hashlib.sha256(joined).hexdigest()[:_DIGEST_HEX_CHARS]


def _serial(event: Event) -> str:
    return "-" if event.serial is None else str(event.serial)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _quake_digest(event: Event) -> str:
    max_int = "-" if event.max_intensity is None else event.max_intensity.value
    if event.type_code == SCALE_PROMPT_TYPE:
        # 震度速報 lists every area with 震度3 or more, and so does P2P's ScalePrompt.
        return _digest([max_int, ",".join(sorted(event.intensity))])
    # VXSE52/53: P2P's ScaleAndDestination carries only the Headline's areas, its
    # DetailScale every station: their prefecture sets differ from JMA's; the
    # hypocentre does not.
    hypo = event.hypocenter
    if hypo is None:
        return _digest([max_int])
    return _digest([max_int, _number(hypo.magnitude), _number(hypo.lat), _number(hypo.lon)])


def _tsunami_digest(event: Event) -> str:
    areas = sorted(
        f"{area.area_name}={area.grade.value}"
        for area in event.tsunami
        if area.grade in _RELAYED_GRADES
    )
    return _digest(areas)


def item_key(event: Event, *, partial: bool = False) -> str:
    """The publication key of ``event``: equal for the JMA and the P2P copy of one item.

    Args:
        event: a parsed telegram or a mapped P2P item.
        partial: the P2P copy lacks some prefectures (see module docstring).
    """
    info = event.info_type.value
    code = event.type_code
    if code in EEW_TYPES:
        key = f"{KEY_PREFIX}:{code}:{event.event_id}:{_serial(event)}:{info}"
    elif code in QUAKE_INFO_TYPES:
        key = f"{KEY_PREFIX}:{code}:{_minute(event.reported_at)}:{info}:{_quake_digest(event)}"
    elif code == TSUNAMI_WARNING_TYPE:
        key = f"{KEY_PREFIX}:{code}:{_minute(event.reported_at)}:{info}:{_tsunami_digest(event)}"
    else:
        key = (
            f"{KEY_PREFIX}:{code}:{event.event_id}:{_serial(event)}:{info}"
            f":{_second(event.reported_at)}"
        )
    return f"{key}:{PARTIAL_SUFFIX}" if partial else key


def is_partial(key: str) -> bool:
    """Whether ``key`` is the key of a partial P2P copy."""
    return key.endswith(f":{PARTIAL_SUFFIX}")


def stream_of(event: Event, key: str) -> str:
    """The ledger stream of ``event`` whose key is ``key`` (see module docstring)."""
    code = event.type_code
    if code in EEW_TYPES:
        return f"eew:{event.event_id}"
    if code == TSUNAMI_WARNING_TYPE:
        return f"tsunami:{code}"
    from_p2p = event.provenance is not None and event.provenance.source is Source.P2P
    if from_p2p and code in QUAKE_INFO_TYPES:
        return f"item:{key}"
    return f"{code}:{event.event_id}"


def identify(event: Event, *, partial: bool = False) -> Identity:
    """Key and stream of ``event`` (``partial`` as in :func:`item_key`)."""
    key = item_key(event, partial=partial)
    return Identity(key=key, stream=stream_of(event, key))


def rank_of(event: Event) -> Rank:
    """Order within a stream: serial first (JMA numbers each issue of an event,
    corrections and cancellations included), then ReportDateTime (types with an empty
    Head/Serial, e.g. VXSE51/52 and VTSE41, are ordered by it alone)."""
    serial = NO_SERIAL if event.serial is None else event.serial
    return (serial, int(event.reported_at.timestamp()))
