"""Realistic synthetic history: ~30,000 felt earthquakes over 10 years, as JMA reports them.

Deterministic for a seed. The shape follows what JMA's catalogue looks like, not its
values: magnitudes from the Gutenberg–Richter law (b = 1, M ≥ 2.5), mostly shallow
hypocentres with a deep tail (subducting slabs, down to 600 km), epicentres clustered
along the trenches and inland source zones, intensity falling with magnitude, depth and
distance, a few tsunami advisories after large shallow offshore events, and the
telegram sequence of each event (震度速報 VXSE51 when 震度3 or more, 震源に関する情報
VXSE52, 震源・震度情報 VXSE53, sometimes a second serial).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from yure.geo.locate import pref_at
from yure.ingest.event import (
    INTENSITY_ORDER,
    Event,
    Hypocenter,
    InfoType,
    Kind,
    Status,
    TsunamiArea,
    TsunamiGrade,
)
from yure.ingest.merge import JST, item_key

#: Source zones: (lat, lon, spread in degrees, weight, typical depth km, offshore).
ZONES: tuple[tuple[float, float, float, float, float, bool], ...] = (
    (38.3, 142.3, 1.2, 0.22, 40, True),  # 宮城県沖 / 三陸沖
    (36.6, 141.2, 0.8, 0.12, 50, True),  # 茨城県沖 / 福島県沖
    (35.9, 140.0, 0.5, 0.10, 60, False),  # 千葉県北西部 / 茨城県南部
    (42.5, 143.5, 1.2, 0.10, 60, True),  # 十勝沖 / 釧路沖
    (33.0, 131.0, 0.8, 0.08, 10, False),  # 熊本・大分
    (37.4, 137.3, 0.4, 0.06, 12, False),  # 能登半島
    (34.8, 135.6, 0.6, 0.06, 15, False),  # 近畿
    (33.0, 135.5, 1.5, 0.06, 40, True),  # 南海トラフ
    (24.8, 123.8, 1.0, 0.05, 30, True),  # 八重山
    (36.3, 137.8, 0.7, 0.05, 10, False),  # 長野・岐阜
    (40.5, 139.5, 1.0, 0.05, 20, True),  # 日本海東縁
    (30.0, 138.5, 1.5, 0.05, 350, True),  # 伊豆・小笠原 (deep)
)
_INTENSITIES = INTENSITY_ORDER  # 1 … 7


def _magnitude(rng: random.Random) -> float:
    # Gutenberg–Richter with b = 1: P(M > m) = 10 ** -(m - 2.5).
    return round(min(2.5 - math.log10(1.0 - rng.random()), 9.0), 1)


def _intensity_index(magnitude: float, depth_km: float, rng: random.Random) -> int:
    """0-based index into 1 … 7: grows with magnitude, falls with depth, jittered."""
    depth_penalty = math.log10(depth_km + 10) - 1.0
    value = 1.6 * (magnitude - 2.5) - depth_penalty + rng.gauss(0, 0.7)
    return max(0, min(8, round(value)))


@functools.lru_cache(maxsize=200_000)
def _pref_at(lat: float, lon: float) -> str | None:
    return pref_at(lat, lon)


def _prefs_around(lat: float, lon: float, reach_deg: float, rng: random.Random) -> list[str]:
    prefs: set[str] = set()
    for _ in range(12):
        dlat, dlon = rng.uniform(-reach_deg, reach_deg), rng.uniform(-reach_deg, reach_deg)
        pref = _pref_at(round(lat + dlat, 1), round(lon + dlon, 1))
        if pref is not None:
            prefs.add(pref)
    if not prefs:
        prefs.add(_nearest_pref(lat, lon))
    return sorted(prefs)


def _nearest_pref(lat: float, lon: float) -> str:
    best, best_d = "13", math.inf
    for step in range(1, 30):
        for dlat, dlon in ((0, step), (step, 0), (0, -step), (-step, 0)):
            pref = _pref_at(round(lat + dlat * 0.1, 1), round(lon + dlon * 0.1, 1))
            if pref is not None and step < best_d:
                best, best_d = pref, step
        if best_d < math.inf:
            return best
    return best


def synthetic_history(
    events: int = 30_000, *, years: int = 10, seed: int = 14, end: datetime | None = None
) -> Iterator[tuple[str, Event]]:
    """``(key, event)`` telegrams of ``events`` earthquakes over ``years``, oldest first."""
    rng = random.Random(seed)
    end = end or datetime(2025, 12, 31, 23, 59, tzinfo=JST)
    start = end - timedelta(days=365 * years)
    span_s = (end - start).total_seconds()
    stamps = sorted(rng.uniform(0, span_s) for _ in range(events))
    weights = [zone[3] for zone in ZONES]
    for n, offset in enumerate(stamps):
        origin = (start + timedelta(seconds=offset)).replace(microsecond=0)
        lat0, lon0, spread, _, depth0, offshore = rng.choices(ZONES, weights)[0]
        lat = round(lat0 + rng.gauss(0, spread / 2), 1)
        lon = round(lon0 + rng.gauss(0, spread / 2), 1)
        depth = float(max(0, round(rng.lognormvariate(math.log(depth0), 0.6))))
        depth = min(depth, 600.0)
        magnitude = _magnitude(rng)
        index = _intensity_index(magnitude, depth, rng)
        max_int = _INTENSITIES[index]
        prefs = _prefs_around(lat, lon, min(0.3 + magnitude * 0.15, 2.5), rng)
        by_pref = {
            pref: _INTENSITIES[max(0, index - rng.randint(0, 2) * (i > 0))]
            for i, pref in enumerate(prefs)
        }
        event_id = origin.strftime("%Y%m%d%H%M%S")
        hypo = Hypocenter(
            name="三陸沖" if offshore else "内陸",
            lat=lat,
            lon=lon,
            depth_km=depth,
            magnitude=magnitude,
            magnitude_text=f"M{magnitude:.1f}",
        )
        reported = origin + timedelta(minutes=2)
        base = {
            "kind": Kind.QUAKE,
            "status": Status.ACTUAL,
            "info_type": InfoType.ISSUED,
            "event_id": event_id,
            "headline": f"地震がありました（最大震度{max_int.value}）",
        }
        telegrams: list[Event] = []
        if index >= 2:
            telegrams.append(
                Event(type_code="VXSE51", serial=None, reported_at=reported, title="震度速報",
                      max_intensity=max_int, intensity=by_pref, prefs=tuple(prefs), **base)  # type: ignore[arg-type]
            )  # fmt: skip
        telegrams.append(
            Event(type_code="VXSE52", serial=None, reported_at=reported + timedelta(minutes=1),
                  title="震源に関する情報", hypocenter=hypo, prefs=(prefs[0],), **base)  # type: ignore[arg-type]
        )  # fmt: skip
        for serial in range(1, 2 + (n % 7 == 0)):
            telegrams.append(
                Event(type_code="VXSE53", serial=serial,
                      reported_at=reported + timedelta(minutes=2 + 5 * serial),
                      title="震源・震度情報", hypocenter=hypo, max_intensity=max_int,
                      intensity=by_pref, prefs=tuple(prefs), **base)  # type: ignore[arg-type]
            )  # fmt: skip
        if offshore and magnitude >= 6.0 and depth <= 60:
            grade = TsunamiGrade.WARNING if magnitude >= 7.5 else TsunamiGrade.ADVISORY
            area = TsunamiArea("210", "宮城県", grade, tuple(prefs[:2]))
            telegrams.append(
                Event(type_code="VTSE41", kind=Kind.TSUNAMI, status=Status.ACTUAL,
                      info_type=InfoType.ISSUED, event_id=event_id, serial=None,
                      reported_at=reported + timedelta(minutes=1), title="津波警報・注意報・予報",
                      headline="津波注意報を発表しました", hypocenter=hypo, tsunami=(area,),
                      prefs=area.prefs)
            )  # fmt: skip
        for telegram in telegrams:
            yield item_key(telegram), telegram


#: Filters measured by the bench, by name (query strings of /api/history).
FILTERS: dict[str, str] = {
    "all": "",
    "pref_tokyo": "prefs=13",
    "region_tohoku": "prefs=tohoku",
    "okinawa_rare": "prefs=47",
    "intensity_5minus": "min_intensity=5-",
    "magnitude_6": "min_magnitude=6",
    "depth_30km": "max_depth_km=30",
    "month": "from=2024-03-01&to=2024-03-31",
    "tohoku_5minus_since_2018": "prefs=tohoku&min_intensity=5-&from=2018-01-01",
    "tsunami": "kinds=tsunami",
    "pref_year_m4": "prefs=27&from=2021-01-01&to=2021-12-31&min_magnitude=4",
    "deep_big": "min_magnitude=6&max_depth_km=700&min_intensity=1&prefs=kanto",
}
