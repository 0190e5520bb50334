"""The wire edge of P2P地震情報 JSON (core module): typed access to decoded JSON values,
P2P's time format, the error type, and the place-name lookups the mappers need.

``Any`` is allowed here only: every accessor checks the type and raises
:class:`P2PError` (carrying the item's ``id`` when known) instead of letting a
``KeyError``/``TypeError`` escape.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from yure.ingest.errors import IngestError

#: Most points (551), areas (552/556) or area confidences (9611) read from one item.
MAX_P2P_LIST_ITEMS = 20_000

JST = timezone(timedelta(hours=9), "JST")
_TIME = re.compile(r"^(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


class P2PError(IngestError):
    """A P2P地震情報 message that is not a usable item. ``p2p_id`` when it had one."""

    def __init__(self, message: str, p2p_id: str | None = None) -> None:
        super().__init__(message)
        self.p2p_id = p2p_id


class Places(Protocol):
    """Place names in P2P items → JIS prefecture codes (``ingest.places.GeoPlaces``)."""

    def pref_of_name(self, name: str) -> str | None:
        """都道府県名 (``"宮城県"``) → ``"04"``."""

    def pref_of_epicenter(self, name: str) -> str | None:
        """震央地名 → its prefecture when on land or one prefecture's coast."""

    def tsunami_area(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """津波予報区 name → (code, prefectures touched)."""

    def prefs_of_eew_area(self, name: str) -> tuple[str, ...] | None:
        """緊急地震速報 府県予報区 name as JMA writes it (``"北海道道北"``) → prefectures."""

    def pref_of_epsp_area(self, area: int) -> str | None:
        """EPSP area code of 561/9611 (epsp-area.csv) → prefecture; None for 900 未設定,
        901 不明, 905 外国 and unknown codes."""


def get_field(obj: Any, key: str, p2p_id: str | None) -> Any:
    """``obj[key]`` (None when absent); raises P2PError when ``obj`` is not an object."""
    if not isinstance(obj, dict):
        raise P2PError(f"expected an object around {key!r}", p2p_id)
    return obj.get(key)


def as_str(value: Any, what: str, p2p_id: str | None) -> str:
    """``value`` as a string, else P2PError naming ``what``."""
    if not isinstance(value, str):
        raise P2PError(f"{what} is not a string", p2p_id)
    return value


def as_number(value: Any, what: str, p2p_id: str | None) -> float:
    """``value`` as a finite float (booleans refused), else P2PError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise P2PError(f"{what} is not a number", p2p_id)
    number = float(value)
    if not math.isfinite(number):
        raise P2PError(f"{what} is not finite", p2p_id)
    return number


def as_int(value: Any, what: str, p2p_id: str | None) -> int:
    """``value`` as an integer (``45.0`` accepted: EEW scales come as floats)."""
    number = as_number(value, what, p2p_id)
    if number != int(number):
        raise P2PError(f"{what} is not an integer", p2p_id)
    return int(number)


def as_list(value: Any, what: str, p2p_id: str | None) -> list[Any]:
    """``value`` as a bounded list; None (JSON null, absent) is the empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise P2PError(f"{what} is not a list", p2p_id)
    if len(value) > MAX_P2P_LIST_ITEMS:
        raise P2PError(f"{what} has over {MAX_P2P_LIST_ITEMS} items", p2p_id)
    return value


def parse_time(text: str) -> datetime:
    """A P2P time (``2020/12/03 20:02:23.548``, JST, fraction optional) → aware datetime.

    Raises:
        P2PError: not in that format.
    """
    match = _TIME.match(text)
    if match is None:
        raise P2PError(f"bad time {text!r}")
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, JST
        )
    except ValueError as err:
        raise P2PError(f"bad time {text!r}: {err}") from err


def as_time(value: Any, what: str, p2p_id: str) -> datetime:
    """``value`` as a P2P time (:func:`parse_time`), else P2PError with the item's id."""
    try:
        return parse_time(as_str(value, what, p2p_id))
    except P2PError as err:
        raise P2PError(f"{what}: {err}", p2p_id) from err
