"""Build yure's own code tables in ``data/`` from JMA's code tables.

Run ``.venv/bin/python scripts/build_tables.py [REFERENCE_DIR]`` (default:
``../shared/reference`` next to the repository). The outputs are committed;
rerunning on the same inputs rewrites byte-identical files. The script stops
with a non-zero status when an input changes shape (header, row count, an
unknown name), so a new JMA code table edition is never absorbed silently.

Inputs (JMA 防災情報XML コード表, via the reference snapshot's CSVs):
  prefectures.csv (表23 地震情報／都道府県等), earthquake_regions.csv (表24
  細分区域), eew_forecast_regions.csv (表22 緊急地震速報／府県予報区),
  eew_wide_regions.csv (表21 地方予報区), tsunami_regions.csv (表31 津波予報区),
  intensity_stations.csv (表24 震度観測点), upstream/AreaEpicenter.csv (表41 震央地名).

Outputs (UTF-8 CSV with a header row, ``;`` joins lists):
  data/prefectures.csv      code,name,name_en,region
  data/seismic_regions.csv  code,name,pref,eew_area
  data/eew_areas.csv        code,name,telegram_name,prefs
  data/tsunami_areas.csv    code,name,kind,members,prefs
  data/stations.csv         code,lat,lon (震度観測点; degrees, empty where the table has none)
  data/epicenters.csv       code,name,pref,basis
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"

PREF_CODES = tuple(f"{i:02d}" for i in range(1, 48))

# The eight 地方 of yure's subscriptions (the usual 8-region division, 三重 in
# 近畿, 沖縄 with 九州). Keys are the first and last prefecture code.
REGION_RANGES: tuple[tuple[str, int, int], ...] = (
    ("hokkaido", 1, 1),
    ("tohoku", 2, 7),
    ("kanto", 8, 14),
    ("chubu", 15, 23),
    ("kinki", 24, 30),
    ("chugoku", 31, 35),
    ("shikoku", 36, 39),
    ("kyushu", 40, 47),
)

# 緊急地震速報／地方予報区 (表21) -> prefectures. JMA's table has no membership
# column; these follow JMA's 地方予報区 (the weather forecast regions: 北陸 =
# 新潟..福井, 甲信 = 山梨+長野, 東海 = 岐阜..三重, 中国 without 山口, 九州 with
# 山口 — 表22 lists 9350 山口 between 高知 and 福岡 for that reason; 伊豆諸島 and
# 小笠原 are the islands of 東京都; 奄美 is part of 鹿児島県).
EEW_WIDE_PREFS: Mapping[str, tuple[int, ...]] = {
    "9910": (1,),
    "9920": (2, 3, 4, 5, 6, 7),
    "9931": (8, 9, 10, 11, 12, 13, 14),
    "9932": (13,),
    "9933": (13,),
    "9934": (15, 16, 17, 18),
    "9935": (19, 20),
    "9936": (21, 22, 23, 24),
    "9941": (25, 26, 27, 28, 29, 30),
    "9942": (31, 32, 33, 34),
    "9943": (36, 37, 38, 39),
    "9951": (35, 40, 41, 42, 43, 44, 45, 46),
    "9952": (46,),
    "9960": (47,),
}

# 震央地名 (表41) that neither start with a prefecture's name nor equal a
# 細分区域 name. Rule (docs/geo.md): a prefecture when the name denotes land,
# an island or island group, or waters named after / enclosed by ONE
# prefecture's coast; None for waters bordered by two or more prefectures,
# open sea named after a wide region, multi-prefecture 地方, and abroad.
# fmt: off
EPICENTER_HAND: Mapping[str, int | None] = {
    # 地方 groups (011-021)
    "東北地方": None, "北陸地方": None, "関東甲信地方": None, "小笠原地方": 13,
    "東海地方": None, "近畿地方": None, "中国地方": None, "四国地方": None,
    "九州地方": None, "沖縄地方": 47,
    # Hokkaido waters (JMA files 国後島/択捉島 under Hokkaido: 根室振興局)
    "石狩湾": 1, "宗谷海峡": 1, "国後島付近": 1, "択捉島付近": 1,
    "根室半島南東沖": 1, "釧路沖": 1, "十勝沖": 1, "浦河沖": 1, "苫小牧沖": 1,
    "内浦湾": 1, "宗谷東方沖": 1, "網走沖": 1, "択捉島南東沖": 1,
    # Tohoku
    "津軽海峡": None, "陸奥湾": 2, "三陸沖": None,
    # Kanto / Chubu / islands of Tokyo
    "房総半島南方沖": 12, "関東東方沖": None, "八丈島東方沖": 13, "八丈島近海": 13,
    "東京湾": None, "相模湾": None, "伊豆大島近海": 13, "伊豆半島東方沖": 22,
    "三宅島近海": 13, "新島・神津島近海": 13, "駿河湾": 22, "駿河湾南方沖": 22,
    "遠州灘": None, "三河湾": 23, "伊勢湾": None, "若狭湾": None,
    "能登半島沖": 17, "富山湾": None, "佐渡付近": 15, "東海道南方沖": None,
    # Kinki / Chugoku / Shikoku
    "土佐湾": 39, "紀伊水道": None, "大阪湾": None, "播磨灘": None,
    "瀬戸内海中部": None, "安芸灘": None, "周防灘": None, "伊予灘": None,
    "豊後水道": None, "隠岐島近海": 32, "淡路島付近": 28,
    # Kyushu / Okinawa
    "五島列島近海": 42, "天草灘": None, "有明海": None, "橘湾": 42,
    "鹿児島湾": 46, "種子島近海": 46, "日向灘": None, "奄美大島近海": 46,
    "壱岐・対馬近海": 42, "薩摩半島西方沖": 46, "トカラ列島近海": 46,
    "奄美大島北西沖": 46, "大隅半島東方沖": 46, "九州地方南東沖": None,
    "種子島南東沖": 46, "奄美大島北東沖": 46, "沖縄本島近海": 47,
    "南大東島近海": 47, "沖縄本島南方沖": 47, "宮古島近海": 47, "石垣島近海": 47,
    "石垣島南方沖": 47, "西表島付近": 47, "与那国島近海": 47,
    "沖縄本島北西沖": 47, "宮古島北西沖": 47, "石垣島北西沖": 47,
    # Islands far south of Honshu (東京都)
    "鳥島近海": 13, "鳥島東方沖": 13, "父島近海": 13, "小笠原諸島西方沖": 13,
    "硫黄島近海": 13, "小笠原諸島東方沖": 13, "薩南諸島東方沖": 46,
    # Open sea around Japan
    "東シナ海": None, "四国沖": None, "オホーツク海南部": None, "日本海北部": None,
    "日本海中部": None, "日本海西部": None, "東北地方東方沖": None,
    "南海道南方沖": None, "本州南方沖": None, "北西太平洋": None,
}
# fmt: on
# Codes 900+ not listed above are abroad or far away (台湾付近 … 遠地): None.
EPICENTER_ABROAD_FROM = 900

# fmt: off
EXPECTED_HEADERS: Mapping[str, tuple[str, ...]] = {
    "prefectures.csv": ("pref_code", "name", "name_en"),
    "earthquake_regions.csv": (
        "region_code", "name", "kana", "pref_code", "pref_name",
        "eew_pref_code", "eew_pref_name", "lat", "lon",
    ),
    "eew_forecast_regions.csv": (
        "eew_pref_code", "name", "kana", "pref_codes", "pref_names",
        "member_region_codes", "note",
    ),
    "eew_wide_regions.csv": ("eew_wide_code", "name", "kana", "note"),
    "tsunami_regions.csv": (
        "tsunami_region_code", "name", "kana", "kind", "member_codes", "pref_codes",
        "pref_names", "centroid_lat", "centroid_lon", "bbox_w", "bbox_s", "bbox_e", "bbox_n",
    ),
    "intensity_stations.csv": (
        "station_code", "name", "kana", "city_code", "city_name", "region_code",
        "region_name", "pref_code", "pref_name", "lat", "lon", "operator",
    ),
}
# fmt: on
EXPECTED_ROWS: Mapping[str, int] = {
    "prefectures.csv": 47,
    "earthquake_regions.csv": 188,
    "eew_forecast_regions.csv": 56,
    "eew_wide_regions.csv": 14,
    "tsunami_regions.csv": 98,
    "intensity_stations.csv": 4361,
    "AreaEpicenter.csv": 343,
}
TSUNAMI_FORECAST_KIND = "津波予報区"
TSUNAMI_KINDS = frozenset({TSUNAMI_FORECAST_KIND, "結合表現", "領域表現"})
TSUNAMI_FORECAST_AREAS = 66
# 表22 remark: 「気象庁が発信する電文では"奄美"と記載する。」
AMAMI_CODE, AMAMI_TELEGRAM_NAME = "9462", "奄美"


class ShapeError(Exception):
    """An input table does not have the shape this script was written for."""


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ShapeError(message)


def _read(path: Path, *, header: bool = True) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if header:
        want = EXPECTED_HEADERS[path.name]
        _check(tuple(rows[0]) == want, f"{path.name}: header {rows[0]} != {list(want)}")
        rows = rows[1:]
    _check(
        len(rows) == EXPECTED_ROWS[path.name],
        f"{path.name}: {len(rows)} rows, expected {EXPECTED_ROWS[path.name]}",
    )
    return rows


def _pref(n: int) -> str:
    code = f"{n:02d}"
    _check(code in PREF_CODES, f"bad prefecture number {n}")
    return code


def _region_of(code: str) -> str:
    n = int(code)
    for name, lo, hi in REGION_RANGES:
        if lo <= n <= hi:
            return name
    raise ShapeError(f"prefecture {code} in no region")


def _in_japan(lat: str, lon: str) -> bool:
    """Whether ``lat``,``lon`` are decimal degrees within Japan's extent (20–46 °N,
    122–154 °E)."""
    try:
        return 20.0 <= float(lat) <= 46.0 and 122.0 <= float(lon) <= 154.0
    except ValueError:
        return False


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def build(reference: Path) -> dict[str, str]:
    """Return ``{file name: CSV text}`` for every table in ``data/``.

    Raises:
        ShapeError: an input differs from the shape this script expects.
    """
    codes = reference / "jma" / "codes"
    prefs = _read(codes / "prefectures.csv")
    _check(tuple(r[0] for r in prefs) == PREF_CODES, "prefecture codes are not 01..47")
    pref_by_name = {r[1]: r[0] for r in prefs}
    out: dict[str, str] = {}
    out["prefectures.csv"] = _csv_text(
        ("code", "name", "name_en", "region"),
        [(r[0], r[1], r[2], _region_of(r[0])) for r in prefs],
    )

    regions = _read(codes / "earthquake_regions.csv")
    region_rows = []
    for r in regions:
        _check(len(r[0]) == 3 and r[0].isdigit(), f"細分区域 code {r[0]!r}")
        _check(r[3] in PREF_CODES and pref_by_name[r[4]] == r[3], f"細分区域 {r[0]} prefecture")
        region_rows.append((r[0], r[1], r[3], r[5]))
    out["seismic_regions.csv"] = _csv_text(("code", "name", "pref", "eew_area"), region_rows)
    region_pref_by_name = {r[1]: r[2] for r in region_rows}

    eew_rows = []
    for r in _read(codes / "eew_forecast_regions.csv"):
        members = r[3].split(";")
        _check(all(m in PREF_CODES for m in members), f"府県予報区 {r[0]} prefectures")
        telegram = AMAMI_TELEGRAM_NAME if r[0] == AMAMI_CODE else r[1]
        eew_rows.append((r[0], r[1], telegram, ";".join(members)))
    _check(any(r[0] == AMAMI_CODE for r in eew_rows), "府県予報区 9462 奄美 missing")
    wide = _read(codes / "eew_wide_regions.csv")
    _check({r[0] for r in wide} == set(EEW_WIDE_PREFS), "地方予報区 codes changed")
    for r in wide:
        telegram = AMAMI_TELEGRAM_NAME if "奄美" in r[1] else r[1]
        eew_rows.append((r[0], r[1], telegram, ";".join(_pref(n) for n in EEW_WIDE_PREFS[r[0]])))
    covered = {p for r in eew_rows if r[0].startswith("99") for p in r[3].split(";")}
    _check(covered == set(PREF_CODES), "地方予報区 do not cover every prefecture")
    out["eew_areas.csv"] = _csv_text(("code", "name", "telegram_name", "prefs"), eew_rows)

    tsunami = _read(codes / "tsunami_regions.csv")
    by_code = {r[0]: r for r in tsunami}
    tsunami_rows = []
    for r in tsunami:
        _check(r[3] in TSUNAMI_KINDS, f"津波予報区 {r[0]} kind {r[3]!r}")
        prefs_of = set(r[5].split(";"))
        _check(prefs_of <= set(PREF_CODES), f"津波予報区 {r[0]} prefectures")
        if r[3] != TSUNAMI_FORECAST_KIND:
            members = r[4].split(";")
            union = {p for m in members for p in by_code[m][5].split(";")}
            _check(union == prefs_of, f"津波 aggregate {r[0]} prefs differ from its members")
        tsunami_rows.append((r[0], r[1], r[3], r[4], ";".join(sorted(prefs_of))))
    n_forecast = sum(r[2] == TSUNAMI_FORECAST_KIND for r in tsunami_rows)
    _check(n_forecast == TSUNAMI_FORECAST_AREAS, f"{n_forecast} 津波予報区, expected 66")
    out["tsunami_areas.csv"] = _csv_text(("code", "name", "kind", "members", "prefs"), tsunami_rows)

    station_rows = []
    for r in _read(codes / "intensity_stations.csv"):
        _check(len(r[0]) == 7 and r[0].isdigit(), f"station {r[0]}")
        lat, lon = r[9], r[10]
        _check((lat == "") == (lon == ""), f"station {r[0]} has half a coordinate")
        _check(lat == "" or _in_japan(lat, lon), f"station {r[0]} at {lat},{lon}")
        station_rows.append((r[0], lat, lon))
    out["stations.csv"] = _csv_text(("code", "lat", "lon"), station_rows)

    out["epicenters.csv"] = _csv_text(
        ("code", "name", "pref", "basis"),
        _epicenter_rows(codes, pref_by_name, region_pref_by_name),
    )
    return out


def _epicenter_rows(
    codes: Path, pref_by_name: Mapping[str, str], region_pref_by_name: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    rows = []
    used: set[str] = set()
    for r in _read(codes / "upstream" / "AreaEpicenter.csv", header=False):
        _check(len(r) == 2 and len(r[0]) == 3 and r[0].isdigit(), f"震央地名 row {r}")
        code, name = r
        starts = [p for n, p in pref_by_name.items() if name.startswith(n)]
        if name in region_pref_by_name:
            pref, basis = region_pref_by_name[name], "region"
        elif starts:
            _check(len(starts) == 1, f"震央地名 {name} starts with several prefectures")
            pref, basis = starts[0], "prefix"
        elif name in EPICENTER_HAND:
            used.add(name)
            n = EPICENTER_HAND[name]
            pref, basis = ("" if n is None else _pref(n)), "hand"
        elif int(code) >= EPICENTER_ABROAD_FROM:
            pref, basis = "", "abroad"
        else:
            raise ShapeError(f"震央地名 {code} {name}: no rule; add it to EPICENTER_HAND")
        if starts and pref:
            _check(pref == starts[0], f"震央地名 {name}: region and prefix disagree")
        rows.append((code, name, pref, basis))
    unused = set(EPICENTER_HAND) - used
    _check(not unused, f"EPICENTER_HAND entries not in the table: {sorted(unused)}")
    return rows


def main(argv: Sequence[str]) -> int:
    """Write the tables; return the exit status."""
    reference = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    try:
        tables = build(reference)
    except (ShapeError, OSError, KeyError, ValueError) as err:
        print(f"build_tables: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    DATA_DIR.mkdir(exist_ok=True)
    for name, text in tables.items():
        (DATA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote data/{name} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
