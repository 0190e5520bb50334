"""Tests of geo.locate: known places, the near-coast rule, input validation, the index loader."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.geo.places import ALL, NEAR_COAST, SEA
from yure.geo import locate
from yure.geo.errors import GeoError
from yure.geo.locate import load_index, pref_at, tag_points, validate_point

#: Required share of known places tagged right (issue 3: at least 99 %).
REQUIRED_ACCURACY = 0.99


def test_known_places_accuracy() -> None:
    assert len(ALL) >= 80
    wrong = [(name, want, pref_at(lat, lon)) for name, lat, lon, want in ALL]
    wrong = [w for w in wrong if w[1] != w[2]]
    right = len(ALL) - len(wrong)
    assert right / len(ALL) >= REQUIRED_ACCURACY, f"{right}/{len(ALL)} right; wrong: {wrong}"


def test_known_places_vectorized_equals_single() -> None:
    lats = np.array([p[1] for p in ALL])
    lons = np.array([p[2] for p in ALL])
    assert tag_points(lats, lons) == [pref_at(p[1], p[2]) for p in ALL]
    assert tag_points(lats.tolist(), lons.tolist()) == tag_points(lats, lons)


def test_near_coast_rule_uses_the_distance(monkeypatch: pytest.MonkeyPatch) -> None:
    name, lat, lon, pref = NEAR_COAST[0]  # about 0.5 km off Kamakura
    assert pref_at(lat, lon) == pref
    monkeypatch.setattr(locate, "NEAR_COAST_KM", 0.1)
    assert pref_at(lat, lon) is None, name
    assert tag_points([lat], [lon]) == [None]


def test_batch_of_only_inside_points_in_mixed_cells() -> None:
    # Haneda and Kobe Airport sit in mixed (coastal) cells but inside their polygons:
    # the nearest-coast search runs on an empty batch.
    assert tag_points([35.5494, 34.6328], [139.7798, 135.2239]) == ["13", "28"]


def test_batch_mixing_sea_far_and_outside_grid() -> None:
    lats = [s[1] for s in SEA]
    lons = [s[2] for s in SEA]
    assert tag_points(lats, lons) == [None] * len(SEA)


def test_empty_batch() -> None:
    assert tag_points([], []) == []
    assert tag_points(np.array([]), np.array([])) == []


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (np.float32(35.6938), np.float64(139.7034)),
        (np.float64(35.6938), 139.7034),
        (Fraction(356938, 10000), 139.7034),
    ],
)
def test_numeric_types_accepted(lat: Any, lon: Any) -> None:
    assert pref_at(lat, lon) == "13"


def test_integer_inputs() -> None:
    assert pref_at(36, 140) == "08"  # Ibaraki, near Tsukuba
    assert tag_points(np.array([36]), np.array([140])) == ["08"]
    assert tag_points(np.array([36], dtype=np.int8), np.array([140], dtype=np.uint8)) == ["08"]


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        ("35.0", 139.0, "latitude must be a number"),
        (35.0, None, "longitude must be a number"),
        (True, 139.0, "latitude must be a number"),
        (np.bool_(True), 139.0, "latitude must be a number"),
        (35.0, 1 + 2j, "longitude must be a number"),
        (math.nan, 139.0, "latitude must be finite"),
        (35.0, math.inf, "longitude must be finite"),
        (-math.inf, 139.0, "latitude must be finite"),
        (90.0001, 139.0, "out of range"),
        (-90.5, 139.0, "out of range"),
        (35.0, 180.01, "out of range"),
        (35.0, -181, "out of range"),
    ],
)
def test_pref_at_bad_input(lat: Any, lon: Any, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        pref_at(lat, lon)
    with pytest.raises(GeoError, match=message):
        validate_point(lat, lon)


def test_extreme_valid_coordinates() -> None:
    assert validate_point(90, -180) == (90.0, -180.0)
    assert pref_at(90.0, 180.0) is None
    assert pref_at(-90.0, -180.0) is None


@pytest.mark.parametrize(
    ("lats", "lons", "message"),
    [
        ([35.0, 36.0], [139.0], "2 latitudes but 1 longitudes"),
        (np.zeros((2, 2)), np.zeros((2, 2)), "one-dimensional"),
        (np.array(["35"]), np.array([139.0]), "dtype"),
        (np.array([True]), np.array([139.0]), "dtype"),
        (np.array([35.0], dtype=object), np.array([139.0]), "dtype"),
        ([35.0, math.nan], [139.0, 139.0], r"latitude\[1\]: latitude must be finite"),
        (np.array([35.0, 91.0]), np.array([139.0, 139.0]), r"latitude\[1\] = 91.0"),
        (np.array([35.0]), np.array([np.inf]), r"longitude\[0\] = inf"),
        ([35.0, True], [139.0, 139.0], r"latitude\[1\]: latitude must be a number"),
        ([35.0], [139.0, "36"], r"longitude\[1\]: longitude must be a number"),
        ("35", "139", "sequence or array"),
        (35.0, 139.0, "sequence or array"),
        ((x for x in [35.0]), [139.0], "sequence or array"),
        (np.float64(35.0), [139.0], "sequence or array"),
    ],
)
def test_tag_points_bad_input(lats: Any, lons: Any, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        tag_points(lats, lons)


def test_tag_points_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locate, "MAX_TAG_POINTS", 2)
    with pytest.raises(GeoError, match="MAX_TAG_POINTS"):
        tag_points([35.0] * 3, [139.0] * 3)
    with pytest.raises(GeoError, match="MAX_TAG_POINTS"):
        tag_points(np.full(3, 35.0), np.full(3, 139.0))


# --- properties ---------------------------------------------------------------------------

JAPAN_LAT = st.floats(min_value=20.0, max_value=46.0)
JAPAN_LON = st.floats(min_value=122.0, max_value=155.0)
ANY_LAT = st.floats(min_value=-90.0, max_value=90.0)
ANY_LON = st.floats(min_value=-180.0, max_value=180.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(JAPAN_LAT, JAPAN_LON) | st.tuples(ANY_LAT, ANY_LON), max_size=40))
def test_tag_points_equals_pref_at(points: list[tuple[float, float]]) -> None:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    expected = [pref_at(lat, lon) for lat, lon in points]
    assert tag_points(lats, lons) == expected
    assert tag_points(np.array(lats, dtype=np.float64), np.array(lons)) == expected


@settings(max_examples=60, deadline=None)
@given(ANY_LAT, ANY_LON)
def test_valid_points_give_a_code_or_none(lat: float, lon: float) -> None:
    got = pref_at(lat, lon)
    assert got is None or (len(got) == 2 and 1 <= int(got) <= 47)


BAD_NUMBER = (
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v))
    | st.floats(min_value=180.0, exclude_min=True, allow_infinity=False)
    | st.floats(max_value=-180.0, exclude_max=True, allow_infinity=False)
)
NOT_A_NUMBER = st.one_of(st.text(max_size=5), st.none(), st.booleans(), st.binary(max_size=3))


@settings(max_examples=80, deadline=None)
@given(st.one_of(BAD_NUMBER, NOT_A_NUMBER), st.booleans())
def test_bad_coordinates_always_raise_geo_error(bad: Any, as_latitude: bool) -> None:
    lat, lon = (bad, 139.0) if as_latitude else (35.0, bad)
    with pytest.raises(GeoError):
        pref_at(lat, lon)
    with pytest.raises(GeoError):
        tag_points([35.0, lat], [139.0, lon])


# --- the index file ----------------------------------------------------------------------


def _arrays() -> dict[str, Any]:
    with np.load(locate.INDEX_PATH, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _save(tmp_path: Path, arrays: dict[str, Any]) -> Path:
    path = tmp_path / "index.npz"
    np.savez(path, **arrays)
    return path


def test_load_index_roundtrip(tmp_path: Path) -> None:
    index = load_index(_save(tmp_path, _arrays()))
    assert index.grid.shape == locate._index().grid.shape
    assert len(index.geoms) == 48


def test_load_index_missing(tmp_path: Path) -> None:
    with pytest.raises(GeoError, match="cannot read prefecture index"):
        load_index(tmp_path / "absent.npz")


def test_load_index_not_npz(tmp_path: Path) -> None:
    path = tmp_path / "index.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(GeoError, match="cannot read prefecture index"):
        load_index(path)


def test_load_index_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locate, "MAX_INDEX_BYTES", 100)
    with pytest.raises(GeoError, match="MAX_INDEX_BYTES"):
        load_index(_save(tmp_path, _arrays()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": np.array([2], dtype=np.int32)}, "index format is not 1"),
        ({"frame": np.array([1.0, 2.0])}, "malformed"),
        ({"wkb": np.zeros(10, dtype=np.uint8)}, "malformed"),
        ({"wkb_offsets": np.array([0], dtype=np.int64)}, "expected 47 prefectures"),
        ({"grid": np.zeros(10, dtype=np.uint8)}, "2-D uint8 grid"),
        ({"grid": np.zeros((2, 2), dtype=np.int16)}, "2-D uint8 grid"),
        ({"sets": np.zeros((1, 3), dtype=np.uint8)}, "candidate set that does not exist"),
    ],
)
def test_load_index_rejects(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    arrays = _arrays() | change
    with pytest.raises(GeoError, match=message):
        load_index(_save(tmp_path, arrays))


def test_load_index_missing_array(tmp_path: Path) -> None:
    arrays = _arrays()
    del arrays["grid"]
    with pytest.raises(GeoError, match="malformed"):
        load_index(_save(tmp_path, arrays))


# --- against a brute-force reference -----------------------------------------------------


def _brute_force(lat: float, lon: float) -> tuple[str | None, bool]:
    """(expected code, clear-cut?) by testing every polygon and measuring every coast.

    Distances are measured in a local equirectangular frame at the point's latitude
    (x scaled by cos(lat)), independent of the Mercator pieces locate uses. Cases
    within 20 m of the 2 km limit, or with two coasts within 20 m of each other, are
    not clear-cut.
    """
    import shapely

    index = locate._index()
    point = shapely.Point(lon, lat)
    for n in range(1, 48):
        if index.geoms[n].contains(point):
            return f"{n:02d}", True
    scale = math.cos(math.radians(lat))
    window = shapely.box(lon - 0.06, lat - 0.04, lon + 0.06, lat + 0.04)
    km_per_deg = math.radians(1.0) * locate.EARTH_RADIUS_KM
    dists = []
    for n in range(1, 48):
        near = shapely.clip_by_rect(index.geoms[n], *window.bounds)
        if near.is_empty:
            continue
        local = shapely.transform(near, lambda c: (c - [lon, lat]) * [scale, 1.0])
        dists.append((local.distance(shapely.Point(0, 0)) * km_per_deg, n))
    dists.sort()
    if not dists or dists[0][0] > locate.NEAR_COAST_KM + 0.02:
        return None, True
    clear = dists[0][0] < locate.NEAR_COAST_KM - 0.02 and (
        len(dists) == 1 or dists[1][0] - dists[0][0] > 0.02
    )
    return f"{dists[0][1]:02d}", clear


def test_agrees_with_brute_force_near_coasts() -> None:
    rng = np.random.default_rng(7)
    centres = np.array([(p[1], p[2]) for p in ALL if p[3] is not None])
    picks = centres[rng.integers(0, len(centres), 300)] + rng.uniform(-0.08, 0.08, (300, 2))
    tagged = tag_points(picks[:, 0], picks[:, 1])
    checked = 0
    for (lat, lon), got in zip(picks.tolist(), tagged, strict=True):
        want, clear = _brute_force(lat, lon)
        if clear:
            checked += 1
            assert got == want, (lat, lon)
    assert checked >= 280
