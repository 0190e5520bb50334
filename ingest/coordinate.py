"""ISO 6709 point strings as JMA writes them in ``jmx_eb:Coordinate``.

Forms seen in JMA telegrams (JMA 技術資料 「jmx_eb:Coordinate」, ISO 6709:2008 Annex H):

* ``+37.6+141.6-50000/``: degrees, then the altitude in metres (negative = below sea
  level, so this hypocentre is 50 km deep);
* ``+34.3+135.2+0/``: depth 0, JMA's 「ごく浅い」;
* ``+56.7+161.4/``: no altitude term, depth unknown (「深さ不明」);
* ``+3901.7+14052.8-8000/``: degrees and decimal minutes (VXSE61 「震源位置（度分）」);
* an empty element: hypocentre unknown (「震源要素不明」).

Latitude has 2 integer digits for degrees, 4 for degrees+minutes, 6 with seconds;
longitude 3, 5 and 7. Core module.
"""

from __future__ import annotations

import dataclasses
import re

from yure.ingest.errors import TelegramError

_NUMBER = r"[+-]\d+(?:\.\d+)?"
_POINT = re.compile(rf"(?P<lat>{_NUMBER})(?P<lon>{_NUMBER})(?P<alt>{_NUMBER})?/", re.ASCII)

#: Decimal places kept after converting minutes/seconds (≈ 0.1 m).
_DECIMALS = 6


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    """A hypocentre position. Every part is None when JMA does not give it."""

    lat: float | None
    lon: float | None
    #: Kilometres below sea level; 0 for ごく浅い; None when no altitude is given.
    depth_km: float | None


UNKNOWN_POINT = Point(lat=None, lon=None, depth_km=None)


def _angle(value: str, degree_digits: int, limit: float, what: str) -> float:
    """One signed ISO 6709 angle: ``±D…[MM[SS]][.f]`` → decimal degrees."""
    sign = -1.0 if value[0] == "-" else 1.0
    body = value[1:]
    whole, _, fraction = body.partition(".")
    extra = len(whole) - degree_digits
    if extra not in (0, 2, 4):
        raise TelegramError(f"{what} {value!r} is not ISO 6709 (D, DM or DMS)")
    frac = float(f"0.{fraction}") if fraction else 0.0
    if extra == 0:
        degrees = int(whole) + frac
    elif extra == 2:
        minutes = int(whole[degree_digits:]) + frac
        if minutes >= 60:
            raise TelegramError(f"{what} {value!r} has minutes >= 60")
        degrees = int(whole[:degree_digits]) + minutes / 60
    else:
        minutes = int(whole[degree_digits : degree_digits + 2])
        seconds = int(whole[degree_digits + 2 :]) + frac
        if minutes >= 60 or seconds >= 60:
            raise TelegramError(f"{what} {value!r} has minutes or seconds >= 60")
        degrees = int(whole[:degree_digits]) + minutes / 60 + seconds / 3600
    if degrees > limit:
        raise TelegramError(f"{what} {value!r} is out of range")
    return round(sign * degrees, _DECIMALS) + 0.0


def parse_coordinate(value: str) -> Point:
    """Parse one ISO 6709 point (surrounding whitespace allowed; empty → unknown).

    Raises:
        TelegramError: not a single ISO 6709 point, or an angle out of range.
    """
    stripped = value.strip()
    if not stripped:
        return UNKNOWN_POINT
    match = _POINT.fullmatch(stripped)
    if match is None:
        raise TelegramError(f"coordinate {stripped!r} is not an ISO 6709 point")
    lat = _angle(match["lat"], 2, 90.0, "latitude")
    lon = _angle(match["lon"], 3, 180.0, "longitude")
    altitude = match["alt"]
    # Altitude is metres, positive up; depth is kilometres, positive down. "+0" is
    # JMA's ごく浅い and must come out as 0.0, not -0.0 (hence the + 0.0).
    depth_km = None if altitude is None else -float(altitude) / 1000 + 0.0
    return Point(lat=lat, lon=lon, depth_km=depth_km)
