"""What a timeline entry means to push, and the message it becomes. Core module.

:func:`alert_from_entry` decodes the entry's event (ingest.event's one decoder,
``event_from_payload``) into an :class:`Alert`; :func:`message_of` makes the payload
and the RFC 8030 headers:

* ``Topic`` (§5.4): one per (kind, JMA EventID), so every later telegram of the same
  event — a new serial, a 訂正, a 取消 — replaces an undelivered earlier one at the push
  service, and (as the notification ``tag``) the shown one on the device;
* ``Urgency`` (§5.3): ``high`` for EEW, tsunami warnings and intensity 5- or more;
* ``TTL`` (§5.2): how long the alert is worth delivering (an EEW two minutes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Mapping
from enum import StrEnum

import orjson

from yure.broadcast.envelope import Entry
from yure.ingest.errors import EventJsonError
from yure.ingest.event import (
    INTENSITY_ORDER,
    InfoType,
    Intensity,
    Kind,
    TsunamiGrade,
    event_from_payload,
)
from yure.push.ece import MAX_PLAINTEXT_BYTES, b64url_encode
from yure.push.prefs import PUSHABLE_KINDS, intensity_at_least

log = logging.getLogger(__name__)

#: Largest encrypted payload plaintext yure sends (under one 4096-byte record).
MAX_PUSH_PAYLOAD_BYTES = 3072
assert MAX_PUSH_PAYLOAD_BYTES <= MAX_PLAINTEXT_BYTES
#: Characters of the notification body before it is cut (JMA headlines are shorter).
MAX_BODY_CHARS = 600
#: Seconds a push service keeps an undelivered message, per kind.
TTL_EEW_S = 120
TTL_TSUNAMI_S = 6 * 3600
TTL_QUAKE_S = 3 * 3600
TTL_OTHER_S = 12 * 3600
#: RFC 8030 §5.4: a topic is at most 32 characters of the base64url alphabet.
TOPIC_CHARS = 32

#: Tsunami grades from weakest to strongest.
GRADE_ORDER: tuple[TsunamiGrade, ...] = (
    TsunamiGrade.NONE,
    TsunamiGrade.FORECAST,
    TsunamiGrade.ADVISORY,
    TsunamiGrade.WARNING,
    TsunamiGrade.MAJOR_WARNING,
)


_PUSHABLE_NAMES = frozenset(k.value for k in PUSHABLE_KINDS)
#: web/static/js/params.js accepts item keys ``[ei]:[\w-]{1,64}``.
_CARD_EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Urgency(StrEnum):
    """RFC 8030 §5.3 (the two yure uses)."""

    NORMAL = "normal"
    HIGH = "high"


@dataclasses.dataclass(frozen=True, slots=True)
class Alert:
    """An official timeline entry, as push sees it."""

    id: str
    kind: Kind
    info_type: InfoType
    event_id: str
    title: str
    headline: str
    prefs: frozenset[str]
    max_intensity: Intensity | None = None
    #: Observed (quake) intensity per prefecture; empty when the item has none.
    intensity: Mapping[str, Intensity] = dataclasses.field(default_factory=dict)
    #: Per prefecture, the strongest tsunami grade now *or before* this telegram (so a
    #: 解除 of a warning still concerns the coast it was for).
    tsunami: Mapping[str, TsunamiGrade] = dataclasses.field(default_factory=dict)
    #: Current (not previous) strongest grade over all areas.
    tsunami_now: TsunamiGrade = TsunamiGrade.NONE

    @property
    def retracts(self) -> bool:
        """A 取消 or 訂正: goes to whoever got a push about this event."""
        return self.info_type in (InfoType.CANCELLED, InfoType.CORRECTED)


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """The plaintext payload and the headers of one alert's push."""

    payload: bytes
    topic: str
    urgency: Urgency
    ttl_s: int


def alert_from_entry(entry: Entry) -> Alert | None:
    """The :class:`Alert` of ``entry``, or None when it never pushes (posts, felt
    reports, unofficial or unknown kinds, or a payload that is not an event)."""
    if entry.kind not in _PUSHABLE_NAMES:
        return None
    try:
        event = event_from_payload(entry.payload)
    except EventJsonError as err:
        log.warning("push skips entry id=%s error=%s", entry.id, err)
        return None
    if not event.official or event.kind not in PUSHABLE_KINDS:
        return None
    tsunami: dict[str, TsunamiGrade] = {}
    tsunami_now = TsunamiGrade.NONE
    for area in event.tsunami:
        tsunami_now = strongest_grade(tsunami_now, area.grade)
        reach = strongest_grade(area.grade, area.last_grade or TsunamiGrade.NONE)
        for pref in area.prefs:
            tsunami[pref] = strongest_grade(tsunami.get(pref, TsunamiGrade.NONE), reach)
    return Alert(
        id=entry.id,
        kind=event.kind,
        info_type=event.info_type,
        event_id=event.event_id,
        title=event.title,
        headline=event.headline,
        # The entry's tags: for a 取消/訂正, broadcast merged in the replaced item's.
        prefs=frozenset(entry.prefs),
        max_intensity=event.max_intensity,
        intensity=dict(event.intensity),
        tsunami=tsunami,
        tsunami_now=tsunami_now,
    )


def strongest_grade(a: TsunamiGrade, b: TsunamiGrade) -> TsunamiGrade:
    """The stronger of two tsunami grades."""
    return a if GRADE_ORDER.index(a) >= GRADE_ORDER.index(b) else b


def strongest_intensity(values: list[Intensity]) -> Intensity | None:
    """The strongest of ``values`` (None for none)."""
    return max(values, key=INTENSITY_ORDER.index) if values else None


def topic_of(alert: Alert) -> str:
    """RFC 8030 §5.4 ``Topic``: the same for every telegram of one (kind, event); an item
    without a JMA EventID has a topic of its own."""
    basis = alert.event_id or f"entry:{alert.id}"
    digest = hashlib.sha256(f"{alert.kind.value}\x00{basis}".encode()).digest()
    return b64url_encode(digest)[:TOPIC_CHARS]


def urgency_of(alert: Alert) -> Urgency:
    """``high`` for EEW, tsunami warnings (津波警報・大津波警報) and intensity 5- or more."""
    if alert.kind is Kind.EEW:
        return Urgency.HIGH
    if GRADE_ORDER.index(alert.tsunami_now) >= GRADE_ORDER.index(TsunamiGrade.WARNING):
        return Urgency.HIGH
    if alert.max_intensity is not None and intensity_at_least(
        alert.max_intensity, Intensity.I5_LOWER
    ):
        return Urgency.HIGH
    return Urgency.NORMAL


def ttl_of(alert: Alert) -> int:
    """Seconds the push service may hold the message (RFC 8030 §5.2)."""
    if alert.kind is Kind.EEW:
        return TTL_EEW_S
    if alert.kind is Kind.TSUNAMI:
        return TTL_TSUNAMI_S
    if alert.kind is Kind.QUAKE:
        return TTL_QUAKE_S
    return TTL_OTHER_S


def title_of(alert: Alert) -> str:
    """JMA's title, marked 【取消】/【訂正】 (JMA's words) when the telegram is one."""
    mark = {InfoType.CANCELLED: "【取消】", InfoType.CORRECTED: "【訂正】"}.get(alert.info_type, "")
    return mark + (alert.title or alert.kind.value)


def url_of(alert: Alert) -> str:
    """The page that shows the item: the live page's card key (``?item=e:<EventID>``, or
    ``i:<entry id>`` for an item without one), as the page's share links write it."""
    if _CARD_EVENT_ID.fullmatch(alert.event_id):
        return f"/?item=e:{alert.event_id}"
    return f"/?item=i:{alert.id}"


def message_of(alert: Alert) -> Message:
    """The push of ``alert``: payload (JSON, at most :data:`MAX_PUSH_PAYLOAD_BYTES`) and
    headers. The payload is the same for every subscriber (the encryption differs)."""
    body = alert.headline[:MAX_BODY_CHARS]
    topic = topic_of(alert)
    while True:
        payload = orjson.dumps(
            {
                "id": alert.id,
                "kind": alert.kind.value,
                "title": title_of(alert),
                "body": body,
                "url": url_of(alert),
                "prefs": sorted(alert.prefs),
                "max_intensity": None if alert.max_intensity is None else alert.max_intensity.value,
                "official": True,
                "info_type": alert.info_type.value,
                "topic": topic,
            }
        )
        if len(payload) <= MAX_PUSH_PAYLOAD_BYTES or not body:
            break
        body = body[: len(body) // 2]
    return Message(payload=payload, topic=topic, urgency=urgency_of(alert), ttl_s=ttl_of(alert))
