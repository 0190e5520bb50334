"""Speed of prefecture tagging (``geo.locate``): one point, and 100,000 points at once.

Goals (issue 3): one point ≤ 20 µs, 100,000 points ≤ 100 ms, on the CI machine.
Points are drawn with a fixed seed: uniformly over the main islands' bounding
box (mostly sea, the common case for epicentres), and around 24 coastal cities
(±0.1°, so many fall in "mixed" grid cells near coasts: the slow path).
Run: ``.venv/bin/python -m bench.geo_bench`` (prints JSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from yure.geo import locate

SEED = 20240101
N_BATCH = 100_000
N_SINGLE = 20_000
BOX_LAT = (31.0, 45.5)
BOX_LON = (129.5, 145.5)
#: (lat, lon) of coastal cities: Sapporo … Naha.
CITIES = (
    (43.06, 141.35), (41.77, 140.73), (40.82, 140.74), (38.27, 140.87), (37.92, 139.04),
    (35.69, 139.69), (35.44, 139.64), (35.61, 140.12), (34.97, 138.38), (35.18, 136.91),
    (34.69, 135.50), (34.69, 135.19), (34.23, 135.17), (34.39, 132.46), (33.95, 130.94),
    (33.59, 130.40), (32.75, 129.87), (32.80, 130.71), (31.60, 130.56), (26.21, 127.68),
    (36.56, 136.66), (36.70, 137.21), (34.07, 134.55), (33.56, 133.53),
)  # fmt: skip

Points = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


def _box_points(rng: np.random.Generator, n: int) -> Points:
    return rng.uniform(*BOX_LAT, n), rng.uniform(*BOX_LON, n)


def _city_points(rng: np.random.Generator, n: int) -> Points:
    centres = np.array(CITIES)[rng.integers(0, len(CITIES), n)]
    jitter = rng.uniform(-0.1, 0.1, (n, 2))
    return centres[:, 0] + jitter[:, 0], centres[:, 1] + jitter[:, 1]


def _best_of(repeats: int, func: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def _per_point_us(points: Points) -> float:
    lats, lons = (a.tolist() for a in points)
    pairs = list(zip(lats, lons, strict=True))

    def loop() -> None:
        for lat, lon in pairs:
            locate.pref_at(lat, lon)

    return _best_of(3, loop) / len(pairs) * 1e6


def run() -> dict[str, float]:
    """Measure and return the numbers (µs per point, ms per batch)."""
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    locate.load_index()
    load_ms = (time.perf_counter() - started) * 1e3
    locate.pref_at(35.0, 135.0)  # load the shared index and the coast tree once
    locate.tag_points([36.0], [141.5])
    box, city = _box_points(rng, N_BATCH), _city_points(rng, N_BATCH)
    single_box = _box_points(rng, N_SINGLE)
    single_city = _city_points(rng, N_SINGLE)
    return {
        "geo_load_ms": round(load_ms, 2),
        "geo_point_us": round(_per_point_us(single_box), 2),
        "geo_point_coastal_us": round(_per_point_us(single_city), 2),
        "geo_100k_ms": round(_best_of(5, lambda: locate.tag_points(*box)) * 1e3, 2),
        "geo_100k_coastal_ms": round(_best_of(5, lambda: locate.tag_points(*city)) * 1e3, 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
