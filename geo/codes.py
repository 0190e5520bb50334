"""JMA area codes → prefectures (JIS X 0401 ``"01"``..``"47"``).

Every JMA code that says *where* — 地震情報／細分区域, 緊急地震速報／府県予報区 and
地方予報区, 津波予報区, 市町村 (AreaInformationCity), 震度観測点, 震央地名 — is
mapped to the prefectures it covers, so that an event can be tagged with
prefecture codes and routed to subscribers. The tables are yure's own files in
``data/`` (built by ``scripts/build_tables.py`` from JMA 防災情報XML コード表
21–24, 31 and 41; see ``data/README.md``), read once on first use.

Lookups of codes that come from telegrams never raise: an unknown code gives
``None`` or ``()``, because JMA adds codes between table editions and a new code
must not stop an event. Lookups of what a *user* typed (:func:`prefecture`,
:func:`resolve_pref_tokens`) raise :class:`~geo.errors.GeoError`.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import importlib.resources
import io
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path

from yure.geo.errors import GeoError

# The tables ship inside the package (``yure.data``), in a checkout and in a wheel alike.
DATA_DIR = Path(str(importlib.resources.files("yure.data")))
#: Cap on one table file; the largest (stations.csv) is about 92 kB.
MAX_TABLE_BYTES = 1024 * 1024

PREF_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 48))
_PREF_SET = frozenset(PREF_CODES)


class Region(StrEnum):
    """The eight 地方 used for subscriptions (三重 in 近畿, 沖縄 in 九州・沖縄)."""

    HOKKAIDO = "hokkaido"
    TOHOKU = "tohoku"
    KANTO = "kanto"
    CHUBU = "chubu"
    KINKI = "kinki"
    CHUGOKU = "chugoku"
    SHIKOKU = "shikoku"
    KYUSHU = "kyushu"


_REGION_NAMES: Mapping[Region, str] = {
    Region.HOKKAIDO: "北海道",
    Region.TOHOKU: "東北",
    Region.KANTO: "関東",
    Region.CHUBU: "中部",
    Region.KINKI: "近畿",
    Region.CHUGOKU: "中国",
    Region.SHIKOKU: "四国",
    Region.KYUSHU: "九州・沖縄",
}
_REGION_NAMES_EN: Mapping[Region, str] = {
    Region.HOKKAIDO: "Hokkaido",
    Region.TOHOKU: "Tohoku",
    Region.KANTO: "Kanto",
    Region.CHUBU: "Chubu",
    Region.KINKI: "Kinki",
    Region.CHUGOKU: "Chugoku",
    Region.SHIKOKU: "Shikoku",
    Region.KYUSHU: "Kyushu & Okinawa",
}
#: Extra spellings accepted by :func:`resolve_pref_tokens`.
_REGION_ALIASES: Mapping[str, Region] = {"九州": Region.KYUSHU, "関西": Region.KINKI}
#: Suffixes dropped to get a prefecture's short name (東京都 → 東京); 北海道 keeps 道.
_PREF_SUFFIXES = ("都", "府", "県")


@dataclasses.dataclass(frozen=True, slots=True)
class Prefecture:
    """One of the 47 prefectures."""

    code: str
    name: str
    name_en: str
    region: Region


@dataclasses.dataclass(frozen=True, slots=True)
class _Tables:
    prefectures: Mapping[str, Prefecture]
    seismic_region_pref: Mapping[str, str]
    eew_area_prefs: Mapping[str, tuple[str, ...]]
    eew_area_codes: Mapping[str, str]
    tsunami_area_prefs: Mapping[str, tuple[str, ...]]
    tsunami_area_codes: Mapping[str, str]
    station_point: Mapping[str, tuple[float, float]]
    epicenter_pref: Mapping[str, str | None]
    tokens: Mapping[str, frozenset[str]]


def read_table(path: Path, header: tuple[str, ...]) -> list[list[str]]:
    """Read one of yure's UTF-8 CSV tables; return its rows after the header.

    The file is read whole, at most :data:`MAX_TABLE_BYTES`; its first row must be
    ``header`` and every other row must have as many fields.

    Raises:
        GeoError: the file is missing, too large, not UTF-8 CSV, or has another header
            or a row of another width.
    """
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_TABLE_BYTES + 1)
    except OSError as err:
        raise GeoError(f"cannot read table {path}: {err}") from err
    if len(raw) > MAX_TABLE_BYTES:
        raise GeoError(f"table {path} is larger than MAX_TABLE_BYTES={MAX_TABLE_BYTES}")
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as err:
        raise GeoError(f"table {path} is not UTF-8 CSV: {err}") from err
    if not rows or tuple(rows[0]) != header:
        raise GeoError(f"table {path}: header is not {','.join(header)}")
    body = rows[1:]
    for lineno, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise GeoError(f"table {path}:{lineno}: {len(row)} fields, expected {len(header)}")
    return body


def _point(lat: str, lon: str, where: str) -> tuple[float, float]:
    try:
        point = (float(lat), float(lon))
    except ValueError as err:
        raise GeoError(f"{where}: {lat!r},{lon!r} is not a coordinate") from err
    if not (-90.0 <= point[0] <= 90.0 and -180.0 <= point[1] <= 180.0):
        raise GeoError(f"{where}: {lat},{lon} is out of range")
    return point


def _prefs(field: str, where: str) -> tuple[str, ...]:
    prefs = tuple(sorted(set(field.split(";")))) if field else ()
    if not set(prefs) <= _PREF_SET:
        raise GeoError(f"{where}: bad prefecture code in {field!r}")
    return prefs


def _one_pref(field: str, where: str) -> str:
    prefs = _prefs(field, where)
    if len(prefs) != 1:
        raise GeoError(f"{where}: expected one prefecture, got {field!r}")
    return prefs[0]


def _short_name(name: str) -> str:
    return name[:-1] if name.endswith(_PREF_SUFFIXES) else name


def _token_table(prefectures: Mapping[str, Prefecture]) -> dict[str, frozenset[str]]:
    tokens: dict[str, frozenset[str]] = {}

    def add(key: str, prefs: frozenset[str]) -> None:
        key = key.casefold()
        if tokens.setdefault(key, prefs) != prefs:
            raise GeoError(f"token {key!r} names two different prefecture sets")

    for region in Region:
        prefs = frozenset(p.code for p in prefectures.values() if p.region is region)
        add(region.value, prefs)
        add(_REGION_NAMES[region], prefs)
    for alias, region in _REGION_ALIASES.items():
        add(alias, tokens[region.value])
    for pref in prefectures.values():
        for key in (pref.code, pref.name, _short_name(pref.name), pref.name_en):
            add(key, frozenset({pref.code}))
    return tokens


def load_tables(data_dir: Path = DATA_DIR) -> _Tables:
    """Read and check every table in ``data_dir``.

    Raises:
        GeoError: a file is missing, too large, or not in yure's table format.
    """
    prefectures: dict[str, Prefecture] = {}
    for code, name, name_en, region in read_table(
        data_dir / "prefectures.csv", ("code", "name", "name_en", "region")
    ):
        try:
            prefectures[code] = Prefecture(code, name, name_en, Region(region))
        except ValueError as err:
            raise GeoError(f"prefectures.csv: unknown region {region!r}") from err
    if tuple(prefectures) != PREF_CODES:
        raise GeoError("prefectures.csv: codes are not 01..47 in order")

    seismic = {
        code: _one_pref(pref, f"seismic_regions.csv {code}")
        for code, _name, pref, _eew in read_table(
            data_dir / "seismic_regions.csv", ("code", "name", "pref", "eew_area")
        )
    }
    eew_rows = read_table(data_dir / "eew_areas.csv", ("code", "name", "telegram_name", "prefs"))
    tsunami_rows = read_table(
        data_dir / "tsunami_areas.csv", ("code", "name", "kind", "members", "prefs")
    )
    station_points = {
        code: _point(lat, lon, f"stations.csv {code}")
        for code, lat, lon in read_table(data_dir / "stations.csv", ("code", "lat", "lon"))
        if lat or lon
    }
    epicenters = {
        name: (_one_pref(pref, f"epicenters.csv {code}") if pref else None)
        for code, name, pref, _basis in read_table(
            data_dir / "epicenters.csv", ("code", "name", "pref", "basis")
        )
    }
    return _Tables(
        prefectures=prefectures,
        seismic_region_pref=seismic,
        eew_area_prefs={r[0]: _prefs(r[3], f"eew_areas.csv {r[0]}") for r in eew_rows},
        eew_area_codes=_eew_codes_by_name(eew_rows),
        tsunami_area_prefs={r[0]: _prefs(r[4], f"tsunami_areas.csv {r[0]}") for r in tsunami_rows},
        tsunami_area_codes={r[1]: r[0] for r in tsunami_rows},
        station_point=station_points,
        epicenter_pref=epicenters,
        tokens=_token_table(prefectures),
    )


def _eew_codes_by_name(rows: list[list[str]]) -> dict[str, str]:
    codes: dict[str, str] = {}
    for code, name, telegram_name, _prefs_field in rows:
        # 伊豆諸島/小笠原/奄美 are both a 府県予報区 and a 地方予報区 with the same
        # prefectures; the 府県予報区 (listed first) keeps the name.
        codes.setdefault(telegram_name, code)
        codes.setdefault(name, code)
    return codes


@functools.cache
def _tables() -> _Tables:
    return load_tables()


def prefecture(code: str) -> Prefecture:
    """Return the prefecture with JIS code ``code`` (``"01"``..``"47"``).

    Raises:
        GeoError: ``code`` is not a prefecture code.
    """
    try:
        return _tables().prefectures[code]
    except (KeyError, TypeError):
        raise GeoError(f"unknown prefecture code {code!r} (expected '01'..'47')") from None


def region_name(region: Region) -> str:
    """Return the Japanese name of ``region`` (``Region.KANTO`` → ``"関東"``)."""
    return _REGION_NAMES[region]


def region_name_en(region: Region) -> str:
    """Return the English name of ``region`` (``Region.KYUSHU`` → ``"Kyushu & Okinawa"``)."""
    return _REGION_NAMES_EN[region]


def prefs_in_region(region: Region) -> tuple[str, ...]:
    """Return the prefecture codes of ``region``, in code order."""
    return tuple(p.code for p in _tables().prefectures.values() if p.region is region)


def resolve_pref_tokens(tokens: Iterable[str]) -> frozenset[str]:
    """Turn what a user wrote into prefecture codes.

    A token is a code (``"13"``), a prefecture name (``"東京都"``, ``"東京"``,
    ``"Tokyo"``) or a region (``"kanto"``, ``"関東"``); case and surrounding
    blanks are ignored. A bare string counts as one token.

    Raises:
        GeoError: a token is empty or names nothing.
    """
    table = _tables().tokens
    items = [tokens] if isinstance(tokens, str) else list(tokens)
    result: set[str] = set()
    for token in items:
        key = token.strip().casefold() if isinstance(token, str) else None
        if not key or key not in table:
            raise GeoError(f"unknown prefecture or region {token!r}")
        result |= table[key]
    return frozenset(result)


def pref_of_region(code: str) -> str | None:
    """Return the prefecture of a 地震情報／細分区域 code (``"220"`` → ``"04"``)."""
    return _tables().seismic_region_pref.get(code)


def prefs_of_eew_area(code: str) -> tuple[str, ...]:
    """Return the prefectures of a 緊急地震速報 area code, sorted.

    ``code`` is a 府県予報区 (``"9040"`` → ``("04",)``) or a 地方予報区 (``"9931"`` →
    the seven 関東 prefectures); unknown codes give ``()``.
    """
    return _tables().eew_area_prefs.get(code, ())


def eew_area_code(name: str) -> str | None:
    """Return the 緊急地震速報 area code for a name as JMA or P2P地震情報 writes it
    (``"北海道道北"`` → ``"9013"``, ``"奄美"`` → ``"9462"``); None when unknown."""
    return _tables().eew_area_codes.get(name.strip())


def tsunami_area_code(name: str) -> str | None:
    """Return the 津波予報区 code for its name (``"東京湾内湾"`` → ``"312"``); None when
    unknown."""
    return _tables().tsunami_area_codes.get(name.strip())


def prefs_of_tsunami_area(code: str) -> tuple[str, ...]:
    """Return every prefecture a 津波予報区 (or JMA aggregate code) touches, sorted.

    Tsunami codes are not prefixed by prefecture codes (``"462"`` is not 鹿児島):
    ``"312"`` (東京湾内湾) → ``("12", "13", "14")``. Unknown codes give ``()``.
    """
    return _tables().tsunami_area_prefs.get(code, ())


def station_point(code: str) -> tuple[float, float] | None:
    """Return ``(lat, lon)`` in degrees of a 震度観測点 (JMA's table, 0.01° precision);
    None when the code is not in the table or the table gives no coordinates."""
    if not isinstance(code, str):
        return None
    return _tables().station_point.get(code)


def pref_of_epicenter(name: str) -> str | None:
    """Return the prefecture of a 震央地名 when it lies on land or one prefecture's coast.

    ``"宮城県沖"`` → ``"04"``, ``"千葉県東方沖"`` → ``"12"``; open sea shared by
    several prefectures (``"三陸沖"``, ``"東京湾"``) and places abroad → ``None``.
    A name missing from JMA's table 41 gets the prefix rule: the prefecture whose
    full name it starts with, else ``None``. The rule is explained in docs/geo.md.
    """
    if not isinstance(name, str):
        return None
    name = name.strip()
    tables = _tables()
    if name in tables.epicenter_pref:
        return tables.epicenter_pref[name]
    for pref in tables.prefectures.values():
        if name.startswith(pref.name):
            return pref.code
    return None
