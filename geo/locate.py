"""Which prefecture is a point in? Point-in-polygon over JMA's boundaries, with a grid index.

Rule: a point inside a prefecture's polygon gets that prefecture; a point outside
every polygon gets the nearest prefecture whose coast is at most
:data:`NEAR_COAST_KM` away (piers, reclaimed land, boats in a harbour, and the
generalisation of JMA's outlines, whose edges are ~0.7 km long); else ``None``.

The polygons and a grid over them come from ``data/pref_index.npz`` (built by
``scripts/build_data.py`` from JMA's 市町村等 areas). Each grid cell is sea (no
prefecture within 2 km), wholly inside one prefecture, or "mixed": only points
in mixed cells run a point-in-polygon test on the cell's candidate prefectures
(shapely 2 ``contains_xy`` on prepared geometry), and only those outside every
polygon run the nearest-coast search (an STRtree over short boundary pieces in
spherical Mercator, which is conformal: Mercator distance × cos(lat) is the
ground distance over such short spans).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from yure.geo.codes import DATA_DIR, PREF_CODES
from yure.geo.errors import GeoError

INDEX_PATH = DATA_DIR / "pref_index.npz"
#: Format of pref_index.npz; scripts/build_data.py writes this one.
INDEX_FORMAT = 1
#: Cap on the index file, read once on first use (the real one is about 0.35 MB).
MAX_INDEX_BYTES = 16 * 1024 * 1024
#: Cap on one :func:`tag_points` call.
MAX_TAG_POINTS = 5_000_000
#: A point at sea this close to a prefecture's coast belongs to it.
NEAR_COAST_KM = 2.0
#: Mean Earth radius (IUGG), for Mercator → ground distance.
EARTH_RADIUS_KM = 6371.0088
#: Boundary pieces for the nearest-coast search have at most this many segments.
PIECE_SEGMENTS = 16
_FIRST_SET_ID = 48
_NONE = 0

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclasses.dataclass(frozen=True)
class _Index:
    lon0: float
    lat0: float
    cell_deg: float
    grid: npt.NDArray[np.uint8]
    sets: tuple[tuple[int, ...], ...]
    geoms: tuple[Any, ...]  # shapely (Multi)Polygons, index 0 unused, 1..47 prepared

    @functools.cached_property
    def coast(self) -> tuple[Any, npt.NDArray[np.uint8]]:
        """(STRtree of boundary pieces in Mercator degrees, prefecture of each piece)."""
        pieces: list[Any] = []
        owners: list[int] = []
        for n in range(1, len(self.geoms)):
            rings = shapely.get_rings(shapely.get_parts(self.geoms[n]))
            for ring in rings:
                coords = _to_mercator(shapely.get_coordinates(ring))
                for start in range(0, len(coords) - 1, PIECE_SEGMENTS):
                    pieces.append(shapely.linestrings(coords[start : start + PIECE_SEGMENTS + 1]))
                    owners.append(n)
        return shapely.STRtree(pieces), np.array(owners, dtype=np.uint8)


def _to_mercator(lonlat: FloatArray) -> FloatArray:
    """Spherical Mercator in degrees: x = lon, y = deg(ln tan(π/4 + φ/2))."""
    out = np.array(lonlat, dtype=np.float64)
    out[:, 1] = np.degrees(np.log(np.tan(np.pi / 4 + np.radians(out[:, 1]) / 2)))
    return out


def load_index(path: Path = INDEX_PATH) -> _Index:
    """Read the prefecture index written by ``scripts/build_data.py``.

    Raises:
        GeoError: the file is missing, too large, or not format :data:`INDEX_FORMAT`.
    """
    try:
        if path.stat().st_size > MAX_INDEX_BYTES:
            raise GeoError(f"{path} is larger than MAX_INDEX_BYTES={MAX_INDEX_BYTES}")
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as err:
        raise GeoError(f"cannot read prefecture index {path}: {err}") from err
    try:
        if int(arrays["format"].reshape(-1)[0]) != INDEX_FORMAT:
            raise GeoError(f"{path}: index format is not {INDEX_FORMAT}; rerun make data")
        lon0, lat0, cell_deg, _margin = (float(v) for v in arrays["frame"])
        offsets, blob = arrays["wkb_offsets"], arrays["wkb"].tobytes()
        geoms = [None, *(shapely.from_wkb(blob[a:b]) for a, b in itertools.pairwise(offsets))]
        sets = tuple(tuple(int(m) for m in row if m) for row in arrays["sets"])
        grid = arrays["grid"]
    except (KeyError, ValueError, TypeError, shapely.errors.GEOSException) as err:
        raise GeoError(f"{path}: malformed prefecture index: {err}") from err
    if len(geoms) != len(PREF_CODES) + 1 or grid.dtype != np.uint8 or grid.ndim != 2:
        raise GeoError(f"{path}: expected 47 prefectures and a 2-D uint8 grid")
    if int(grid.max()) >= _FIRST_SET_ID + len(sets):
        raise GeoError(f"{path}: grid names a candidate set that does not exist")
    for geom in geoms[1:]:
        shapely.prepare(geom)
    return _Index(lon0, lat0, cell_deg, grid, sets, tuple(geoms))


@functools.cache
def _index() -> _Index:
    return load_index()


def _coordinate(value: object, name: str, limit: float) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise GeoError(f"{name} must be a number, got {type(value).__name__} {value!r:.40}")
    number = float(value)
    if not math.isfinite(number):
        raise GeoError(f"{name} must be finite, got {number}")
    if not -limit <= number <= limit:
        raise GeoError(f"{name} {number} is out of range [-{limit:g}, {limit:g}]")
    return number


def validate_point(lat: float, lon: float) -> tuple[float, float]:
    """Return (``lat``, ``lon``) as floats after the checks :func:`pref_at` makes.

    Raises:
        GeoError: a coordinate is not a real number, not finite, or out of range.
    """
    return _coordinate(lat, "latitude", 90.0), _coordinate(lon, "longitude", 180.0)


def pref_at(lat: float, lon: float) -> str | None:
    """Return the JIS code of the prefecture at (``lat``, ``lon``), WGS 84 degrees.

    ``None`` at sea more than :data:`NEAR_COAST_KM` from any prefecture, and abroad.

    Raises:
        GeoError: a coordinate is not a real number, not finite, or out of range.
    """
    lat, lon = validate_point(lat, lon)
    index = _index()
    i = math.floor((lat - index.lat0) / index.cell_deg)
    j = math.floor((lon - index.lon0) / index.cell_deg)
    if not (0 <= i < index.grid.shape[0] and 0 <= j < index.grid.shape[1]):
        return None
    value = int(index.grid[i, j])
    if value == _NONE:
        return None
    if value < _FIRST_SET_ID:
        return PREF_CODES[value - 1]
    for n in index.sets[value - _FIRST_SET_ID]:
        if shapely.contains_xy(index.geoms[n], lon, lat):
            return PREF_CODES[n - 1]
    found = _nearest(index, np.array([lat]), np.array([lon]))[0]
    return PREF_CODES[found - 1] if found else None


def _nearest(index: _Index, lats: FloatArray, lons: FloatArray) -> npt.NDArray[np.uint8]:
    """Prefecture number (0 = none) with a coast within NEAR_COAST_KM of each point."""
    tree, owners = index.coast
    result = np.zeros(len(lats), dtype=np.uint8)
    if not len(lats):
        return result
    merc = _to_mercator(np.column_stack([lons, lats]))
    # Mercator stretches by sec(lat): the search radius in Mercator degrees is
    # largest at the highest latitude of the batch; the exact check follows.
    cos_lat = np.cos(np.radians(lats))
    radius = np.degrees(NEAR_COAST_KM / EARTH_RADIUS_KM) / float(cos_lat.min())
    points = shapely.points(merc)
    which, piece = tree.query(points, predicate="dwithin", distance=radius)
    if not len(which):
        return result
    km = (
        np.radians(shapely.distance(points[which], tree.geometries[piece]))
        * EARTH_RADIUS_KM
        * cos_lat[which]
    )
    # The nearest piece of each point: sort by (point, distance), keep each point's first.
    order = np.lexsort((km, which))
    which, piece, km = which[order], piece[order], km[order]
    first = np.ones(len(which), dtype=bool)
    first[1:] = which[1:] != which[:-1]
    close = first & (km <= NEAR_COAST_KM)
    result[which[close]] = owners[piece[close]]
    return result


def _as_coordinates(values: object, name: str, limit: float) -> FloatArray:
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iuf":
            raise GeoError(f"{name} must be an array of numbers, got dtype {values.dtype}")
        array = values.astype(np.float64, copy=False)
    elif isinstance(values, Sequence) and not isinstance(values, str | bytes):
        if len(values) > MAX_TAG_POINTS:
            raise GeoError(f"more than MAX_TAG_POINTS={MAX_TAG_POINTS} points")
        array = np.empty(len(values), dtype=np.float64)
        for k, value in enumerate(values):
            try:
                array[k] = _coordinate(value, name, limit)
            except GeoError as err:
                raise GeoError(f"{name}[{k}]: {err}") from None
    else:
        raise GeoError(f"{name} must be a sequence or array of numbers")
    if array.ndim != 1:
        raise GeoError(f"{name} must be one-dimensional, got shape {array.shape}")
    if len(array) > MAX_TAG_POINTS:
        raise GeoError(f"more than MAX_TAG_POINTS={MAX_TAG_POINTS} points")
    bad = ~np.isfinite(array) | (np.abs(array) > limit)
    if bad.any():
        k = int(np.argmax(bad))
        raise GeoError(f"{name}[{k}] = {array[k]} is not finite or out of [-{limit:g}, {limit:g}]")
    return array


def tag_points(
    lats: Sequence[float] | FloatArray, lons: Sequence[float] | FloatArray
) -> list[str | None]:
    """Vectorized :func:`pref_at`: the prefecture code (or ``None``) of each point.

    Accepts sequences of numbers or 1-D numpy arrays of a numeric dtype.

    Raises:
        GeoError: a value is not a real number, not finite or out of range, the
            lengths differ, or there are more than :data:`MAX_TAG_POINTS` points.
    """
    lat = _as_coordinates(lats, "latitude", 90.0)
    lon = _as_coordinates(lons, "longitude", 180.0)
    if lat.shape != lon.shape:
        raise GeoError(f"{len(lat)} latitudes but {len(lon)} longitudes")
    index = _index()
    ny, nx = index.grid.shape
    i = np.floor((lat - index.lat0) / index.cell_deg).astype(np.intp)
    j = np.floor((lon - index.lon0) / index.cell_deg).astype(np.intp)
    inside = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
    values = np.zeros(len(lat), dtype=np.uint8)
    values[inside] = index.grid[i[inside], j[inside]]
    result = np.where(values < _FIRST_SET_ID, values, 0).astype(np.uint8)
    mixed = np.flatnonzero(values >= _FIRST_SET_ID)
    outside: list[IntArray] = []
    for set_id in np.unique(values[mixed]):
        todo = mixed[values[mixed] == set_id]
        for n in index.sets[int(set_id) - _FIRST_SET_ID]:
            hit = shapely.contains_xy(index.geoms[n], lon[todo], lat[todo])
            result[todo[hit]] = n
            todo = todo[~hit]
        outside.append(todo)
    if outside:
        rest = np.concatenate(outside)
        result[rest] = _nearest(index, lat[rest], lon[rest])
    labels = np.array([None, *PREF_CODES], dtype=object)
    out: list[str | None] = labels[result].tolist()
    return out
