"""scripts/build_coast.py and the map document: coast edges are the ones no other
prefecture shares, split between a prefecture's 津波予報区 by JMA's area extents; the
committed table is what the script builds, and covers every forecast area."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from scripts import build_coast
from scripts.build_coast import AreaBox
from yure.web import pages

DATA = Path(pages.PREFS_GEOJSON).parent


def square(x0: float, y0: float, size: float = 1.0) -> list[list[float]]:
    return [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]


def feature(code: str, *rings: list[list[float]]) -> dict[str, Any]:
    polygons = [[ring] for ring in rings]
    return {
        "id": code,
        "properties": {},
        "geometry": {"type": "MultiPolygon", "coordinates": polygons},
    }


def box(code: str, west: float, south: float, east: float, north: float) -> AreaBox:
    return AreaBox(code, west, south, east, north, (west + east) / 2, (south + north) / 2)


def test_shared_edges_are_borders_and_areas_split_by_extent() -> None:
    # 01 = [0,1]², 02 = [1,2]² next to it, and an island of 02 at [5,6]×[0,1].
    geojson = {"features": [feature("01", square(0, 0)), feature("02", square(1, 0), square(5, 0))]}
    areas = {
        "01": [box("100", -1, -1, 1.5, 2)],
        "02": [box("200", 1, -1, 2.5, 0.5), box("201", 1, 0.5, 2.5, 2), box("202", 4.5, -1, 7, 2)],
    }
    runs = build_coast.coast_runs(geojson, areas)
    # 01: edges 0 (bottom), 2 (top), 3 (left) are coast; edge 1 (x=1) is shared.
    assert runs["01"] == [(0, 0, 1, "100"), (0, 2, 4, "100")]
    # 02: edge 0 bottom (y=0) → 200; edge 1 right (midpoint y=.5 in both boxes: nearest
    # centre, 200 at y=-.25 vs 201 at y=1.25) → 200; edge 2 top → 201; edge 3 (x=1) shared.
    assert runs["02"] == [(0, 0, 2, "200"), (0, 2, 3, "201"), (1, 0, 4, "202")]
    # A point outside every box goes to the nearest box.
    assert build_coast.pick_area(areas["02"], (3.5, 0.0)) == "200"
    assert "03" not in build_coast.coast_runs({"features": [feature("03", square(9, 9))]}, areas)


def test_map_document_carries_the_runs_and_refuses_stale_ones() -> None:
    shapes = orjson.dumps({"features": [feature("01", square(0, 0))]})
    good = orjson.dumps({"format": 1, "runs": {"01": [[0, 0, 2, "100"]]}})
    document = orjson.loads(pages.map_document(shapes, good))
    assert document["features"][0]["properties"]["coast"] == [[0, 0, 2, "100"]]
    for bad_runs in ([[0, 0, 5, "100"]], [[1, 0, 2, "100"]], [[0, 2, 2, "100"]]):
        stale = orjson.dumps({"format": 1, "runs": {"01": bad_runs}})
        with pytest.raises(pages.AssetError, match="run make data"):
            pages.map_document(shapes, stale)
    with pytest.raises(pages.AssetError, match="format"):
        pages.map_document(shapes, orjson.dumps({"format": 2, "runs": {}}))
    with pytest.raises(pages.AssetError, match="not JSON"):
        pages.map_document(b"{", good)


def test_every_forecast_area_has_a_coast_in_its_prefectures() -> None:
    coast = json.loads((DATA / "tsunami_coast.json").read_text())
    with (DATA / "tsunami_areas.csv").open(encoding="utf-8") as f:
        areas = {
            r["code"]: r["prefs"].split(";") for r in csv.DictReader(f) if r["kind"] == "津波予報区"
        }
    found: dict[str, set[str]] = {}
    for pref, runs in coast["runs"].items():
        for _, first, last, area in runs:
            assert last > first
            found.setdefault(area, set()).add(pref)
    assert set(found) == set(areas)
    for area, prefs in found.items():
        assert prefs <= set(areas[area]), area
    # 北海道 and 沖縄県 are split between their areas; 岩手県 (one area) is coast only.
    assert {run[3] for run in coast["runs"]["01"]} == {"100", "101", "102", "110", "111", "120"}
    assert {run[3] for run in coast["runs"]["47"]} == {"800", "801", "802"}
    assert len(pages.load_assets()[pages.GEOJSON_NAME].body) < pages.MAX_ASSET_BYTES


@pytest.mark.reference
def test_committed_coast_is_what_the_script_builds(reference_dir: Path) -> None:
    regions = reference_dir / "jma" / "codes" / "tsunami_regions.csv"
    areas = build_coast.read_areas(DATA / "tsunami_areas.csv", regions)
    geojson = json.loads((DATA / "japan_prefs.geojson").read_text())
    built = build_coast.coast_bytes(build_coast.coast_runs(geojson, areas))
    assert built == (DATA / "tsunami_coast.json").read_bytes()


def test_read_areas_refuses_changed_tables(tmp_path: Path) -> None:
    areas = tmp_path / "areas.csv"
    areas.write_text("code,name,kind,members,prefs\n100,x,津波予報区,,01\n", encoding="utf-8")
    regions = tmp_path / "regions.csv"
    regions.write_text("tsunami_region_code\n", encoding="utf-8")
    with pytest.raises(build_coast.CoastError, match="forecast areas"):
        build_coast.read_areas(areas, regions)
