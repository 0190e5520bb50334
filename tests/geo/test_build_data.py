"""Tests of the data build helpers (no network) and of the committed boundary files."""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import shapely
from shapely.geometry import shape

from scripts import build_data
from scripts.pref_geometry import pref_of_feature
from scripts.wheel_geojson import SourceError, embedded_archives
from yure.geo import codes, locate


def _zip(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


def test_embedded_archives_found_among_machine_code() -> None:
    noise = os.urandom(64)
    fake_eocd = b"PK\x05\x06" + b"\xff" * 18  # points before the start of the blob
    broken = b"PK\x05\x06" + bytes(16) + b"\x00\x00"  # claims an archive that is not there
    blob = (
        noise
        + _zip("a.json", b'{"a": 1}')
        + fake_eocd
        + noise
        + broken
        + _zip("b.json", b"[]")
        + b"PK\x05\x06"  # truncated record at the very end
    )
    assert embedded_archives(blob) == {"a.json": b'{"a": 1}', "b.json": b"[]"}


def test_pref_of_feature() -> None:
    assert pref_of_feature({"properties": {"code": "0110000"}}) == 1
    assert pref_of_feature({"properties": {"code": "471000"}}) == 47
    assert pref_of_feature({"properties": {"code": "hoppo"}}) == 1
    for bad in ("4810000", "xx", ""):
        with pytest.raises(SourceError):
            pref_of_feature({"properties": {"code": bad}})


def test_npz_writer_is_deterministic_and_loadable() -> None:
    arrays: dict[str, npt.NDArray[Any]] = {
        "a": np.arange(5, dtype=np.int32),
        "b": np.zeros((2, 3), dtype=np.uint8),
    }
    first = build_data._write_npz(arrays)
    assert build_data._write_npz(arrays) == first
    with np.load(io.BytesIO(first), allow_pickle=False) as npz:
        assert npz["a"].tolist() == [0, 1, 2, 3, 4]
        assert npz["b"].shape == (2, 3)


def test_committed_index_file() -> None:
    size = locate.INDEX_PATH.stat().st_size
    assert size <= build_data.MAX_INDEX_BYTES
    index = locate.load_index()
    assert all(g.is_valid and not g.is_empty for g in index.geoms[1:])
    # Prefecture polygons are disjoint (overlaps went to the lower code at build time).
    union_area = shapely.union_all(list(index.geoms[1:])).area
    assert union_area == pytest.approx(sum(g.area for g in index.geoms[1:]), rel=1e-9)


def test_committed_web_map() -> None:
    path = codes.DATA_DIR / build_data.WEB_MAP_FILE
    assert path.stat().st_size <= build_data.MAX_WEB_MAP_BYTES
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert "気象庁" in doc["attribution"]
    features = doc["features"]
    assert [f["id"] for f in features] == list(codes.PREF_CODES)
    for feature in features:
        pref = codes.prefecture(feature["id"])
        assert feature["properties"] == {
            "code": pref.code,
            "name": pref.name,
            "name_en": pref.name_en,
        }
        geom = shape(feature["geometry"])
        assert geom.geom_type == "MultiPolygon" and geom.is_valid and not geom.is_empty


def test_web_map_roughly_matches_the_tagging_polygons() -> None:
    doc = json.loads((codes.DATA_DIR / build_data.WEB_MAP_FILE).read_text(encoding="utf-8"))
    index = locate._index()
    for feature in doc["features"]:
        web = shape(feature["geometry"])
        exact = index.geoms[int(feature["id"])]
        # Same prefecture, different generalisation: the map covers 98 % of the tagging polygon
        # (JMA draws tiny islands enlarged on its maps, so the map may cover more).
        uncovered = exact.difference(web.buffer(0.01)).area
        assert uncovered < 0.02 * exact.area, feature["id"]
        assert web.area == pytest.approx(exact.area, rel=0.2), feature["id"]
