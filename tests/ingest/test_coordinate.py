"""ISO 6709 points as JMA writes them (ingest.coordinate)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.ingest.coordinate import UNKNOWN_POINT, Point, parse_coordinate
from yure.ingest.errors import TelegramError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Degrees with depth in metres below sea level (JMA: 深さ 50km).
        ("+37.6+141.6-50000/", Point(37.6, 141.6, 50.0)),
        # ごく浅い: "+0" is depth 0, not unknown and not -0.0.
        ("+34.3+135.2+0/", Point(34.3, 135.2, 0.0)),
        # 深さ不明: no altitude term.
        ("+56.7+161.4/", Point(56.7, 161.4, None)),
        # Southern and western hemispheres, 3-digit zero-padded longitude (VXSE53 遠地).
        ("-17.2+178.6-570000/", Point(-17.2, 178.6, 570.0)),
        ("-36.1-072.6/", Point(-36.1, -72.6, None)),
        # Degree-minute (VXSE61 震源位置（度分）): 39°01.7′ 140°52.8′.
        ("+3901.7+14052.8-8000/", Point(39.028333, 140.88, 8.0)),
        # Degree-minute-second, no fractions.
        ("+353000+1393000-10000/", Point(35.5, 139.5, 10.0)),
        # No fractional parts at all; depth in hundreds of metres.
        ("+35+139-700/", Point(35.0, 139.0, 0.7)),
        # Surrounding whitespace (pretty-printed documents).
        ("\n  +35.0+139.0-10000/  ", Point(35.0, 139.0, 10.0)),
        # 震源要素不明: an empty element.
        ("", UNKNOWN_POINT),
        ("   ", UNKNOWN_POINT),
        # Extremes are valid.
        ("+90.0-180.0/", Point(90.0, -180.0, None)),
    ],
)
def test_parses(value: str, expected: Point) -> None:
    point = parse_coordinate(value)
    assert point == expected
    if point.depth_km == 0:
        assert math.copysign(1.0, point.depth_km) == 1.0  # never -0.0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("+37.6+141.6-50000", "not an ISO 6709 point"),  # no terminator
        ("37.6+141.6/", "not an ISO 6709 point"),  # unsigned latitude
        ("+37.6/", "not an ISO 6709 point"),  # no longitude
        ("+35.0+139.0/+36.0+140.0/", "not an ISO 6709 point"),  # two points
        ("+35.0+139.0-10000/CRSWGS_84/", "not an ISO 6709 point"),
        ("+３５.0+139.0/", "not an ISO 6709 point"),  # full-width digits
        ("+35.+139.0/", "not an ISO 6709 point"),
        ("+NaN+139.0/", "not an ISO 6709 point"),
        ("+357.0+139.0/", "latitude"),  # 3 integer digits: neither D nor DM
        ("+35.0+39.0/", "longitude"),  # 2-digit longitude is not ISO 6709
        ("+95.0+139.0/", "out of range"),
        ("+35.0+181.0/", "out of range"),
        ("+3575.0+13900.0/", "minutes >= 60"),
        ("+356000+1390000/", "minutes or seconds >= 60"),
        ("+353060+1390000/", "minutes or seconds >= 60"),
        ("+9030.0+13900.0/", "out of range"),
    ],
)
def test_rejects(value: str, reason: str) -> None:
    with pytest.raises(TelegramError, match=reason):
        parse_coordinate(value)


@given(
    lat=st.floats(min_value=-90, max_value=90, allow_nan=False),
    lon=st.floats(min_value=-180, max_value=180, allow_nan=False),
    depth_m=st.integers(min_value=0, max_value=800_000),
)
def test_round_trips_degrees(lat: float, lon: float, depth_m: int) -> None:
    text = f"{lat:+05.1f}{lon:+06.1f}-{depth_m}/"
    point = parse_coordinate(text)
    assert point.lat == pytest.approx(float(f"{lat:.1f}"))
    assert point.lon == pytest.approx(float(f"{lon:.1f}"))
    assert point.depth_km == pytest.approx(depth_m / 1000)


@given(st.text(max_size=40))
def test_only_telegram_error(value: str) -> None:
    try:
        point = parse_coordinate(value)
    except TelegramError:
        return
    for part in (point.lat, point.lon, point.depth_km):
        assert part is None or math.isfinite(part)
