"""Tests of geo.codes: known facts (always), and the whole reference tables (when present)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from scripts import build_tables
from yure.geo import codes
from yure.geo.codes import (
    PREF_CODES,
    Prefecture,
    Region,
    load_tables,
    pref_of_epicenter,
    pref_of_region,
    prefecture,
    prefs_in_region,
    prefs_of_eew_area,
    prefs_of_tsunami_area,
    read_table,
    region_name,
    region_name_en,
    resolve_pref_tokens,
    station_point,
)
from yure.geo.errors import GeoError

# --- known facts, written by hand (no reference needed) ----------------------------------

PREFECTURE_FACTS = [
    ("01", "北海道", "Hokkaido", Region.HOKKAIDO),
    ("04", "宮城県", "Miyagi", Region.TOHOKU),
    ("13", "東京都", "Tokyo", Region.KANTO),
    ("15", "新潟県", "Niigata", Region.CHUBU),
    ("23", "愛知県", "Aichi", Region.CHUBU),
    ("24", "三重県", "Mie", Region.KINKI),
    ("26", "京都府", "Kyoto", Region.KINKI),
    ("35", "山口県", "Yamaguchi", Region.CHUGOKU),
    ("37", "香川県", "Kagawa", Region.SHIKOKU),
    ("47", "沖縄県", "Okinawa", Region.KYUSHU),
]

REGION_FACTS = [
    (Region.HOKKAIDO, "北海道", ("01",)),
    (Region.TOHOKU, "東北", ("02", "03", "04", "05", "06", "07")),
    (Region.KANTO, "関東", ("08", "09", "10", "11", "12", "13", "14")),
    (Region.CHUBU, "中部", ("15", "16", "17", "18", "19", "20", "21", "22", "23")),
    (Region.KINKI, "近畿", ("24", "25", "26", "27", "28", "29", "30")),
    (Region.CHUGOKU, "中国", ("31", "32", "33", "34", "35")),
    (Region.SHIKOKU, "四国", ("36", "37", "38", "39")),
    (Region.KYUSHU, "九州・沖縄", ("40", "41", "42", "43", "44", "45", "46", "47")),
]

SEISMIC_REGION_FACTS = [
    ("100", "01"),  # 石狩地方北部
    ("220", "04"),  # 宮城県北部
    ("350", "13"),  # 東京都２３区
    ("354", "13"),  # 伊豆大島 (東京都)
    ("390", "17"),  # 石川県能登
    ("700", "35"),  # 山口県北部
    ("778", "46"),  # 奄美大島
    ("800", "47"),  # 沖縄本島北部
]

EEW_FACTS = [
    ("9011", ("01",)),
    ("9040", ("04",)),
    ("9131", ("13",)),
    ("9133", ("13",)),  # 小笠原
    ("9350", ("35",)),
    ("9462", ("46",)),  # 奄美
    ("9474", ("47",)),  # 八重山
    ("9910", ("01",)),
    ("9931", ("08", "09", "10", "11", "12", "13", "14")),
    ("9934", ("15", "16", "17", "18")),  # 北陸
    ("9935", ("19", "20")),  # 甲信
    ("9936", ("21", "22", "23", "24")),  # 東海
    ("9942", ("31", "32", "33", "34")),  # 中国 (山口 is in 九州)
    ("9951", ("35", "40", "41", "42", "43", "44", "45", "46")),
    ("9952", ("46",)),
    ("9960", ("47",)),
    ("9999", ()),
    ("220", ()),
]

TSUNAMI_FACTS = [
    ("100", ("01",)),  # 北海道太平洋沿岸東部
    ("220", ("04",)),  # 宮城県
    ("312", ("12", "13", "14")),  # 東京湾内湾
    ("321", ("13",)),  # 小笠原諸島
    ("391", ("23", "24")),  # 伊勢・三河湾
    ("462", ()),  # not a tsunami code at all (and not 鹿児島)
    ("712", ("40", "41", "42", "43")),  # 有明・八代海
    ("772", ("46",)),  # 奄美群島・トカラ列島
    ("802", ("47",)),  # 宮古島・八重山地方
    ("291", ("02", "03", "04", "07")),  # 東北地方太平洋沿岸 (領域表現)
    ("481", ("12", "13", "14")),  # 千葉県 (結合表現, includes 東京湾内湾)
    ("891", ("47",)),
]

EPICENTER_FACTS = [
    ("宮城県沖", "04"),
    ("千葉県東方沖", "12"),
    ("福島県沖", "07"),
    ("石川県能登地方", "17"),
    ("東京都２３区", "13"),
    ("茨城県南部", "08"),
    ("北海道南西沖", "01"),
    ("十勝沖", "01"),
    ("伊豆大島近海", "13"),
    ("父島近海", "13"),
    ("伊豆半島東方沖", "22"),
    ("駿河湾", "22"),
    ("淡路島付近", "28"),
    ("隠岐島近海", "32"),
    ("土佐湾", "39"),
    ("鹿児島湾", "46"),
    ("トカラ列島近海", "46"),
    ("与那国島近海", "47"),
    ("沖縄地方", "47"),
    ("三陸沖", None),
    ("日本海中部", None),
    ("東京湾", None),
    ("紀伊水道", None),
    ("関東東方沖", None),
    ("東北地方", None),
    ("台湾付近", None),
    ("南米西部", None),
    ("遠地", None),
    (" 宮城県沖 ", "04"),  # blanks around a telegram value
    ("宮城県北部沖合", "04"),  # not in table 41: prefix rule
    ("どこか", None),
    ("", None),
]


@pytest.mark.parametrize(("code", "name", "name_en", "region"), PREFECTURE_FACTS)
def test_prefecture_facts(code: str, name: str, name_en: str, region: Region) -> None:
    assert prefecture(code) == Prefecture(code, name, name_en, region)


def test_pref_codes_are_01_to_47() -> None:
    assert len(PREF_CODES) == 47
    assert PREF_CODES[0] == "01" and PREF_CODES[-1] == "47"
    assert [prefecture(c).code for c in PREF_CODES] == list(PREF_CODES)


@pytest.mark.parametrize("bad", ["00", "48", "1", "001", "", "kanto", None, 13])
def test_prefecture_unknown_raises(bad: object) -> None:
    with pytest.raises(GeoError, match="unknown prefecture code"):
        prefecture(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("region", "name", "prefs"), REGION_FACTS)
def test_regions(region: Region, name: str, prefs: tuple[str, ...]) -> None:
    assert region_name(region) == name
    assert region_name_en(region).startswith(region.value.capitalize())
    assert prefs_in_region(region) == prefs
    assert resolve_pref_tokens([region.value]) == frozenset(prefs)
    assert resolve_pref_tokens([name]) == frozenset(prefs)


def test_regions_partition_the_prefectures() -> None:
    seen = [p for r in Region for p in prefs_in_region(r)]
    assert sorted(seen) == list(PREF_CODES)


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["13"], {"13"}),
        (["13", "14"], {"13", "14"}),
        (["東京都"], {"13"}),
        (["東京"], {"13"}),
        (["京都"], {"26"}),
        (["北海道"], {"01"}),
        (["hokkaido"], {"01"}),
        ([" Tokyo "], {"13"}),
        (["OSAKA"], {"27"}),
        (["KANTO", "04"], {"04", "08", "09", "10", "11", "12", "13", "14"}),
        (["九州"], {"40", "41", "42", "43", "44", "45", "46", "47"}),
        (["関西"], {"24", "25", "26", "27", "28", "29", "30"}),
        ("13", {"13"}),  # a bare string is one token, not "1" and "3"
        ([], set()),
        (("07", "07"), {"07"}),
    ],
)
def test_resolve_pref_tokens(tokens: list[str] | str, expected: set[str]) -> None:
    assert resolve_pref_tokens(tokens) == frozenset(expected)


@pytest.mark.parametrize("bad", [["00"], ["48"], [""], ["  "], ["13", "nowhere"], ["関東地方"]])
def test_resolve_pref_tokens_unknown_raises(bad: list[str]) -> None:
    with pytest.raises(GeoError, match="unknown prefecture or region"):
        resolve_pref_tokens(bad)


def test_resolve_pref_tokens_non_string_raises() -> None:
    with pytest.raises(GeoError):
        resolve_pref_tokens([13])  # type: ignore[list-item]


@pytest.mark.parametrize(("code", "pref"), SEISMIC_REGION_FACTS)
def test_pref_of_region(code: str, pref: str) -> None:
    assert pref_of_region(code) == pref


@pytest.mark.parametrize("bad", ["999", "22", "2200", "", "9040"])
def test_pref_of_region_unknown(bad: str) -> None:
    assert pref_of_region(bad) is None


@pytest.mark.parametrize(("code", "prefs"), EEW_FACTS)
def test_prefs_of_eew_area(code: str, prefs: tuple[str, ...]) -> None:
    assert prefs_of_eew_area(code) == prefs


@pytest.mark.parametrize(("code", "prefs"), TSUNAMI_FACTS)
def test_prefs_of_tsunami_area(code: str, prefs: tuple[str, ...]) -> None:
    assert prefs_of_tsunami_area(code) == prefs


@pytest.mark.parametrize(("name", "pref"), EPICENTER_FACTS)
def test_pref_of_epicenter(name: str, pref: str | None) -> None:
    assert pref_of_epicenter(name) == pref


def test_pref_of_epicenter_non_string() -> None:
    assert pref_of_epicenter(None) is None  # type: ignore[arg-type]


# --- the table loader -------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    for name in (
        "prefectures.csv",
        "seismic_regions.csv",
        "eew_areas.csv",
        "tsunami_areas.csv",
        "stations.csv",
        "epicenters.csv",
    ):
        shutil.copy(codes.DATA_DIR / name, target / name)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_load_tables_copy_is_equal(data_copy: Path) -> None:
    assert load_tables(data_copy) == load_tables()


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("prefectures.csv", "code,name,name_en,region", "code,name", "header"),
        ("prefectures.csv", "04,宮城県,Miyagi,tohoku", "04,宮城県,Miyagi", "fields"),
        ("prefectures.csv", "04,宮城県,Miyagi,tohoku", "04,宮城県,Miyagi,mars", "region"),
        ("prefectures.csv", "04,宮城県", "40,宮城県", "01..47"),
        ("prefectures.csv", "Okinawa", "Tokyo", "two different"),
        ("seismic_regions.csv", "220,宮城県北部,04", "220,宮城県北部,99", "bad prefecture"),
        ("seismic_regions.csv", "220,宮城県北部,04", "220,宮城県北部,04;03", "one prefecture"),
        ("eew_areas.csv", "9040,宮城,宮城,04", "9040,宮城,宮城,4", "bad prefecture"),
        ("stations.csv", "0123500,43.17", "0123500,north", "not a coordinate"),
        ("stations.csv", "0123500,43.17", "0123500,143.17", "out of range"),
    ],
)
def test_load_tables_rejects_bad_tables(
    data_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    _edit(data_copy / file, old, new)
    with pytest.raises(GeoError, match=message):
        load_tables(data_copy)


def test_load_tables_missing_file(data_copy: Path) -> None:
    (data_copy / "epicenters.csv").unlink()
    with pytest.raises(GeoError, match="cannot read table"):
        load_tables(data_copy)


def test_load_tables_empty_file(data_copy: Path) -> None:
    (data_copy / "prefectures.csv").write_bytes(b"")
    with pytest.raises(GeoError, match="header"):
        load_tables(data_copy)


def test_load_tables_size_cap(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "MAX_TABLE_BYTES", 1000)
    with pytest.raises(GeoError, match="MAX_TABLE_BYTES"):
        load_tables(data_copy)


def test_load_tables_not_utf8(data_copy: Path) -> None:
    (data_copy / "seismic_regions.csv").write_bytes("code,name\n220,宮城\n".encode("utf-16"))
    with pytest.raises(GeoError, match="not UTF-8 CSV"):
        load_tables(data_copy)


def test_read_table_returns_rows_after_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('area,pref\n1,"01"\n"2,3",47\n', encoding="utf-8")
    assert read_table(path, ("area", "pref")) == [["1", "01"], ["2,3", "47"]]
    path.write_text("area,pref\n1,01\n2\n", encoding="utf-8")
    with pytest.raises(GeoError, match=r"t\.csv:3: 1 fields, expected 2"):
        read_table(path, ("area", "pref"))


# --- against the reference tables (../shared/reference) ---------------------------------


def _ref_rows(reference_dir: Path, name: str) -> list[dict[str, str]]:
    path = reference_dir / "jma" / "codes" / name
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.reference
def test_committed_tables_are_what_the_build_script_makes(reference_dir: Path) -> None:
    built = build_tables.build(reference_dir)
    for name, text in built.items():
        assert (codes.DATA_DIR / name).read_text(encoding="utf-8") == text, name


@pytest.mark.reference
def test_reference_prefectures(reference_dir: Path) -> None:
    rows = _ref_rows(reference_dir, "prefectures.csv")
    assert len(rows) == 47
    for row in rows:
        pref = prefecture(row["pref_code"])
        assert (pref.name, pref.name_en) == (row["name"], row["name_en"])


@pytest.mark.reference
def test_reference_seismic_regions(reference_dir: Path) -> None:
    rows = _ref_rows(reference_dir, "earthquake_regions.csv")
    assert len(rows) == 188
    assert {r["region_code"]: pref_of_region(r["region_code"]) for r in rows} == {
        r["region_code"]: r["pref_code"] for r in rows
    }


@pytest.mark.reference
def test_reference_eew_areas(reference_dir: Path) -> None:
    rows = _ref_rows(reference_dir, "eew_forecast_regions.csv")
    assert len(rows) == 56
    for row in rows:
        assert prefs_of_eew_area(row["eew_pref_code"]) == tuple(row["pref_codes"].split(";"))
    wide = _ref_rows(reference_dir, "eew_wide_regions.csv")
    assert len(wide) == 14
    covered = [p for r in wide for p in prefs_of_eew_area(r["eew_wide_code"])]
    # Each prefecture is in exactly one 地方予報区, except 東京都 (関東, 伊豆諸島, 小笠原)
    # and 鹿児島県 (九州, 奄美).
    assert sorted(set(covered)) == list(PREF_CODES)
    assert sorted(p for p in set(covered) if covered.count(p) > 1) == ["13", "46"]


@pytest.mark.reference
def test_reference_tsunami_areas(reference_dir: Path) -> None:
    rows = _ref_rows(reference_dir, "tsunami_regions.csv")
    assert sum(r["kind"] == "津波予報区" for r in rows) == 66
    for row in rows:
        expected = tuple(sorted(row["pref_codes"].split(";")))
        assert prefs_of_tsunami_area(row["tsunami_region_code"]) == expected


@pytest.mark.reference
def test_reference_station_points(reference_dir: Path) -> None:
    rows = _ref_rows(reference_dir, "intensity_stations.csv")
    assert len(rows) == 4361
    for r in rows:  # coordinates as in the table; none where it has none (4 stations)
        expected = (float(r["lat"]), float(r["lon"])) if r["lat"] else None
        assert station_point(r["station_code"]) == expected
    assert sum(1 for r in rows if not r["lat"]) == 4


def test_station_point() -> None:
    assert station_point("0421200") == (38.71, 141.24)  # 登米市中田町
    assert station_point("9999999") is None
    assert station_point(None) is None  # type: ignore[arg-type]


@pytest.mark.reference
def test_reference_epicenter_names(reference_dir: Path) -> None:
    path = reference_dir / "jma" / "codes" / "upstream" / "AreaEpicenter.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 343
    region_rows = _ref_rows(reference_dir, "earthquake_regions.csv")
    regions = {r["name"]: r["pref_code"] for r in region_rows}
    names = {p: prefecture(p).name for p in PREF_CODES}
    for _code, name in rows:
        got = pref_of_epicenter(name)
        if name in regions:  # a land 細分区域 name
            assert got == regions[name], name
        starts = [p for p, n in names.items() if name.startswith(n)]
        if starts:  # named after a prefecture: that prefecture
            assert got == starts[0], name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("北海道道北", "9013"),
        ("奄美", "9462"),
        ("宮城", "9040"),
        (" 石川 ", "9170"),
        ("関東", "9931"),
        ("どこでもない", None),
    ],
)
def test_eew_area_code_by_name(name: str, code: str | None) -> None:
    assert codes.eew_area_code(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [("東京湾内湾", "312"), ("宮城県", "220"), ("岩手県", "210"), ("火星", None)],
)
def test_tsunami_area_code_by_name(name: str, code: str | None) -> None:
    assert codes.tsunami_area_code(name) == code
