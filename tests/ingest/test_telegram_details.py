"""Issue 12's parse contract: tsunami arrival times and heights, tide stations, observed and
estimated tsunamis, station intensities with coordinates, 長周期地震動階級 (VXSE62).

Exact values on every reference telegram (../shared/reference/jma/xml), yure's fixtures in
JMA's format for what the reference lacks, and hypothesis invariants.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest.test_telegram import JST, parse, variant
from yure.geo.codes import station_point
from yure.ingest.errors import TelegramError
from yure.ingest.event import (
    Intensity,
    LgIntensity,
    TsunamiGrade,
    TsunamiStation,
    event_from_json,
    event_to_json,
)
from yure.ingest.stations import MAX_STATIONS, parse_long_period, parse_stations
from yure.ingest.telegram import parse_telegram
from yure.ingest.xmlsafe import NS_SEISMOLOGY

#: Keys ``yure parse`` prints on every line (empty when the telegram has none).
CONTRACT_KEYS = {
    "stations", "max_lg_intensity", "lg_intensity", "tsunami", "tsunami_observations",
    "tsunami_estimates",
}  # fmt: skip
AREA_KEYS = {
    "area_code", "area_name", "grade", "last_grade", "prefs", "arrival_time",
    "arrival_condition", "max_height_m", "max_height_text", "stations",
}  # fmt: skip
TIDE_STATION_KEYS = {"code", "name", "arrival_time", "arrival_condition", "high_tide_at"}
OBSERVATION_KEYS = {
    "station_code", "station_name", "area_code", "area_name", "prefs", "first_arrival_time",
    "first_initial", "first_condition", "max_height_m", "max_height_text", "max_height_time",
    "max_height_condition",
}  # fmt: skip
STATION_KEYS = {"code", "name", "pref", "intensity", "lat", "lon", "lg_intensity"}
TIME_KEYS = {
    "arrival_time", "high_tide_at", "first_arrival_time", "max_height_time", "reported_at",
    "received_at",
}  # fmt: skip

#: Per reference telegram: (stations, of which without coordinates, of which 未入電,
#: max_lg_intensity, tsunami areas, of which with an arrival time, tide stations in all,
#: observations, estimates). Counted by hand in the XML (grep) and checked here.
REFERENCE_COUNTS: dict[str, tuple[int, int, int, str | None, int, int, int, int, int]] = {
    "32-35_01_01_100806_VXSE51.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_01_02_240613_VXSE52.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_01_03_100514_VXSE53.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_03_01_100514_VXSE60.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_06_01_240613_VXSE52.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_06_03_240613_VXSE53.xml": (1127, 498, 11, None, 0, 0, 0, 0, 0),
    "32-35_06_06_100915_VXSE53.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_06_09_240613_VXSE61.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_09_01_191111_VXSE56.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-35_10_01_220510_VXSE51.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-39_05_04_100831_VXSE53.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "32-39_11_02_250206_VTSE41.xml": (0, 0, 0, None, 43, 22, 0, 0, 0),
    "32-39_11_03_250206_VTSE51.xml": (0, 0, 0, None, 43, 22, 72, 0, 0),
    "32-39_11_13_250206_VTSE41.xml": (0, 0, 0, None, 66, 0, 0, 0, 0),
    "36_01_01_240613_VXSE44.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "37_01_01_240613_VXSE43.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "37_01_03_240613_VXSE43.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "38-39_03_01_210805_VTSE41.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "42_01_01_100514_VZSE40.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "54_01_01_100514_VXSE42.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "61_11_01_250206_VTSE52.xml": (0, 0, 0, None, 0, 0, 0, 3, 1),
    "67_01_01_140927_VFVO56.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "74_01_04_200512_VYSE50.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "77_01_04_240613_VXSE45.xml": (0, 0, 0, None, 0, 0, 0, 0, 0),
    "78_01_01_240613_VXSE62.xml": (8, 0, 0, "3", 0, 0, 0, 0, 0),
}


def _no_constants(name: str) -> float:
    raise AssertionError(f"non-JSON constant {name} in output")


def check_wire(wire: dict[str, Any]) -> None:
    """The contract's invariants on one event's JSON."""
    assert set(wire) >= CONTRACT_KEYS
    if wire["max_lg_intensity"] is not None:
        assert wire["type_code"] == "VXSE62"
    for area in wire["tsunami"]:
        assert set(area) == AREA_KEYS
        assert area["max_height_text"] != ""
        assert all(set(s) == TIDE_STATION_KEYS for s in area["stations"])
    for obs in wire["tsunami_observations"] + wire["tsunami_estimates"]:
        assert set(obs) == OBSERVATION_KEYS
        assert obs["prefs"] == sorted(obs["prefs"])
        assert (obs["area_code"] is None) == (obs["prefs"] == [] and obs["area_name"] is None)
    codes = [s["code"] for s in wire["stations"]]
    assert codes == sorted(set(codes))
    for station in wire["stations"]:
        assert set(station) == STATION_KEYS
        point = station_point(station["code"])
        expected = (None, None) if point is None else point
        assert (station["lat"], station["lon"]) == expected
    _check_values(wire)
    text = orjson.dumps(wire)
    json.loads(text, parse_constant=_no_constants)  # no NaN / Infinity
    assert event_to_json(event_from_json(wire)) == wire


def _check_values(value: Any, key: str = "") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _check_values(v, k)
    elif isinstance(value, list):
        for v in value:
            _check_values(v, key)
    elif isinstance(value, float):
        assert math.isfinite(value), key
    elif key in TIME_KEYS and value is not None:
        assert datetime.fromisoformat(value).utcoffset() is not None, (key, value)


# --- the reference telegrams -------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, dict[str, Any]]:
    """``yure parse`` (the real console entry point) over every reference telegram."""
    files = sorted((reference_dir / "jma" / "xml").glob("*.xml"))
    result = subprocess.run(
        [sys.executable, "-m", "yure", "parse", *map(str, files)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.decode().splitlines()
    return {
        path.name: json.loads(line, parse_constant=_no_constants)
        for path, line in zip(files, lines, strict=True)
    }


@pytest.mark.reference
def test_every_reference_telegram_keeps_the_contract(reference: dict[str, dict[str, Any]]) -> None:
    assert set(reference) == set(REFERENCE_COUNTS)  # a new telegram must get its row
    for name, wire in reference.items():
        check_wire(wire)
        stations = wire["stations"]
        areas = wire["tsunami"]
        counts = (
            len(stations),
            sum(1 for s in stations if s["lat"] is None),
            sum(1 for s in stations if s["intensity"] is None),
            wire["max_lg_intensity"],
            len(areas),
            sum(1 for a in areas if a["arrival_time"] is not None),
            sum(len(a["stations"]) for a in areas),
            len(wire["tsunami_observations"]),
            len(wire["tsunami_estimates"]),
        )
        assert counts == REFERENCE_COUNTS[name], name


@pytest.mark.reference
def test_reference_tsunami_values(reference: dict[str, dict[str, Any]]) -> None:
    warning = reference["32-39_11_02_250206_VTSE41.xml"]["tsunami"]
    assert warning[0] == {
        "area_code": "210", "area_name": "岩手県", "grade": "major_warning",
        "last_grade": "none", "prefs": ["03"], "arrival_time": None,
        "arrival_condition": "津波到達中と推測", "max_height_m": None,
        "max_height_text": "巨大", "stations": [],
    }  # fmt: skip
    miyagi = warning[1]
    assert (miyagi["area_name"], miyagi["arrival_time"], miyagi["arrival_condition"]) == (
        "宮城県", "2011-03-11T15:00:00+09:00", None,
    )  # fmt: skip
    texts = {a["max_height_text"] for a in warning}
    assert texts == {"巨大", "高い", None}  # description="" is no text
    info = reference["32-39_11_03_250206_VTSE51.xml"]["tsunami"]
    assert info[0]["stations"][:2] == [
        {"code": "21001", "name": "宮古", "arrival_time": "2011-03-11T15:20:00+09:00",
         "arrival_condition": None, "high_tide_at": "2011-03-11T19:43:00+09:00"},
        {"code": "21002", "name": "大船渡", "arrival_time": "2011-03-11T15:10:00+09:00",
         "arrival_condition": None, "high_tide_at": "2011-03-11T19:46:00+09:00"},
    ]  # fmt: skip
    assert [s["name"] for s in info[1]["stations"]] == ["石巻市鮎川", "仙台港"]
    assert reference["32-39_11_13_250206_VTSE41.xml"]["tsunami"][0]["max_height_text"] is None

    offshore = reference["61_11_01_250206_VTSE52.xml"]
    assert offshore["tsunami_observations"][2] == {
        "station_code": "21050", "station_name": "岩手沖９０ｋｍＡ", "area_code": None,
        "area_name": None, "prefs": [], "first_arrival_time": "2011-03-11T14:48:00+09:00",
        "first_initial": "押し", "first_condition": None, "max_height_m": None,
        "max_height_text": None, "max_height_time": None, "max_height_condition": "観測中",
    }  # fmt: skip
    assert [o["first_initial"] for o in offshore["tsunami_observations"]] == [
        "引き",
        "引き",
        "押し",
    ]
    assert offshore["tsunami_estimates"] == [
        {"station_code": None, "station_name": None, "area_code": "210", "area_name": "岩手県",
         "prefs": ["03"], "first_arrival_time": "2011-03-11T14:55:00+09:00",
         "first_initial": None, "first_condition": "早いところでは既に津波到達と推定",
         "max_height_m": None, "max_height_text": "巨大", "max_height_time": None,
         "max_height_condition": "重要"},
    ]  # fmt: skip


@pytest.mark.reference
def test_reference_station_values(reference: dict[str, dict[str, Any]]) -> None:
    big = reference["32-35_06_03_240613_VXSE53.xml"]["stations"]
    by_code = {s["code"]: s for s in big}
    assert by_code["0321533"] == {
        "code": "0321533",
        "name": "奥州市衣川区（旧）＊",
        "pref": "03",
        "intensity": "6+",
        "lat": None,
        "lon": None,
        "lg_intensity": None,
    }  # fmt: skip  (a 2008 code no longer in JMA's table: no coordinates)
    assert by_code["0320931"]["intensity"] is None  # 震度５弱以上未入電
    assert by_code["0110220"] == {
        "code": "0110220", "name": "札幌北区太平＊", "pref": "01", "intensity": "1",
        "lat": 43.14, "lon": 141.35, "lg_intensity": None,
    }  # fmt: skip
    assert sum(1 for s in big if s["intensity"] == "6+") == 2

    long_period = reference["78_01_01_240613_VXSE62.xml"]
    assert (long_period["kind"], long_period["max_intensity"]) == ("quake", "5-")
    assert long_period["lg_intensity"] == {"02": "1", "03": "1", "04": "3"}
    assert long_period["stations"][5] == {
        "code": "0421200", "name": "登米市中田町", "pref": "04", "intensity": "4",
        "lat": 38.71, "lon": 141.24, "lg_intensity": "3",
    }  # fmt: skip
    assert [s["lg_intensity"] for s in long_period["stations"]] == ["1"] * 5 + ["3", "1", "1"]


# --- yure's fixtures (what the reference lacks) -------------------------------------------


def test_arrivals_heights_and_tide_stations() -> None:
    event = parse("VTSE51_arrivals.xml")
    iwate, miyagi, hokkaido = event.tsunami
    assert (iwate.grade, iwate.arrival_time, iwate.arrival_condition) == (
        TsunamiGrade.MAJOR_WARNING, None, "第１波の到達を確認",
    )  # fmt: skip
    assert (iwate.max_height_m, iwate.max_height_text) == (10.0, "１０ｍ超")
    assert iwate.stations == (
        TsunamiStation("21001", "宮古", None, "第１波の到達を確認",
                       datetime(2024, 9, 1, 16, 43, tzinfo=JST)),
        TsunamiStation("21002", "大船渡", datetime(2024, 9, 1, 12, 30, tzinfo=JST), None,
                       datetime(2024, 9, 1, 16, 46, tzinfo=JST)),
    )  # fmt: skip
    assert miyagi.arrival_time == datetime(2024, 9, 1, 12, 40, tzinfo=JST)
    assert miyagi.arrival_condition == "ただちに津波来襲と予測"
    assert (miyagi.max_height_m, miyagi.max_height_text) == (3.0, "３ｍ")
    assert miyagi.stations[0].arrival_condition == "ただちに津波来襲と予測"
    assert (hokkaido.max_height_m, hokkaido.max_height_text, hokkaido.stations) == (None, None, ())
    rising, faint = event.tsunami_observations
    assert (rising.max_height_m, rising.max_height_text, rising.max_height_condition) == (
        1.2, "１．２ｍ", "上昇中",
    )  # fmt: skip
    assert rising.max_height_time == datetime(2024, 9, 1, 12, 18, tzinfo=JST)
    assert (faint.first_arrival_time, faint.first_initial, faint.first_condition) == (
        None, None, "第１波識別不能",
    )  # fmt: skip
    assert (faint.max_height_m, faint.max_height_text, faint.max_height_condition) == (
        None, "微弱", None,
    )  # fmt: skip
    check_wire(event_to_json(event))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<ArrivalTime>2024-09-01T12:30:00+09:00", "<ArrivalTime>2024-09-01T12:30:00", "offset"),
        ("<ArrivalTime>2024-09-01T12:30:00+09:00", "<ArrivalTime>soon", "ISO 8601"),
        ('description="３ｍ">3<', 'description="３ｍ">3m<', "tsunami height"),
        ('description="３ｍ">3<', 'description="３ｍ">inf<', "tsunami height"),
        ('description="１．２ｍ">1.2<', 'description="１．２ｍ">-1.2<', "tsunami height"),
    ],
)
def test_malformed_tsunami_values_are_refused(old: str, new: str, message: str) -> None:
    with pytest.raises(TelegramError, match=message):
        parse_telegram(variant("VTSE51_arrivals.xml", old, new))


def _quake_with_stations(stations: list[tuple[str, str, str, str | None]]) -> bytes:
    """A VXSE53-shaped telegram (yure's fixture) whose observation lists ``stations`` as
    (pref, code, Int, LgInt) under one Area/City each."""
    prefs: dict[str, list[str]] = {}
    for pref, code, value, lg in stations:
        lg_element = "" if lg is None else f"<LgInt>{lg}</LgInt>"
        prefs.setdefault(pref, []).append(
            f"<IntensityStation><Name>観測点{code}</Name><Code>{code}</Code>"
            f"<Int>{value}</Int>{lg_element}</IntensityStation>"
        )
    body = "".join(
        f"<Pref><Name>県</Name><Code>{pref}</Code><Area><Name>地域</Name><Code>100</Code>"
        f"<City><Name>市</Name><Code>{pref}00000</Code>{''.join(items)}</City></Area></Pref>"
        for pref, items in prefs.items()
    )
    return variant(
        "VXSE52_magnitude_unknown.xml",
        "</Earthquake>",
        f"</Earthquake><Intensity><Observation>{body}</Observation></Intensity>",
    )


def test_station_values_and_unknown_codes() -> None:
    event = parse_telegram(
        _quake_with_stations(
            [("04", "0421200", "5+", None), ("01", "0123500", "1", None),
             ("13", "1399999", "震度５弱以上未入電", None), ("04", "0421200", "3", None)]
        ),
        file_name="x_VXSE53_y.xml",
    )  # fmt: skip
    codes = [s.code for s in event.stations]
    assert codes == ["0123500", "0421200", "1399999"]  # sorted, a repeated code once
    assert (event.stations[0].lat, event.stations[0].lon) == (43.17, 141.32)
    assert event.stations[1].intensity is Intensity.I5_UPPER  # the first listing wins
    unknown = event.stations[2]
    assert (unknown.pref, unknown.intensity, unknown.lat, unknown.lon) == ("13", None, None, None)
    assert (event.max_lg_intensity, event.lg_intensity) == (None, {})


def test_long_period_classes_without_overall_maximum() -> None:
    data = _quake_with_stations([("04", "0421200", "4", "2"), ("02", "0220100", "3", "0")])
    event = parse_telegram(data, file_name="x_VXSE62_y.xml")
    assert [s.lg_intensity for s in event.stations] == [LgIntensity.L0, LgIntensity.L2]
    assert (event.max_lg_intensity, event.lg_intensity) == (None, {})  # no MaxLgInt given
    with_prefs = data.replace(
        b"<Code>04</Code>", b"<Code>04</Code><MaxLgInt>2</MaxLgInt>", 1
    ).replace(b"<Code>02</Code>", b"<Code>02</Code><MaxLgInt>1</MaxLgInt>", 1)
    event = parse_telegram(with_prefs, file_name="x_VXSE62_y.xml")
    assert event.max_lg_intensity is LgIntensity.L2  # the strongest prefecture stands in
    assert event.lg_intensity == {"02": LgIntensity.L1, "04": LgIntensity.L2}
    repeated = with_prefs.replace(
        b"</Observation>",
        b"<Pref><Name>\xe7\x9c\x8c</Name>"
        b"<Code>02</Code><MaxLgInt>3</MaxLgInt></Pref></Observation>",
    )
    assert parse_telegram(repeated).lg_intensity["02"] is LgIntensity.L3  # the strongest
    bad = with_prefs.replace(b"<Code>02</Code><MaxLgInt>1", b"<Code>99</Code><MaxLgInt>1", 1)
    with pytest.raises(TelegramError, match="prefecture code"):
        parse_telegram(bad)


@pytest.mark.parametrize(
    ("station", "message"),
    [
        (("04", "0421200", "4", "5"), "long-period"),
        (("04", "0421200", "8", None), "seismic intensity"),
        (("04", "", "4", None), "without a Code"),
        (("99", "0421200", "4", None), "prefecture code"),
    ],
)
def test_malformed_station_values_are_refused(
    station: tuple[str, str, str, str | None], message: str
) -> None:
    with pytest.raises(TelegramError, match=message):
        parse_telegram(_quake_with_stations([station]), file_name="x_VXSE53_y.xml")


def test_station_readers_check_prefecture_codes_on_their_own() -> None:
    """parse_stations / parse_long_period refuse a bad Pref/Code even when called alone."""
    body = ET.fromstring(
        f'<Body xmlns="{NS_SEISMOLOGY}"><Intensity><Observation><Pref><Code>99</Code>'
        "<MaxLgInt>1</MaxLgInt></Pref></Observation></Intensity></Body>"
    )
    with pytest.raises(TelegramError, match="prefecture code"):
        parse_stations(body)
    with pytest.raises(TelegramError, match="prefecture code"):
        parse_long_period(body)
    assert parse_stations(None) == () and parse_long_period(None).max_lg_intensity is None


def test_more_stations_than_the_cap_keep_the_strongest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("yure.ingest.stations.MAX_STATIONS", 2)
    data = _quake_with_stations(
        [("04", "0421200", "1", None), ("04", "0421501", "5-", None),
         ("04", "0450100", "震度５弱以上未入電", None), ("02", "0220100", "3", None)]
    )  # fmt: skip
    event = parse_telegram(data, file_name="x_VXSE53_y.xml")
    assert [(s.code, s.intensity) for s in event.stations] == [
        ("0220100", Intensity.I3), ("0421501", Intensity.I5_LOWER),
    ]  # fmt: skip
    assert MAX_STATIONS >= 1127  # the largest reference telegram is kept whole


# --- hypothesis ------------------------------------------------------------------------------

_KNOWN_CODES = ["0123500", "0421200", "0421501", "1310100", "2720000", "4720100"]
_station_codes = st.one_of(
    st.sampled_from(_KNOWN_CODES), st.from_regex(r"\A[0-4][0-9]{6}\Z", fullmatch=True)
)
_intensities = st.sampled_from([*(i.value for i in Intensity), "震度５弱以上未入電"])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["01", "04", "13", "27", "47"]), _station_codes, _intensities,
            st.one_of(st.none(), st.sampled_from(["0", "1", "2", "3", "4"])),
        ),
        min_size=1,
        max_size=20,
    )
)  # fmt: skip
def test_stations_property(stations: list[tuple[str, str, str, str | None]]) -> None:
    """Whatever stations a telegram lists: sorted unique codes, coordinates from the table
    or null, no NaN, the wire form round-trips."""
    event = parse_telegram(_quake_with_stations(stations), file_name="x_VXSE62_y.xml")
    assert {s.code for s in event.stations} == {code for _, code, _, _ in stations}
    check_wire(event_to_json(event))


_heights = st.one_of(
    st.just("NaN"),
    st.decimals(min_value=0, max_value=99, places=1).map(str),
)
_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=JST).isoformat()
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_heights, _heights, _times, _times, st.sampled_from(["", "３ｍ", "巨大", "微弱"]))
def test_tsunami_values_property(
    forecast_height: str, observed_height: str, arrival: str, peak: str, words: str
) -> None:
    """Heights are numbers or null (never NaN), times keep their offsets."""
    data = variant("VTSE51_arrivals.xml", 'description="３ｍ">3<', f'description="{words}">'
                   f"{forecast_height}<")  # fmt: skip
    data = data.replace(b">1.2<", f">{observed_height}<".encode())
    data = data.replace(b"2024-09-01T12:40:00+09:00", arrival.encode())
    data = data.replace(b"2024-09-01T12:18:00+09:00", peak.encode())
    event = parse_telegram(data)
    miyagi = event.tsunami[1]
    expected = None if forecast_height == "NaN" else float(forecast_height)
    assert (miyagi.max_height_m, miyagi.max_height_text) == (expected, words or None)
    assert miyagi.arrival_time == datetime.fromisoformat(arrival)
    check_wire(event_to_json(event))
