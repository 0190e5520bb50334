"""ingest.places (P2P place names → prefectures) and ingest.quarantine."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from yure.geo.codes import MAX_TABLE_BYTES, resolve_pref_tokens
from yure.geo.errors import GeoError
from yure.ingest.places import GeoPlaces
from yure.ingest.quarantine import Quarantine, quarantine_dir

PLACES = GeoPlaces.load()


@pytest.mark.parametrize(
    ("name", "pref"),
    [("宮城県", "04"), ("北海道", "01"), ("東京都", "13"), ("関東", None), ("架空県", None)],
)
def test_pref_of_name(name: str, pref: str | None) -> None:
    assert PLACES.pref_of_name(name) == pref


def test_tsunami_and_eew_names() -> None:
    assert PLACES.tsunami_area("宮城県") == ("220", ("04",))
    assert PLACES.tsunami_area("東京湾内湾") == ("312", ("12", "13", "14"))
    assert PLACES.tsunami_area("架空湾") is None
    assert PLACES.prefs_of_eew_area("北海道道北") == ("01",)
    assert PLACES.prefs_of_eew_area("伊豆諸島") == ("13",)
    assert PLACES.prefs_of_eew_area("奄美") == ("46",)
    assert PLACES.prefs_of_eew_area("関東") == ("08", "09", "10", "11", "12", "13", "14")
    assert PLACES.prefs_of_eew_area("架空") is None
    assert PLACES.pref_of_epicenter("宮城県沖") == "04"


def test_epsp_areas() -> None:
    assert PLACES.pref_of_epsp_area(250) == "13"
    assert PLACES.pref_of_epsp_area(460) == "27"
    assert PLACES.pref_of_epsp_area(900) is None  # 未設定
    assert PLACES.pref_of_epsp_area(905) is None  # 外国
    assert len(PLACES.epsp_prefs) == 138


@pytest.mark.reference
def test_epsp_table_matches_the_upstream_area_list(reference_dir: Path) -> None:
    """ingest/epsp_areas.csv is epsp-area.csv's rows with a 都道府県, in yure's format."""
    rows = (reference_dir / "p2pquake/epsp-area.csv").read_text("utf-8").splitlines()[1:]
    upstream = {}
    for row in csv.reader(rows):
        if row[3]:
            (pref,) = resolve_pref_tokens([row[3]])
            upstream[int(row[1])] = pref
    assert upstream == dict(PLACES.epsp_prefs)


def test_bad_tables_raise_geo_error(tmp_path: Path) -> None:
    with pytest.raises(GeoError):
        GeoPlaces.load(tmp_path / "missing.csv")
    table = tmp_path / "epsp_areas.csv"
    table.write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(GeoError, match="header"):
        GeoPlaces.load(table)
    table.write_bytes(b"x" * (MAX_TABLE_BYTES + 1))
    with pytest.raises(GeoError, match="MAX_TABLE_BYTES"):
        GeoPlaces.load(table)
    bad_epsp = tmp_path / "epsp.csv"
    bad_epsp.write_text("area,pref,name\n10,99,どこか\n", "utf-8")
    with pytest.raises(GeoError, match="bad row"):
        GeoPlaces.load(epsp_areas=bad_epsp)


async def test_quarantine_is_bounded_and_names_are_safe(tmp_path: Path) -> None:
    quarantine = Quarantine(quarantine_dir(tmp_path), max_files=3)
    paths = [
        await quarantine.keep(f"doc {i}".encode(), origin=f"https://x/../{i}?a=b c", reason="bad")
        for i in range(5)
    ]
    assert all(p is not None for p in paths)
    kept = sorted(quarantine_dir(tmp_path).glob("*.bin"))
    assert [p.read_bytes() for p in kept] == [b"doc 2", b"doc 3", b"doc 4"]  # newest kept
    assert len(list(quarantine_dir(tmp_path).glob("*.txt"))) == 3
    assert all("/" not in p.name and " " not in p.name for p in kept)
    assert "reason=bad" in kept[0].with_suffix(".txt").read_text("utf-8")
    assert quarantine.kept == 5


async def test_quarantine_failure_is_logged_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    quarantine = Quarantine(blocker / "quarantine")
    assert await quarantine.keep(b"x", origin="o", reason="r") is None
