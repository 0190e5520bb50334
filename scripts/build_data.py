"""``make data``: build yure's prefecture boundaries from JMA's GeoJSON.

Steps (each fails loudly when its input changes):
  1. ``pip download reversejp==0.1.1`` (cached in ``build/reversejp/``), check the
     pinned SHA-256, pull JMA's GeoJSON out of the extension (scripts/wheel_geojson.py);
  2. dissolve the 1,855 市町村等 areas into 47 disjoint prefecture polygons and
     classify a lookup grid over them (scripts/pref_geometry.py);
  3. write ``data/pref_index.npz`` for ``geo.locate`` (WKB + grid, numpy-only to read)
     and ``data/japan_prefs.geojson`` (一次細分区域 dissolved per prefecture,
     coverage-simplified) for the web map.
The code tables (data/*.csv) come from scripts/build_tables.py instead.

Run: ``.venv/bin/python scripts/build_data.py`` (repository root on sys.path is added).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``scripts.*`` importable
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import mapping  # noqa: E402

from scripts.pref_geometry import (  # noqa: E402
    GRID_CELL_DEG,
    NEAR_MARGIN_DEG,
    PREF_NUMBERS,
    build_grid,
    dissolve,
    polygons,
    pref_of_feature,
    set_table,
)
from scripts.wheel_geojson import (  # noqa: E402
    WHEEL_SHA256,
    Feature,
    SourceError,
    fetch_wheel,
    load_features,
)
from yure.geo.locate import INDEX_FORMAT  # noqa: E402  (the format geo.locate reads)

DATA_DIR = ROOT / "data"
CACHE_DIR = ROOT / "build" / "reversejp"
INDEX_FILE = "pref_index.npz"
WEB_MAP_FILE = "japan_prefs.geojson"
MAX_INDEX_BYTES = 5 * 1024 * 1024
MAX_WEB_MAP_BYTES = 300 * 1024
#: Web map: coverage simplification tolerance and coordinate decimals (0.001° ≈ 100 m).
WEB_MAP_TOLERANCE_DEG = 0.004
WEB_MAP_DECIMALS = 3
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _write_npz(arrays: Mapping[str, npt.NDArray[Any]]) -> bytes:
    """An ``np.load``-readable .npz with fixed timestamps (byte-identical reruns)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return out.getvalue()


def index_bytes(prefs: Mapping[int, Any]) -> bytes:
    """Serialize the prefecture polygons and their lookup grid."""
    (lon0, lat0, nx, ny), grid, sets = build_grid(prefs)
    blobs = [shapely.to_wkb(prefs[n], output_dimension=2, byte_order=1) for n in PREF_NUMBERS]
    offsets = np.cumsum([0, *(len(b) for b in blobs)], dtype=np.int64)
    arrays: dict[str, npt.NDArray[Any]] = {
        "format": np.array(INDEX_FORMAT, dtype=np.int32),
        "frame": np.array([lon0, lat0, GRID_CELL_DEG, NEAR_MARGIN_DEG], dtype=np.float64),
        "grid": grid,
        "sets": set_table(sets),
        "wkb_offsets": offsets,
        "wkb": np.frombuffer(b"".join(blobs), dtype=np.uint8),
    }
    assert grid.shape == (ny, nx)
    data = _write_npz(arrays)
    if len(data) > MAX_INDEX_BYTES:
        raise SourceError(f"{INDEX_FILE} is {len(data)} bytes > MAX_INDEX_BYTES")
    return data


def _pref_names() -> dict[int, tuple[str, str]]:
    with (DATA_DIR / "prefectures.csv").open(encoding="utf-8", newline="") as f:
        return {int(r["code"]): (r["name"], r["name_en"]) for r in csv.DictReader(f)}


def _rounded(geom: Any) -> Any:
    return shapely.set_precision(geom, 10**-WEB_MAP_DECIMALS, mode="pointwise")


def web_map_bytes(class10s: Sequence[Feature]) -> bytes:
    """GeoJSON of the 47 prefectures for the browser, ``id`` = prefecture code."""
    parts: dict[int, list[Any]] = {n: [] for n in PREF_NUMBERS}
    for feature in class10s:
        parts[pref_of_feature(feature)].extend(
            polygons(shapely.geometry.shape(feature["geometry"]))
        )
    merged = [shapely.union_all(parts[n]) for n in PREF_NUMBERS]
    simple = shapely.coverage_simplify(np.array(merged, dtype=object), WEB_MAP_TOLERANCE_DEG)
    names = _pref_names()
    features = []
    for n, geom in zip(PREF_NUMBERS, simple, strict=True):
        polys = [p for p in polygons(_rounded(geom)) if not p.is_empty]
        if not polys:
            raise SourceError(f"web map: prefecture {n} vanished in simplification")
        code = f"{n:02d}"
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name": names[n][0], "name_en": names[n][1]},
                "geometry": mapping(shapely.MultiPolygon(polys)),
            }
        )
    doc = {
        "type": "FeatureCollection",
        "attribution": "出典：気象庁 (JMA area GeoJSON via reversejp 0.1.1)",
        "features": features,
    }
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) > MAX_WEB_MAP_BYTES:
        raise SourceError(f"{WEB_MAP_FILE} is {len(data)} bytes > MAX_WEB_MAP_BYTES")
    return data


def main(argv: Sequence[str]) -> int:
    """Build and write the boundary files; return the exit status."""
    del argv
    try:
        cities, class10s = load_features(fetch_wheel(CACHE_DIR))
        outputs = {
            INDEX_FILE: index_bytes(dissolve(cities)),
            WEB_MAP_FILE: web_map_bytes(class10s),
        }
    except (SourceError, OSError, KeyError, ValueError) as err:
        print(f"build_data: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    for name, data in outputs.items():
        (DATA_DIR / name).write_bytes(data)
        print(f"wrote data/{name} ({len(data)} bytes); source wheel sha256 {WHEEL_SHA256}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
