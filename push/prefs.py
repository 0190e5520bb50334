"""What a subscriber asks for: the push filter, parsed and validated. Core module.

The JSON shape (docs/api.md, ``POST /api/push/subscriptions``)::

    {"prefs": ["13", "kanto"], "kinds": ["quake", "tsunami"], "min_intensity": "5-",
     "tsunami": true, "eew": true,
     "quiet": {"from": "23:00", "to": "07:00", "except_from": "5-"}}

Prefecture tokens are the streams' vocabulary (codes, names, regions), resolved by
an injected :data:`~yure.broadcast.filter.PrefResolver` (web passes geo's); an empty
or absent list means all of Japan. Every field is optional.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from yure.broadcast.errors import FilterError
from yure.broadcast.filter import PrefResolver, codes_as_given
from yure.broadcast.limits import MAX_FILTER_PREFS, MAX_TOKEN_CHARS
from yure.ingest.event import INTENSITY_ORDER, Intensity, Kind
from yure.push.errors import SubscriptionError

#: Kinds a push can be about: official items only (posts and felt reports never push).
PUSHABLE_KINDS: frozenset[Kind] = frozenset(
    {Kind.QUAKE, Kind.EEW, Kind.TSUNAMI, Kind.NOTICE, Kind.OTHER}
)
#: Kinds of a filter that names none (``other`` is JMA's miscellany: opt in).
DEFAULT_KINDS: frozenset[Kind] = frozenset({Kind.QUAKE, Kind.EEW, Kind.TSUNAMI, Kind.NOTICE})
_PUSHABLE_BY_NAME = {k.value: k for k in PUSHABLE_KINDS}
_FIELDS = frozenset({"prefs", "kinds", "min_intensity", "tsunami", "eew", "quiet"})
_QUIET_FIELDS = frozenset({"from", "to", "except_from"})
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
MINUTES_PER_DAY = 24 * 60


@dataclasses.dataclass(frozen=True, slots=True)
class QuietHours:
    """Minutes of the day in Japan time (JST): from ``start`` up to, not including,
    ``end``; ``end < start`` wraps past midnight; ``start == end`` is never quiet."""

    start: int
    end: int
    #: During quiet hours only items at least this strong pass (None: nothing passes
    #: but tsunami warnings and the 取消/訂正 of what was already pushed).
    except_from: Intensity | None = None

    def covers(self, minute_of_day: int) -> bool:
        """Whether ``minute_of_day`` (0..1439, JST) is inside the quiet hours."""
        if self.start <= self.end:
            return self.start <= minute_of_day < self.end
        return minute_of_day >= self.start or minute_of_day < self.end


@dataclasses.dataclass(frozen=True, slots=True)
class PushFilter:
    """A subscription's filter. ``prefs`` None means all of Japan."""

    prefs: frozenset[str] | None = None
    kinds: frozenset[Kind] = DEFAULT_KINDS
    min_intensity: Intensity | None = None
    tsunami: bool = True
    eew: bool = True
    quiet: QuietHours | None = None


def parse_filter(obj: object, resolve: PrefResolver = codes_as_given) -> PushFilter:
    """A :class:`PushFilter` from the request's ``filter`` object (None = defaults).

    Raises:
        SubscriptionError: wrong types, unknown fields, kinds, intensities or prefectures,
            too many tokens, bad clock times; the message names the field.
    """
    if obj is None:
        return PushFilter()
    if not isinstance(obj, dict):
        raise SubscriptionError("filter must be an object")
    unknown = set(obj) - _FIELDS
    if unknown:
        raise SubscriptionError(f"filter: unknown field {sorted(unknown)[0]!r}")
    return PushFilter(
        prefs=_prefs(obj.get("prefs"), resolve),
        kinds=_kinds(obj.get("kinds")),
        min_intensity=_intensity(obj.get("min_intensity"), "filter.min_intensity"),
        tsunami=_flag(obj.get("tsunami"), "filter.tsunami"),
        eew=_flag(obj.get("eew"), "filter.eew"),
        quiet=_quiet(obj.get("quiet")),
    )


def filter_to_json(flt: PushFilter) -> dict[str, Any]:
    """The canonical JSON form (prefs as codes); :func:`parse_filter` reads it back."""
    quiet: dict[str, Any] | None = None
    if flt.quiet is not None:
        quiet = {
            "from": _clock_text(flt.quiet.start),
            "to": _clock_text(flt.quiet.end),
            "except_from": None if flt.quiet.except_from is None else flt.quiet.except_from.value,
        }
    return {
        "prefs": [] if flt.prefs is None else sorted(flt.prefs),
        "kinds": sorted(k.value for k in flt.kinds),
        "min_intensity": None if flt.min_intensity is None else flt.min_intensity.value,
        "tsunami": flt.tsunami,
        "eew": flt.eew,
        "quiet": quiet,
    }


def intensity_at_least(value: Intensity, floor: Intensity) -> bool:
    """Whether ``value`` is ``floor`` or stronger (JMA's order: 1 < … < 5- < 5+ < … < 7)."""
    return INTENSITY_ORDER.index(value) >= INTENSITY_ORDER.index(floor)


def _prefs(value: object, resolve: PrefResolver) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SubscriptionError("filter.prefs must be a list of strings")
    if len(value) > MAX_FILTER_PREFS:
        raise SubscriptionError(f"filter.prefs has more than {MAX_FILTER_PREFS} items")
    if any(not v or len(v) > MAX_TOKEN_CHARS for v in value):
        raise SubscriptionError(f"filter.prefs items must be 1..{MAX_TOKEN_CHARS} characters")
    if not value:
        return None
    try:
        return resolve(value)
    except FilterError as err:
        raise SubscriptionError(f"filter.prefs: {err}") from err


def _kinds(value: object) -> frozenset[Kind]:
    if value is None:
        return DEFAULT_KINDS
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SubscriptionError("filter.kinds must be a list of strings")
    kinds: set[Kind] = set()
    for item in value:
        kind = _PUSHABLE_BY_NAME.get(item)
        if kind is None:
            allowed = ", ".join(sorted(PUSHABLE_KINDS))
            raise SubscriptionError(
                f"filter.kinds: {item[:MAX_TOKEN_CHARS]!r} is not one of {allowed}"
            )
        kinds.add(kind)
    if not kinds:
        raise SubscriptionError("filter.kinds must name a kind (omit it for the default)")
    return frozenset(kinds)


def _intensity(value: object, name: str) -> Intensity | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SubscriptionError(f'{name} must be a string such as "5-"')
    try:
        return Intensity(value)
    except ValueError as err:
        allowed = ", ".join(i.value for i in Intensity)
        raise SubscriptionError(f"{name} must be one of {allowed}") from err


def _flag(value: object, name: str) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise SubscriptionError(f"{name} must be true or false")
    return value


def _quiet(value: object) -> QuietHours | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SubscriptionError("filter.quiet must be an object")
    unknown = set(value) - _QUIET_FIELDS
    if unknown:
        raise SubscriptionError(f"filter.quiet: unknown field {sorted(unknown)[0]!r}")
    return QuietHours(
        start=_clock(value.get("from"), "filter.quiet.from"),
        end=_clock(value.get("to"), "filter.quiet.to"),
        except_from=_intensity(value.get("except_from"), "filter.quiet.except_from"),
    )


def _clock(value: object, name: str) -> int:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise SubscriptionError(f'{name} must be a time "HH:MM" (00:00..23:59, Japan time)')
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
