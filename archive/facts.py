"""What the archive keeps of one telegram, and what an event is made of its telegrams.

Core module: values in, values out. An archived *event* is every official item that
carries one Head/EventID (気象庁防災情報XML: 緊急地震速報, 震度速報, 震源・震度情報 and the
津波警報 of one earthquake share it); its summary is folded from the facts of its
telegrams by :func:`summarize`:

* each *stream* of the event (one telegram type, e.g. VXSE53) stands on its latest
  telegram (ReportDateTime, then serial); a stream whose latest telegram is a 取消 is
  retracted; the event is ``cancelled`` when every stream is retracted (it is kept and
  marked, never deleted);
* the hypocentre and the maximum intensity come from the latest standing telegram that
  has them, quake information first (observed), then tsunami, then EEW (a forecast);
  when everything was retracted, from what was retracted (so the page can show what
  was cancelled);
* ``prefs`` is the union over the standing telegrams, EEW forecast areas left out when
  the event has observed information;
* ``first_at`` (the time the event is filed under) is the earliest ReportDateTime.

The same facts come out of a live publication and out of a backfilled telegram, so an
event built either way is the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from yure.ingest.event import (
    INTENSITY_ORDER,
    Event,
    InfoType,
    Intensity,
    Kind,
    TsunamiGrade,
)

#: Kinds the archive keeps: every official kind (user posts and felt reports are not).
ARCHIVED_KINDS: tuple[Kind, ...] = (Kind.QUAKE, Kind.EEW, Kind.TSUNAMI, Kind.NOTICE, Kind.OTHER)
#: Where facts are taken from first: observed information before a forecast.
_FACT_PRIORITY: tuple[Kind, ...] = (Kind.QUAKE, Kind.TSUNAMI, Kind.EEW, Kind.NOTICE, Kind.OTHER)
#: Tsunami grades, weakest first.
GRADE_ORDER: tuple[TsunamiGrade, ...] = (
    TsunamiGrade.NONE,
    TsunamiGrade.FORECAST,
    TsunamiGrade.ADVISORY,
    TsunamiGrade.WARNING,
    TsunamiGrade.MAJOR_WARNING,
)


def intensity_rank(value: Intensity | None) -> int | None:
    """1 (震度1) … 9 (震度7), for range filters; None when there is no intensity."""
    return None if value is None else INTENSITY_ORDER.index(value) + 1


@dataclasses.dataclass(frozen=True, slots=True)
class TelegramFacts:
    """The searchable values of one archived telegram (one row of ``telegrams``)."""

    key: str
    event_id: str
    type_code: str
    kind: Kind
    info_type: InfoType
    serial: int | None
    #: ReportDateTime, POSIX seconds.
    reported_at: int
    title: str
    headline: str
    foreign: bool
    max_intensity: Intensity | None
    magnitude: float | None
    magnitude_text: str | None
    depth_km: float | None
    lat: float | None
    lon: float | None
    hypocenter_name: str | None
    tsunami_grade: TsunamiGrade | None
    prefs: tuple[str, ...]

    @property
    def cancelled(self) -> bool:
        """A 取消 telegram."""
        return self.info_type is InfoType.CANCELLED

    @property
    def order(self) -> tuple[int, int, str]:
        """Latest last: ReportDateTime, serial, key (for a stable order)."""
        return (self.reported_at, -1 if self.serial is None else self.serial, self.key)


@dataclasses.dataclass(frozen=True, slots=True)
class EventSummary:
    """One row of ``events``: the event as it stands after all its telegrams."""

    event_id: str
    first_at: int
    last_at: int
    kinds: tuple[Kind, ...]
    type_code: str
    title: str
    headline: str
    cancelled: bool
    foreign: bool
    max_intensity: Intensity | None
    magnitude: float | None
    magnitude_text: str | None
    depth_km: float | None
    lat: float | None
    lon: float | None
    hypocenter_name: str | None
    tsunami_grade: TsunamiGrade | None
    prefs: tuple[str, ...]
    telegram_count: int

    @property
    def intensity_rank(self) -> int | None:
        """See :func:`intensity_rank`."""
        return intensity_rank(self.max_intensity)


def is_archived(event: Event) -> bool:
    """Whether ``event`` belongs in the archive: official and public."""
    return event.official and event.public and event.kind in ARCHIVED_KINDS


def facts_of(key: str, event: Event) -> TelegramFacts:
    """The facts of ``event``, published under ``key``."""
    hypo = event.hypocenter
    grades = [area.grade for area in event.tsunami]
    return TelegramFacts(
        key=key,
        event_id=event.event_id,
        type_code=event.type_code,
        kind=event.kind,
        info_type=event.info_type,
        serial=event.serial,
        reported_at=int(event.reported_at.timestamp()),
        title=event.title,
        headline=event.headline,
        foreign=event.foreign,
        max_intensity=event.max_intensity,
        magnitude=None if hypo is None else hypo.magnitude,
        magnitude_text=None if hypo is None else hypo.magnitude_text,
        depth_km=None if hypo is None else hypo.depth_km,
        lat=None if hypo is None else hypo.lat,
        lon=None if hypo is None else hypo.lon,
        hypocenter_name=None if hypo is None or not hypo.name else hypo.name,
        tsunami_grade=max(grades, key=GRADE_ORDER.index) if grades else None,
        prefs=tuple(event.prefs),
    )


def _standing(telegrams: Sequence[TelegramFacts]) -> list[TelegramFacts]:
    """The latest telegram of each stream (telegram type) that is not a 取消."""
    latest: dict[str, TelegramFacts] = {}
    for facts in telegrams:
        held = latest.get(facts.type_code)
        if held is None or held.order < facts.order:
            latest[facts.type_code] = facts
    return [facts for facts in latest.values() if not facts.cancelled]


def _by_priority(telegrams: Iterable[TelegramFacts]) -> list[TelegramFacts]:
    """Most trusted first: observed kinds before forecasts, then latest first."""
    return sorted(
        telegrams,
        key=lambda f: (-_FACT_PRIORITY.index(f.kind), f.order),
        reverse=True,
    )


def summarize(telegrams: Sequence[TelegramFacts]) -> EventSummary:
    """Fold the telegrams of one event into its summary (see the module docstring).

    Raises:
        ValueError: ``telegrams`` is empty or mixes events.
    """
    if not telegrams:
        raise ValueError("an event needs at least one telegram")
    event_ids = {facts.event_id for facts in telegrams}
    if len(event_ids) != 1:
        raise ValueError(f"telegrams of several events: {sorted(event_ids)}")
    standing = _standing(telegrams)
    cancelled = not standing
    pool = _by_priority(standing or [f for f in telegrams if not f.cancelled] or telegrams)
    latest = max(telegrams, key=lambda f: f.order)
    hypo = next((f for f in pool if f.hypocenter_name or f.magnitude is not None), None)
    located = next((f for f in pool if f.lat is not None), None)
    intensity = next((f for f in pool if f.max_intensity is not None), None)
    kinds = {f.kind for f in telegrams}
    observed = kinds - {Kind.EEW}
    pref_pool = [f for f in pool if f.kind is not Kind.EEW] if observed else pool
    grades = [f.tsunami_grade for f in telegrams if f.tsunami_grade is not None]
    return EventSummary(
        event_id=latest.event_id,
        first_at=min(f.reported_at for f in telegrams),
        last_at=max(f.reported_at for f in telegrams),
        kinds=tuple(kind for kind in ARCHIVED_KINDS if kind in kinds),
        type_code=latest.type_code,
        title=pool[0].title,
        headline=latest.headline if cancelled else pool[0].headline,
        cancelled=cancelled,
        foreign=any(f.foreign for f in pool),
        max_intensity=None if intensity is None else intensity.max_intensity,
        magnitude=None if hypo is None else hypo.magnitude,
        magnitude_text=None if hypo is None else hypo.magnitude_text,
        depth_km=None if hypo is None else hypo.depth_km,
        lat=None if located is None else located.lat,
        lon=None if located is None else located.lon,
        hypocenter_name=None if hypo is None else hypo.hypocenter_name,
        tsunami_grade=max(grades, key=GRADE_ORDER.index) if grades else None,
        prefs=tuple(sorted({pref for f in pref_pool for pref in f.prefs})),
        telegram_count=len(telegrams),
    )
