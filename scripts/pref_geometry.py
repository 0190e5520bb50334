"""Prefecture polygons from JMA's 市町村等 areas, and the lookup grid over them.

Build-time only (shapely + numpy; the runtime in ``geo.locate`` reads the result).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from scripts.wheel_geojson import Feature, SourceError

PREF_NUMBERS = tuple(range(1, 48))
#: JMA gives 北方領土 its own area code ``hoppo`` (name 根室地方): part of 北海道 (根室振興局).
SPECIAL_AREA_PREFS: Mapping[str, int] = {"hoppo": 1}

#: Grid cell edge in degrees (about 2 km x 1.8 km at 35°N).
GRID_CELL_DEG = 0.02
#: Cells within this many degrees of a prefecture are "near": more than 2 km at
#: every latitude of Japan (2 km / (111.32 km x cos 46°) = 0.0259°).
NEAR_MARGIN_DEG = 0.03
#: Grid values: 0 = sea, 1..47 = wholly inside that prefecture, 48.. = candidate set.
FIRST_SET_ID = 48
MAX_SET_ID = 255


def pref_of_feature(feature: Feature) -> int:
    """Return the prefecture number of a JMA area feature (code's first two digits).

    Raises:
        SourceError: the code is neither ``NN…`` with a valid NN nor a known special code.
    """
    code = str(feature["properties"]["code"])
    if code in SPECIAL_AREA_PREFS:
        return SPECIAL_AREA_PREFS[code]
    if code[:2].isdigit() and int(code[:2]) in PREF_NUMBERS:
        return int(code[:2])
    raise SourceError(f"area code {code!r} has no prefecture")


def polygons(geom: Any) -> list[Any]:
    """The polygons of ``geom`` after repair (make_valid may add lines and points)."""
    parts = shapely.get_parts(shapely.make_valid(geom))
    out: list[Any] = []
    for part in parts:
        if part.geom_type == "Polygon":
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(polygons(part))
    return out


def dissolve(features: Iterable[Feature]) -> dict[int, Any]:
    """Union the areas of each prefecture into one (Multi)Polygon per prefecture.

    Holes left inside a prefecture (slivers between municipalities) are filled
    unless another prefecture covers them; overlaps between prefectures go to
    the lower code, so the result is a set of disjoint polygons.

    Raises:
        SourceError: a prefecture has no area.
    """
    parts: dict[int, list[Any]] = {n: [] for n in PREF_NUMBERS}
    for feature in features:
        parts[pref_of_feature(feature)].extend(polygons(shape(feature["geometry"])))
    empty = [n for n, p in parts.items() if not p]
    if empty:
        raise SourceError(f"prefectures without areas: {empty}")
    merged = {n: shapely.union_all(p) for n, p in parts.items()}
    everything = shapely.union_all(list(merged.values()))
    filled: dict[int, Any] = {}
    for n, geom in merged.items():
        shells = shapely.union_all([shapely.Polygon(p.exterior) for p in polygons(geom)])
        others = shapely.difference(everything, geom)
        filled[n] = shapely.union(geom, shapely.difference(shells, others))
    disjoint: dict[int, Any] = {}
    taken = shapely.Polygon()
    for n in PREF_NUMBERS:
        own = shapely.difference(filled[n], taken)
        disjoint[n] = shapely.MultiPolygon(polygons(own))
        taken = shapely.union(taken, filled[n])
    for n, geom in disjoint.items():
        if not geom.is_valid or geom.is_empty:
            raise SourceError(f"prefecture {n}: invalid or empty after dissolve")
    return disjoint


def grid_frame(prefs: Mapping[int, Any]) -> tuple[float, float, int, int]:
    """Return (lon0, lat0, nx, ny) of a grid covering every prefecture plus the margin."""
    bounds = np.array([shapely.bounds(g) for g in prefs.values()])
    lon0 = np.floor((bounds[:, 0].min() - NEAR_MARGIN_DEG) / GRID_CELL_DEG) * GRID_CELL_DEG
    lat0 = np.floor((bounds[:, 1].min() - NEAR_MARGIN_DEG) / GRID_CELL_DEG) * GRID_CELL_DEG
    nx = int(np.ceil((bounds[:, 2].max() + NEAR_MARGIN_DEG - lon0) / GRID_CELL_DEG))
    ny = int(np.ceil((bounds[:, 3].max() + NEAR_MARGIN_DEG - lat0) / GRID_CELL_DEG))
    return round(float(lon0), 6), round(float(lat0), 6), nx, ny


class _GridBuilder:
    def __init__(self, lon0: float, lat0: float, nx: int, ny: int) -> None:
        self.lon0, self.lat0, self.nx, self.ny = lon0, lat0, nx, ny
        self.inside = np.zeros((ny, nx), dtype=np.uint8)
        self.near = np.zeros((ny, nx), dtype=bool)
        self.touching: dict[tuple[int, int], set[int]] = {}

    def _box(self, i0: int, i1: int, j0: int, j1: int) -> Any:
        c = GRID_CELL_DEG
        return shapely.box(
            self.lon0 + j0 * c, self.lat0 + i0 * c, self.lon0 + j1 * c, self.lat0 + i1 * c
        )

    def add(self, n: int, geom: Any) -> None:
        near = shapely.buffer(geom, NEAR_MARGIN_DEG, quad_segs=4)
        shapely.prepare(geom)
        shapely.prepare(near)
        for part in polygons(near):
            x0, y0, x1, y1 = shapely.bounds(part)
            j0 = max(int((x0 - self.lon0) // GRID_CELL_DEG), 0)
            i0 = max(int((y0 - self.lat0) // GRID_CELL_DEG), 0)
            j1 = min(int((x1 - self.lon0) // GRID_CELL_DEG) + 1, self.nx)
            i1 = min(int((y1 - self.lat0) // GRID_CELL_DEG) + 1, self.ny)
            self._visit(n, geom, near, i0, i1, j0, j1)

    def _visit(self, n: int, geom: Any, near: Any, i0: int, i1: int, j0: int, j1: int) -> None:
        box = self._box(i0, i1, j0, j1)
        if not shapely.intersects(near, box):
            return
        if shapely.contains(geom, box):
            self.inside[i0:i1, j0:j1] = n
            return
        touches = bool(shapely.intersects(geom, box))
        if not touches and shapely.contains(near, box):
            self.near[i0:i1, j0:j1] = True
            return
        if i1 - i0 == 1 and j1 - j0 == 1:
            self.near[i0, j0] = True
            if touches:
                self.touching.setdefault((i0, j0), set()).add(n)
            return
        im, jm = (i0 + i1) // 2, (j0 + j1) // 2
        for a, b in ((i0, im), (im, i1)):
            for c, d in ((j0, jm), (jm, j1)):
                if a < b and c < d:
                    self._visit(n, geom, near, a, b, c, d)


def build_grid(
    prefs: Mapping[int, Any],
) -> tuple[tuple[float, float, int, int], npt.NDArray[np.uint8], list[tuple[int, ...]]]:
    """Classify every grid cell: sea, inside one prefecture, or a candidate set.

    A candidate set lists the prefectures whose polygon touches the cell (possibly
    none: a cell near a coast but on no polygon); the runtime tests those with
    point-in-polygon and falls back to the nearest coast for points outside.

    Raises:
        SourceError: more distinct candidate sets than a uint8 grid can name.
    """
    frame = grid_frame(prefs)
    builder = _GridBuilder(*frame)
    for n in PREF_NUMBERS:
        builder.add(n, prefs[n])
    cells: dict[tuple[int, int], tuple[int, ...]] = {}
    for i, j in zip(*np.nonzero(builder.near & (builder.inside == 0)), strict=True):
        cells[(int(i), int(j))] = tuple(sorted(builder.touching.get((int(i), int(j)), ())))
    sets = sorted(set(cells.values()), key=lambda s: (len(s), s))
    if FIRST_SET_ID + len(sets) - 1 > MAX_SET_ID:
        raise SourceError(f"{len(sets)} candidate sets do not fit a uint8 grid")
    ids = {s: FIRST_SET_ID + k for k, s in enumerate(sets)}
    grid = builder.inside.copy()
    for (i, j), members in cells.items():
        grid[i, j] = ids[members]
    return frame, grid, sets


def set_table(sets: Sequence[tuple[int, ...]]) -> npt.NDArray[np.uint8]:
    """Pad the candidate sets into a uint8 matrix (row k = set id FIRST_SET_ID + k)."""
    width = max((len(s) for s in sets), default=1) or 1
    table = np.zeros((len(sets), width), dtype=np.uint8)
    for k, members in enumerate(sets):
        table[k, : len(members)] = members
    return table
