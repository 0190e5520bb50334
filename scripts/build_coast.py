"""``make data``: the sea-facing coast of every 津波予報区, as runs of the web map's edges.

The map used to outline the whole prefecture of each tsunami area (inland borders
included). This finds the coast instead, without new geometry:

1. In ``data/japan_prefs.geojson`` (coverage-simplified, so neighbours share their
   border vertices exactly) an edge of an outer ring that no other ring has is coast;
   an edge two rings share is a border between prefectures (or islands touching).
2. Each coast edge of prefecture P goes to one of the 津波予報区 touching P
   (``data/tsunami_areas.csv``): the only one, or else the one whose bounding box
   (JMA table 31's extent, from ``jma/codes/tsunami_regions.csv`` of the reference)
   holds the edge's midpoint, nearest centroid first; outside every box, the nearest box.
3. Consecutive coast edges with the same area form a run ``[polygon, first_vertex,
   last_vertex, area_code]`` into the prefecture's MultiPolygon (outer ring).

``data/tsunami_coast.json`` = ``{"format": 1, "runs": {pref: [run, ...]}}``, read by
``web/pages.py`` into the map's GeoJSON (``properties.coast``). Rerunning on the same
inputs writes the same bytes; rebuild it whenever the web map is rebuilt (make data).

Run: ``.venv/bin/python scripts/build_coast.py ../shared/reference``.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
WEB_MAP_FILE = "japan_prefs.geojson"
AREAS_FILE = "tsunami_areas.csv"
COAST_FILE = "tsunami_coast.json"
COAST_FORMAT = 1
#: Real forecast areas in JMA table 31 (the others are JMA's aggregates).
FORECAST_AREA_KIND = "津波予報区"
FORECAST_AREAS = 66
#: A box is widened by this much (degrees) before testing a midpoint: the simplified
#: coast may stray slightly outside JMA's extent.
BOX_MARGIN_DEG = 0.05

Point = tuple[float, float]
Run = tuple[int, int, int, str]


class CoastError(Exception):
    """An input changed shape (so the output would be wrong)."""


@dataclasses.dataclass(frozen=True, slots=True)
class AreaBox:
    """Extent and centroid of one 津波予報区 (lon/lat degrees)."""

    code: str
    west: float
    south: float
    east: float
    north: float
    lon: float
    lat: float

    def distance(self, p: Point, margin: float = 0.0) -> float:
        """0 inside the (widened) box, else the distance to it in degrees."""
        dx = max(self.west - margin - p[0], 0.0, p[0] - self.east - margin)
        dy = max(self.south - margin - p[1], 0.0, p[1] - self.north - margin)
        return math.hypot(dx, dy)

    def centre_distance(self, p: Point) -> float:
        return math.hypot(p[0] - self.lon, p[1] - self.lat)


def _edge(a: Sequence[float], b: Sequence[float]) -> tuple[Point, Point]:
    pa = (float(a[0]), float(a[1]))
    pb = (float(b[0]), float(b[1]))
    return (pa, pb) if pa <= pb else (pb, pa)


def _polygons(feature: Mapping[str, Any]) -> list[list[list[list[float]]]]:
    geometry = feature["geometry"]
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def pick_area(candidates: Sequence[AreaBox], p: Point) -> str:
    """The area a coast point belongs to (see the module docstring, step 2)."""
    if len(candidates) == 1:
        return candidates[0].code
    inside = [box for box in candidates if box.distance(p, BOX_MARGIN_DEG) == 0.0]
    if inside:
        return min(inside, key=lambda box: (box.centre_distance(p), box.code)).code
    return min(candidates, key=lambda box: (box.distance(p), box.code)).code


def coast_runs(
    geojson: Mapping[str, Any], areas_of_pref: Mapping[str, Sequence[AreaBox]]
) -> dict[str, list[Run]]:
    """Runs of coast edges per prefecture, in feature, polygon and vertex order."""
    seen: Counter[tuple[Point, Point]] = Counter()
    for feature in geojson["features"]:
        for polygon in _polygons(feature):
            for ring in polygon:
                seen.update(_edge(a, b) for a, b in itertools.pairwise(ring))
    out: dict[str, list[Run]] = {}
    for feature in geojson["features"]:
        pref = str(feature["id"])
        candidates = areas_of_pref.get(pref, ())
        runs: list[Run] = []
        for index, polygon in enumerate(_polygons(feature)):
            ring = polygon[0]
            current: str | None = None
            start = 0
            for j in range(len(ring) - 1):
                a, b = ring[j], ring[j + 1]
                area: str | None = None
                if candidates and seen[_edge(a, b)] == 1:
                    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                    area = pick_area(candidates, mid)
                if area != current:
                    if current is not None:
                        runs.append((index, start, j, current))
                    current, start = area, j
            if current is not None:
                runs.append((index, start, len(ring) - 1, current))
        if runs:
            out[pref] = runs
    return out


def read_areas(areas_csv: Path, regions_csv: Path) -> dict[str, list[AreaBox]]:
    """The forecast areas touching each prefecture, with their extents.

    Raises:
        CoastError: a table changed shape (area count, a missing extent).
    """
    with areas_csv.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == FORECAST_AREA_KIND]
    with regions_csv.open(encoding="utf-8", newline="") as f:
        extents = {r["tsunami_region_code"]: r for r in csv.DictReader(f)}
    if len(rows) != FORECAST_AREAS:
        raise CoastError(f"{areas_csv}: {len(rows)} forecast areas, expected {FORECAST_AREAS}")
    by_pref: dict[str, list[AreaBox]] = {}
    for row in rows:
        extent = extents.get(row["code"])
        if extent is None:
            raise CoastError(f"{regions_csv}: no extent for area {row['code']}")
        box = AreaBox(
            code=row["code"],
            west=float(extent["bbox_w"]),
            south=float(extent["bbox_s"]),
            east=float(extent["bbox_e"]),
            north=float(extent["bbox_n"]),
            lon=float(extent["centroid_lon"]),
            lat=float(extent["centroid_lat"]),
        )
        for pref in row["prefs"].split(";"):
            by_pref.setdefault(pref, []).append(box)
    return by_pref


def coast_bytes(runs: Mapping[str, Sequence[Run]]) -> bytes:
    doc = {
        "format": COAST_FORMAT,
        "attribution": "出典：気象庁 (area extents: JMA code table 31); coast: yure",
        "runs": {pref: [list(run) for run in runs[pref]] for pref in sorted(runs)},
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: build_coast.py REFERENCE_DIR", file=sys.stderr)
        return 2
    regions = Path(argv[0]) / "jma" / "codes" / "tsunami_regions.csv"
    areas = read_areas(DATA_DIR / AREAS_FILE, regions)
    geojson = json.loads((DATA_DIR / WEB_MAP_FILE).read_text(encoding="utf-8"))
    runs = coast_runs(geojson, areas)
    data = coast_bytes(runs)
    (DATA_DIR / COAST_FILE).write_bytes(data)
    edges = sum(run[2] - run[1] for pref_runs in runs.values() for run in pref_runs)
    print(f"{COAST_FILE}: {len(data)} bytes, {edges} coast edges in {len(runs)} prefectures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
