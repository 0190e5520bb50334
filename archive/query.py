"""History filters: query-string parameters in, a typed :class:`HistoryQuery` out.

Core module. ``GET /api/history`` (and its ``.csv`` / ``.geojson`` forms) take::

    prefs=13,14            JIS codes or region names (resolved by the caller's resolver)
    kinds=quake,tsunami    official kinds (quake, eew, tsunami, notice, other)
    from=2024-01-01        a date (JST midnight) or an ISO 8601 time (JST when no offset)
    to=2024-01-31          a date (the whole day, JST) or an ISO 8601 time; exclusive
    min_intensity=5-       1 2 3 4 5- 5+ 6- 6+ 7 (also 5弱 5強 6弱 6強)
    min_magnitude=6.5      0 … 10
    max_depth_km=30        0 … 1000
    limit=50               1 … MAX_PAGE_ITEMS
    cursor=…               the ``next`` of the previous page

Every bad value raises :class:`QueryError` naming the parameter and the reason.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta

from yure.archive.errors import QueryError
from yure.archive.facts import ARCHIVED_KINDS, intensity_rank
from yure.errors import YureError
from yure.ingest.event import Intensity, Kind
from yure.ingest.merge import JST

#: Items per page by default and at most.
DEFAULT_PAGE_ITEMS = 50
MAX_PAGE_ITEMS = 500
#: Longest value of any one parameter, in characters.
MAX_PARAM_CHARS = 512
#: Prefecture or region tokens at most.
MAX_PREF_TOKENS = 64
#: Longest event id accepted anywhere (JMA EventIDs are 14–20 characters).
MAX_EVENT_ID_CHARS = 64
#: Magnitudes and depths outside these are not earthquakes JMA reports.
MAX_MAGNITUDE = 10.0
MAX_DEPTH_KM = 1000.0

EVENT_ID_PATTERN = re.compile(rf"[0-9A-Za-z_.:-]{{1,{MAX_EVENT_ID_CHARS}}}")
_KNOWN_PARAMS = frozenset(
    {
        "prefs",
        "kinds",
        "from",
        "to",
        "min_intensity",
        "min_magnitude",
        "max_depth_km",
        "limit",
        "cursor",
    }
)
#: JMA's written forms of the split classes, accepted beside ``5-`` / ``5+``.
_INTENSITY_WORDS: Mapping[str, Intensity] = {
    "5弱": Intensity.I5_LOWER,
    "5強": Intensity.I5_UPPER,
    "6弱": Intensity.I6_LOWER,
    "6強": Intensity.I6_UPPER,
}

PrefResolver = Callable[[Iterable[str]], frozenset[str]]


@dataclasses.dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after the event filed at ``first_at`` with ``event_id``."""

    first_at: int
    event_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class HistoryQuery:
    """A validated history search; times are POSIX seconds, ``until`` exclusive."""

    prefs: frozenset[str] = frozenset()
    kinds: frozenset[Kind] = frozenset()
    since: int | None = None
    until: int | None = None
    min_intensity: Intensity | None = None
    min_magnitude: float | None = None
    max_depth_km: float | None = None
    limit: int = DEFAULT_PAGE_ITEMS
    cursor: Cursor | None = None

    @property
    def min_intensity_rank(self) -> int | None:
        """The filter as a rank (see :func:`archive.facts.intensity_rank`)."""
        return intensity_rank(self.min_intensity)


def encode_cursor(cursor: Cursor) -> str:
    """The opaque ``next`` token of ``cursor``."""
    raw = f"{cursor.first_at}:{cursor.event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """Read what :func:`encode_cursor` wrote.

    Raises:
        QueryError: not a cursor this server made.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        stamp, event_id = raw.split(":", 1)
        first_at = int(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise QueryError("cursor: not a cursor from this server") from err
    if not EVENT_ID_PATTERN.fullmatch(event_id):
        raise QueryError("cursor: not a cursor from this server")
    return Cursor(first_at=first_at, event_id=event_id)


def check_event_id(value: str) -> str:
    """``value`` when it can be an event id.

    Raises:
        QueryError: too long or with characters no event id has.
    """
    if not EVENT_ID_PATTERN.fullmatch(value):
        raise QueryError(f"event id {value[:MAX_EVENT_ID_CHARS]!r} is not an event id")
    return value


def _tokens(raw: str) -> list[str]:
    return [token.strip() for token in raw.split(",") if token.strip()]


def _kinds(raw: str) -> frozenset[Kind]:
    kinds: set[Kind] = set()
    for token in _tokens(raw):
        try:
            kind = Kind(token)
        except ValueError:
            kind = None
        if kind is None or kind not in ARCHIVED_KINDS:
            allowed = ", ".join(k.value for k in ARCHIVED_KINDS)
            raise QueryError(f"kinds: {token!r} is not one of {allowed}")
        kinds.add(kind)
    return frozenset(kinds)


def _moment(raw: str, name: str, *, end_of_day: bool) -> int:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=JST)
        return int((start + timedelta(days=1 if end_of_day else 0)).timestamp())
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as err:
        raise QueryError(f"{name}: {raw!r} is not a date or an ISO 8601 time") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JST)
    return int(moment.timestamp())


def _intensity(raw: str) -> Intensity:
    value = _INTENSITY_WORDS.get(raw)
    if value is not None:
        return value
    try:
        return Intensity(raw)
    except ValueError as err:
        allowed = " ".join(i.value for i in Intensity)
        raise QueryError(f"min_intensity: {raw!r} is not one of {allowed}") from err


def _number(raw: str, name: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError as err:
        raise QueryError(f"{name}: {raw!r} is not a number") from err
    if not math.isfinite(value) or not low <= value <= high:
        raise QueryError(f"{name}: must be between {low:g} and {high:g}")
    return value


def _limit(raw: str, max_items: int) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= max_items:
        raise QueryError(f"limit: must be an integer from 1 to {max_items}")
    return int(raw)


def parse_query(
    params: Mapping[str, str],
    resolve: PrefResolver,
    *,
    max_items: int = MAX_PAGE_ITEMS,
) -> HistoryQuery:
    """Validate the query-string ``params`` of a history request.

    Args:
        params: the parameters (one value each; unknown names are refused).
        resolve: turns prefecture/region tokens into JIS codes; raises a YureError on
            unknown ones.
        max_items: the largest ``limit`` allowed (exports allow more than pages).

    Raises:
        QueryError: a parameter is unknown, too long or has a bad value.
    """
    unknown = sorted(set(params) - _KNOWN_PARAMS)
    if unknown:
        raise QueryError(f"unknown parameter {unknown[0]!r}")
    for name, value in params.items():
        if len(value) > MAX_PARAM_CHARS:
            raise QueryError(f"{name}: longer than {MAX_PARAM_CHARS} characters")
    prefs: frozenset[str] = frozenset()
    pref_tokens = _tokens(params.get("prefs", ""))
    if len(pref_tokens) > MAX_PREF_TOKENS:
        raise QueryError(f"prefs: more than {MAX_PREF_TOKENS} tokens")
    if pref_tokens:
        try:
            prefs = resolve(pref_tokens)
        except YureError as err:
            raise QueryError(f"prefs: {err}") from err
    since = _moment(params["from"], "from", end_of_day=False) if params.get("from") else None
    until = _moment(params["to"], "to", end_of_day=True) if params.get("to") else None
    if since is not None and until is not None and since >= until:
        raise QueryError("from: must be before to")
    get = params.get
    return HistoryQuery(
        prefs=prefs,
        kinds=_kinds(get("kinds", "")),
        since=since,
        until=until,
        min_intensity=_intensity(get("min_intensity", "")) if get("min_intensity") else None,
        min_magnitude=_number(get("min_magnitude", ""), "min_magnitude", 0.0, MAX_MAGNITUDE)
        if get("min_magnitude")
        else None,
        max_depth_km=_number(get("max_depth_km", ""), "max_depth_km", 0.0, MAX_DEPTH_KM)
        if get("max_depth_km")
        else None,
        limit=_limit(get("limit", ""), max_items) if get("limit") else DEFAULT_PAGE_ITEMS,
        cursor=decode_cursor(get("cursor", "")) if get("cursor") else None,
    )
