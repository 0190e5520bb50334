"""parse_telegram over yure's own telegrams in JMA's real format (tests/ingest/fixtures)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from yure.ingest.errors import TelegramError
from yure.ingest.event import (
    Event,
    Hypocenter,
    InfoType,
    Intensity,
    Kind,
    Status,
    TsunamiArea,
    TsunamiGrade,
    TsunamiObservation,
    event_to_json,
)
from yure.ingest.telegram import MAX_TELEGRAM_BYTES, parse_telegram, type_code_of

FIXTURES = Path(__file__).parent / "fixtures"
JST = timezone(timedelta(hours=9))
G = TsunamiGrade


def jst(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


def parse(name: str) -> Event:
    return parse_telegram((FIXTURES / name).read_bytes(), file_name=name)


def variant(name: str, old: str, new: str) -> bytes:
    """The fixture with ``old`` replaced once (``old`` must be there: no silent no-op)."""
    source = (FIXTURES / name).read_text(encoding="utf-8")
    assert source.count(old) >= 1, f"{old!r} not in {name}"
    return source.replace(old, new, 1).encode()


# --- what Control and Head say, for every fixture --------------------------------------

ENVELOPES = [
    # name, type_code, kind, status, info_type, event_id, serial, reported_at (JST)
    ("VXSE51_exercise.xml", "VXSE51", Kind.QUAKE, Status.EXERCISE, InfoType.ISSUED,
     "20240301100012", None, jst(2024, 3, 1, 10, 2)),
    ("VXSE52_test_shallow.xml", "VXSE52", Kind.QUAKE, Status.TEST, InfoType.ISSUED,
     "20240520121230", None, jst(2024, 5, 20, 12, 15)),
    ("VXSE52_magnitude_unknown.xml", "VXSE52", Kind.QUAKE, Status.ACTUAL, InfoType.ISSUED,
     "20240603052850", 2, jst(2024, 6, 3, 5, 31)),
    ("VXSE53_cancelled.xml", "VXSE53", Kind.QUAKE, Status.ACTUAL, InfoType.CANCELLED,
     "20240603052850", 4, jst(2024, 6, 3, 9, 40)),
    ("VXSE53_corrected_not_received.xml", "VXSE53", Kind.QUAKE, Status.ACTUAL,
     InfoType.CORRECTED, "20240715210512", 3, jst(2024, 7, 15, 21, 20)),
    ("VXSE53_prefixed.xml", "VXSE53", Kind.QUAKE, Status.ACTUAL, InfoType.ISSUED,
     "20240417231454", 1, jst(2024, 4, 17, 23, 20)),
    ("foreign_quake.xml", "VXSE53", Kind.QUAKE, Status.ACTUAL, InfoType.ISSUED,
     "20240810105530", 1, jst(2024, 8, 10, 11, 10)),
    ("VXSE61_degree_minute.xml", "VXSE61", Kind.QUAKE, Status.ACTUAL, InfoType.ISSUED,
     "20240715210512", None, jst(2024, 7, 15, 23, 0)),
    ("VXSE43_warning.xml", "VXSE43", Kind.EEW, Status.ACTUAL, InfoType.ISSUED,
     "20241102142003", 3, jst(2024, 11, 2, 14, 20, 11)),
    ("VXSE44_no_areas.xml", "VXSE44", Kind.EEW, Status.ACTUAL, InfoType.ISSUED,
     "20241102142003", 1, jst(2024, 11, 2, 14, 20, 5)),
    ("VXSE45_plum.xml", "VXSE45", Kind.EEW, Status.ACTUAL, InfoType.ISSUED,
     "20241225064421", 2, jst(2024, 12, 25, 6, 44, 30)),
    ("VTSE41_lifted.xml", "VTSE41", Kind.TSUNAMI, Status.ACTUAL, InfoType.ISSUED,
     "20240901120055", None, jst(2024, 9, 1, 17, 30)),
    ("VTSE41_major_tokyo_bay.xml", "VTSE41", Kind.TSUNAMI, Status.ACTUAL, InfoType.ISSUED,
     "20241005150230", None, jst(2024, 10, 5, 15, 5)),
    ("VTSE51_observation.xml", "VTSE51", Kind.TSUNAMI, Status.ACTUAL, InfoType.ISSUED,
     "20240901120055", 2, jst(2024, 9, 1, 12, 40)),
    ("VTSE52_offshore.xml", "VTSE52", Kind.TSUNAMI, Status.ACTUAL, InfoType.ISSUED,
     "20240901120055", 1, jst(2024, 9, 1, 12, 25)),
    ("VYSE60_notice.xml", "VYSE60", Kind.NOTICE, Status.ACTUAL, InfoType.ISSUED,
     "20250120123005", None, jst(2025, 1, 20, 13, 0)),
    ("notice_without_code.xml", "VZSE40", Kind.NOTICE, Status.ACTUAL, InfoType.ISSUED,
     "20240401100000", None, jst(2024, 4, 1, 10, 0)),
    ("VFVO50_other_type.xml", "VFVO50", Kind.OTHER, Status.ACTUAL, InfoType.ISSUED,
     "506", None, jst(2024, 2, 10, 11, 0)),
    ("unknown_title.xml", "", Kind.OTHER, Status.ACTUAL, InfoType.ISSUED,
     "", None, jst(2024, 7, 1, 5, 0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "type_code", "kind", "status", "info_type", "event_id", "serial", "when"),
    ENVELOPES,
)
def test_envelope(
    name: str,
    type_code: str,
    kind: Kind,
    status: Status,
    info_type: InfoType,
    event_id: str,
    serial: int | None,
    when: datetime,
) -> None:
    event = parse(name)
    assert (event.type_code, event.kind, event.status, event.info_type) == (
        type_code,
        kind,
        status,
        info_type,
    )
    assert (event.event_id, event.serial) == (event_id, serial)
    assert event.reported_at == when
    assert event.reported_at.utcoffset() == timedelta(hours=9)
    assert event.provenance is None
    assert event.public is (status is Status.ACTUAL)
    assert list(event.prefs) == sorted(set(event.prefs))


@pytest.mark.parametrize("name", [row[0] for row in ENVELOPES if row[1]])
def test_title_gives_the_same_type_code_as_the_file_name(name: str) -> None:
    with_name = parse(name)
    without = parse_telegram((FIXTURES / name).read_bytes())
    assert without.type_code == with_name.type_code
    assert without == with_name


def test_file_name_wins_over_title() -> None:
    data = (FIXTURES / "VXSE52_test_shallow.xml").read_bytes()
    assert parse_telegram(data, file_name="20240520031510_0_VXSE53_400000.xml").type_code == (
        "VXSE53"
    )


@pytest.mark.parametrize(
    ("file_name", "title", "expected"),
    [
        ("32-35_06_03_240613_VXSE53.xml", "", "VXSE53"),
        ("20240417141459_0_VXSE43_270000.xml", "", "VXSE43"),
        ("https://www.data.jma.go.jp/developer/xml/data/20241102_0_VTSE41_010000.xml", "",
         "VTSE41"),
        ("C:\\telegrams\\20241102_0_VZSE40_010000.xml", "", "VZSE40"),
        # Only the last path segment counts; a code must not touch other capitals/digits.
        ("/data/VXSE53/telegram.xml", "震度速報", "VXSE51"),
        ("AVXSE53.xml", "震度速報", "VXSE51"),
        ("VXSE531.xml", "震度速報", "VXSE51"),
        ("vxse53.xml", "震度速報", "VXSE51"),
        (None, "津波情報a", "VTSE51"),
        ("", "緊急地震速報（地震動予報）", "VXSE45"),
        (None, "南海トラフ地震関連解説情報", ""),  # VYSE51 or VYSE52: ambiguous
        (None, "", ""),
    ],
)  # fmt: skip
def test_type_code_of(file_name: str | None, title: str, expected: str) -> None:
    assert type_code_of(file_name, title) == expected


# --- earthquake information --------------------------------------------------------------


def test_intensity_report_exercise() -> None:
    event = parse("VXSE51_exercise.xml")
    assert event.title == "震度速報"
    # Leading 全角 space stripped (JMA indents headlines with U+3000).
    assert event.headline.startswith("１日１０時００分ころ")
    assert event.hypocenter is None
    assert event.max_intensity is Intensity.I5_UPPER
    assert event.intensity == {
        "08": Intensity.I5_UPPER,
        "11": Intensity.I4,
        "12": Intensity.I4,
        "13": Intensity.I3,
    }
    assert event.prefs == ("08", "11", "12", "13")
    assert not event.public


def test_very_shallow_depth_is_zero_and_epicentre_gives_prefs() -> None:
    event = parse("VXSE52_test_shallow.xml")
    assert event.hypocenter == Hypocenter("兵庫県南東部", 34.3, 135.2, 0.0, 4.1, "Ｍ４．１")
    assert event.max_intensity is None
    assert event.intensity == {}
    assert event.prefs == ("28",)


def test_unknown_magnitude_is_none_never_nan() -> None:
    event = parse("VXSE52_magnitude_unknown.xml")
    assert event.hypocenter == Hypocenter("宮城県沖", 38.3, 142.2, 50.0, None, "Ｍ不明")
    assert event.prefs == ("04",)  # 宮城県沖 is the coast of one prefecture
    wire = orjson.dumps(event_to_json(event)).decode()
    assert "NaN" not in wire
    assert orjson.loads(wire)["hypocenter"]["magnitude"] is None


def test_cancelled_has_empty_body() -> None:
    event = parse("VXSE53_cancelled.xml")
    assert event.info_type is InfoType.CANCELLED
    assert event.headline == "震源・震度情報を取り消します。"
    assert (event.hypocenter, event.max_intensity, event.intensity, event.prefs) == (
        None,
        None,
        {},
        (),
    )


def test_not_received_prefecture_is_listed_without_inventing_an_intensity() -> None:
    event = parse("VXSE53_corrected_not_received.xml")
    assert event.info_type is InfoType.CORRECTED
    assert event.max_intensity is Intensity.I6_LOWER
    # 富山 (16) has only 「震度５弱以上未入電」: concerned, but no value is made up.
    assert event.intensity == {"15": Intensity.I6_LOWER, "17": Intensity.I4}
    assert event.prefs == ("15", "16", "17")


def test_foreign_quake() -> None:
    event = parse("foreign_quake.xml")
    assert event.foreign
    assert event.title == "遠地地震に関する情報"
    assert event.hypocenter == Hypocenter(
        "カムチャツカ半島付近", 56.7, 161.4, None, 7.4, "Ｍ７．４"
    )
    assert event.prefs == ()


def test_domestic_quakes_are_not_foreign() -> None:
    assert not any(parse(row[0]).foreign for row in ENVELOPES if row[0] != "foreign_quake.xml")


def test_degree_minute_hypocentre_is_preferred() -> None:
    hypo = parse("VXSE61_degree_minute.xml").hypocenter
    assert hypo is not None
    # +3718.6+13852.5-11000/ rather than the coarser +37.3+138.9-10000/.
    assert (hypo.lat, hypo.lon, hypo.depth_km) == (37.31, 138.875, 11.0)
    assert parse("VXSE61_degree_minute.xml").prefs == ("15",)


def test_namespaces_matched_by_uri_not_prefix() -> None:
    event = parse("VXSE53_prefixed.xml")
    assert event.headline == "１７日２３時１４分ころ、地震がありました。"
    # The jmx_eb prefix is bound to a decoy URI here: its Coordinate must be ignored.
    assert event.hypocenter == Hypocenter("豊後水道", 33.2, 132.4, 39.0, 6.6, "Ｍ６．６")
    assert event.max_intensity is Intensity.I6_LOWER
    assert event.prefs == ("38", "39", "44")


# --- 緊急地震速報 ------------------------------------------------------------------------


def test_eew_warning_areas_and_open_ended_forecast() -> None:
    event = parse("VXSE43_warning.xml")
    assert event.headline == "茨城県南部で地震　強い揺れに警戒"
    assert event.max_intensity is Intensity.I5_UPPER  # 5+ … over = 「5強程度以上」
    assert event.prefs == ("08", "11", "12", "13")
    assert event.intensity == {}


def test_eew_forecast_without_areas_falls_back_to_the_epicentre() -> None:
    event = parse("VXSE44_no_areas.xml")
    assert event.headline == ""
    assert event.max_intensity is Intensity.I3
    assert event.prefs == ("08",)


def test_eew_plum_assumed_hypocentre() -> None:
    event = parse("VXSE45_plum.xml")
    assert event.hypocenter == Hypocenter("石川県能登地方", 37.4, 137.2, 10.0, None, "Ｍ不明")
    assert event.max_intensity is Intensity.I6_LOWER
    # 9160 富山 has a Pref without Area; 390 石川県能登 → 17.
    assert event.prefs == ("16", "17")


@pytest.mark.parametrize(
    ("forecast_int", "expected"),
    [
        ("<From>4</From><To>5-</To>", Intensity.I5_LOWER),
        ("<From>4</From><To>不明</To>", Intensity.I4),
        ("<From>不明</From><To>不明</To>", None),
        ("<From>5+</From>", Intensity.I5_UPPER),
        ("", None),
    ],
)
def test_eew_forecast_intensity_bounds(forecast_int: str, expected: Intensity | None) -> None:
    data = variant(
        "VXSE44_no_areas.xml",
        "<ForecastInt><From>2</From><To>3</To></ForecastInt>",
        f"<ForecastInt>{forecast_int}</ForecastInt>" if forecast_int else "",
    )
    assert parse_telegram(data).max_intensity is expected


def test_eew_unknown_area_codes_add_nothing() -> None:
    data = variant("VXSE43_warning.xml", "<Code>9110</Code><Area><Name>埼玉県南部</Name>"
                   "<Code>331</Code>", "<Code>9999</Code><Area><Name>埼玉県南部</Name>"
                   "<Code>999</Code>")  # fmt: skip
    assert parse_telegram(data).prefs == ("08", "12", "13")


# --- 津波 --------------------------------------------------------------------------------


def test_tsunami_lifting_is_kind_below_last_kind() -> None:
    event = parse("VTSE41_lifted.xml")
    assert event.tsunami == (
        TsunamiArea("210", "岩手県", G.NONE, ("03",), G.WARNING),  # 50 警報解除
        TsunamiArea("220", "宮城県", G.FORECAST, ("04",), G.WARNING),  # 73
        TsunamiArea("100", "北海道太平洋沿岸東部", G.ADVISORY, ("01",), G.WARNING),
        TsunamiArea("250", "福島県", G.FORECAST, ("07",), G.ADVISORY),  # 72
        TsunamiArea("312", "東京湾内湾", G.NONE, ("12", "13", "14"), G.ADVISORY),  # 60
    )
    # Lifted areas still concern their prefectures.
    assert event.prefs == ("01", "03", "04", "07", "12", "13", "14")
    assert event.hypocenter == Hypocenter("三陸沖", 39.1, 143.5, 10.0, 7.3, "Ｍ７．３")
    assert event.prefs == tuple(sorted({p for a in event.tsunami for p in a.prefs}))


def test_tsunami_regions_touching_several_prefectures() -> None:
    event = parse("VTSE41_major_tokyo_bay.xml")
    grades = {area.area_code: (area.grade, area.last_grade) for area in event.tsunami}
    assert grades == {
        "380": (G.MAJOR_WARNING, G.NONE),  # 53 大津波警報：発表
        "390": (G.MAJOR_WARNING, G.WARNING),  # 52 after 51
        "400": (G.WARNING, G.NONE),
        "312": (G.ADVISORY, G.NONE),
        "391": (G.ADVISORY, G.NONE),
        "530": (G.FORECAST, G.NONE),
    }
    prefs = {area.area_code: area.prefs for area in event.tsunami}
    assert prefs["312"] == ("12", "13", "14")  # 東京湾内湾: 千葉・東京・神奈川
    assert prefs["391"] == ("23", "24")  # 伊勢・三河湾: 愛知・三重
    assert event.prefs == ("12", "13", "14", "22", "23", "24", "30")
    assert event.hypocenter is not None and event.hypocenter.depth_km == 0.0


def test_tsunami_observation_areas_add_prefectures() -> None:
    event = parse("VTSE51_observation.xml")
    assert event.tsunami == (
        TsunamiArea(
            "210", "岩手県", G.WARNING, ("03",), G.WARNING,
            arrival_condition="第１波の到達を確認", max_height_m=3.0, max_height_text="３ｍ",
        ),
    )  # fmt: skip
    assert event.prefs == ("02", "03")  # 201 青森県太平洋沿岸 is only observed
    miyako, hachinohe = event.tsunami_observations
    assert miyako == TsunamiObservation(
        station_code="21001", station_name="宮古", area_code="210", area_name="岩手県",
        prefs=("03",), first_arrival_time=datetime(2024, 9, 1, 12, 31, tzinfo=JST),
        first_initial="押し", max_height_m=0.4, max_height_text="０．４ｍ",
        max_height_time=datetime(2024, 9, 1, 12, 36, tzinfo=JST),
    )  # fmt: skip
    assert (hachinohe.station_name, hachinohe.prefs, hachinohe.first_initial) == (
        "八戸", ("02",), "引き",
    )  # fmt: skip
    assert (hachinohe.max_height_m, hachinohe.max_height_condition) == (None, "観測中")
    assert event.tsunami_estimates == ()


def test_offshore_observation_uses_estimation_areas() -> None:
    event = parse("VTSE52_offshore.xml")
    assert event.tsunami == ()  # no Category: no grade to report
    assert event.prefs == ("03", "04")
    assert event.hypocenter is not None and event.hypocenter.name == "三陸沖"


def test_tsunami_item_details() -> None:
    lifted = "VTSE41_lifted.xml"
    no_last = variant(lifted, "<LastKind><Name>津波警報</Name><Code>51</Code></LastKind>", "")
    assert parse_telegram(no_last).tsunami[0].last_grade is None
    no_category = variant(
        lifted,
        "<Category>\n\t\t\t\t<Kind><Name>警報解除</Name><Code>50</Code></Kind>\n\t\t\t\t"
        "<LastKind><Name>津波警報</Name><Code>51</Code></LastKind>\n\t\t\t</Category>",
        "",
    )
    event = parse_telegram(no_category)
    assert [a.area_code for a in event.tsunami] == ["220", "100", "250", "312"]
    assert "03" in event.prefs  # the area still counts for prefectures
    duplicated = variant(lifted, "<Code>220</Code>", "<Code>210</Code>")
    assert [a.area_code for a in parse_telegram(duplicated).tsunami] == [
        "210",
        "100",
        "250",
        "312",
    ]
    no_code = variant(lifted, "<Code>210</Code>", "<Code></Code>")
    assert parse_telegram(no_code).tsunami[0].area_code == "220"
    unknown = variant(lifted, "<Code>210</Code>", "<Code>999</Code>")
    area = parse_telegram(unknown).tsunami[0]
    assert (area.area_code, area.prefs) == ("999", ())


# --- notices and other types ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["VYSE60_notice.xml", "notice_without_code.xml"])
def test_notices(name: str) -> None:
    event = parse(name)
    assert event.kind is Kind.NOTICE
    assert event.headline
    assert (event.hypocenter, event.prefs, event.tsunami) == (None, (), ())


def test_other_type_keeps_title_and_headline_only() -> None:
    event = parse("VFVO50_other_type.xml")
    assert event.kind is Kind.OTHER
    assert event.title == "火山名　桜島　噴火警報（火口周辺）"
    assert event.headline == "＜桜島に噴火警報（火口周辺）を発表＞"
    assert (event.hypocenter, event.prefs) == (None, ())


def test_unknown_title_without_code_is_other_with_empty_code() -> None:
    event = parse_telegram((FIXTURES / "unknown_title.xml").read_bytes())
    assert (event.type_code, event.kind, event.event_id) == ("", Kind.OTHER, "")
    assert event.headline == "筑後地方では、１日昼前まで土砂災害に警戒してください。"


def test_other_type_body_is_not_interpreted() -> None:
    # A body that would be an error for a quake telegram is ignored for other types.
    data = variant("VFVO50_other_type.xml", "<Serial />", "<Serial>7</Serial>")
    event = parse_telegram(data.replace(b"+3134.70", b"garbage"), file_name="VFVO50.xml")
    assert event.serial == 7


# --- edge cases of the body ------------------------------------------------------------------


def test_observation_without_overall_max_int_uses_the_strongest_prefecture() -> None:
    data = variant("VXSE51_exercise.xml", "<MaxInt>5+</MaxInt>\n        <Pref>", "<Pref>")
    assert parse_telegram(data).max_intensity is Intensity.I5_UPPER


def test_overall_not_received_is_unknown() -> None:
    data = variant(
        "VXSE51_exercise.xml", "<MaxInt>5+</MaxInt>\n        <Pref>",
        "<MaxInt>震度５弱以上未入電</MaxInt>\n        <Pref>",
    )  # fmt: skip
    event = parse_telegram(data)
    assert event.max_intensity is None
    assert event.intensity["08"] is Intensity.I5_UPPER


def test_repeated_prefecture_keeps_the_strongest() -> None:
    data = variant("VXSE51_exercise.xml", "<Code>13</Code>\n          <MaxInt>3</MaxInt>",
                   "<Code>12</Code>\n          <MaxInt>3</MaxInt>")  # fmt: skip
    event = parse_telegram(data)
    assert event.intensity["12"] is Intensity.I4
    assert "13" not in event.prefs


def test_tokyo_datum_coordinate_is_a_fallback_only() -> None:
    name = "VXSE52_test_shallow.xml"
    world = "+34.3+135.2+0/</jmx_eb:Coordinate>"
    tokyo = '<jmx_eb:Coordinate datum="日本測地系">+34.29+135.21-1000/</jmx_eb:Coordinate>'
    hypo = parse_telegram(variant(name, world, world + tokyo)).hypocenter
    assert hypo is not None and (hypo.lat, hypo.depth_km) == (34.3, 0.0)
    only_tokyo = variant(name, "<jmx_eb:Coordinate ", '<jmx_eb:Coordinate datum="日本測地系" ')
    only_tokyo = only_tokyo.replace(b"+34.3+135.2+0/", b"+34.29+135.21-1000/")
    hypo = parse_telegram(only_tokyo).hypocenter
    assert hypo is not None and (hypo.lat, hypo.depth_km) == (34.29, 1.0)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # No Coordinate element at all, or an empty one (震源要素不明).
        ('<jmx_eb:Coordinate description="北緯３４．３度　東経１３５．２度　ごく浅い">'
         "+34.3+135.2+0/</jmx_eb:Coordinate>", "", (None, None, None, 4.1, "Ｍ４．１")),
        ("+34.3+135.2+0/", "", (None, None, None, 4.1, "Ｍ４．１")),
        # Magnitude words: description, else condition, else the number itself.
        ('description="Ｍ４．１">4.1', 'condition="推定">4.1', (34.3, 135.2, 0.0, 4.1, "推定")),
        ('description="Ｍ４．１">4.1', ">4.1", (34.3, 135.2, 0.0, 4.1, "4.1")),
        ('description="Ｍ４．１">4.1', ">", (34.3, 135.2, 0.0, None, "")),
        ('<jmx_eb:Magnitude type="Mj" description="Ｍ４．１">4.1</jmx_eb:Magnitude>', "",
         (34.3, 135.2, 0.0, None, "")),
        ('description="Ｍ４．１">4.1', 'description="Ｍ－０．５">-0.5',
         (34.3, 135.2, 0.0, -0.5, "Ｍ－０．５")),
    ],
)  # fmt: skip
def test_hypocentre_details(
    old: str, new: str, expected: tuple[float | None, float | None, float | None, float | None, str]
) -> None:
    hypo = parse_telegram(variant("VXSE52_test_shallow.xml", old, new)).hypocenter
    assert hypo is not None
    assert (hypo.lat, hypo.lon, hypo.depth_km, hypo.magnitude, hypo.magnitude_text) == expected


def test_earthquake_without_hypocentre_area() -> None:
    data = variant("VXSE52_test_shallow.xml", "<Hypocenter>", "<Hypocenter><X>")
    data = data.replace(b"</Hypocenter>", b"</X></Hypocenter>")
    event = parse_telegram(data)
    assert (event.hypocenter, event.prefs) == (None, ())


def test_missing_body_gives_an_empty_event() -> None:
    source = (FIXTURES / "VXSE53_corrected_not_received.xml").read_text(encoding="utf-8")
    head_only = re.sub(r"<Body .*</Body>", "", source, flags=re.S).encode()
    event = parse_telegram(head_only)
    assert (event.kind, event.hypocenter, event.intensity, event.prefs) == (
        Kind.QUAKE,
        None,
        {},
        (),
    )


# --- documents that must be refused ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("billion_laughs.xml", "DTDForbidden"),
        ("external_entity.xml", "DTDForbidden"),
        ("not_xml.bin", "not well-formed XML"),
        ("not_jma.xml", "is not a JMA Report"),
        ("wrong_namespace.xml", "is not a JMA Report"),
    ],
)
def test_refused_documents(name: str, reason: str) -> None:
    with pytest.raises(TelegramError, match=reason):
        parse(name)


def test_oversized_document_is_refused_before_parsing() -> None:
    # Not even well-formed: the size check must come first.
    with pytest.raises(TelegramError, match="document larger than MAX_TELEGRAM_BYTES=2097152"):
        parse_telegram(b"<" * (MAX_TELEGRAM_BYTES + 1))


def test_document_exactly_at_the_cap_is_accepted() -> None:
    data = (FIXTURES / "VXSE52_test_shallow.xml").read_bytes()
    padded = data + b" " * (MAX_TELEGRAM_BYTES - len(data))
    assert len(padded) == MAX_TELEGRAM_BYTES
    assert parse_telegram(padded).type_code == "VXSE52"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="Shift_JIS"?><Report/>', "unreadable XML"),
        (b'<?xml version="1.0" encoding="x-no-such"?><Report/>', "XML"),
        (b'<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"/>', "without Control"),
        (b'<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"><Control/><Head/></Report>',
         "without Head"),
    ],
)  # fmt: skip
def test_refused_bytes(data: bytes, reason: str) -> None:
    with pytest.raises(TelegramError, match=reason):
        parse_telegram(data)


MALFORMED = [
    ("VXSE52_test_shallow.xml", "<Status>試験</Status>", "<Status>本番</Status>",
     "unknown Control/Status"),
    ("VXSE52_test_shallow.xml", "<InfoType>発表</InfoType>", "<InfoType>発令</InfoType>",
     "unknown Head/InfoType"),
    ("VXSE52_magnitude_unknown.xml", "<Serial>2</Serial>", "<Serial>２</Serial>",
     "Serial '２' is not a number"),
    ("VXSE52_magnitude_unknown.xml", "<Serial>2</Serial>", "<Serial>-1</Serial>",
     "is not a number"),
    ("VXSE52_magnitude_unknown.xml", "<ReportDateTime>2024-06-03T05:31:00+09:00",
     "<ReportDateTime>2024-06-03T05:31:00", "has no UTC offset"),
    ("VXSE52_magnitude_unknown.xml", "<ReportDateTime>2024-06-03T05:31:00+09:00",
     "<ReportDateTime>３日０５時３１分", "is not ISO 8601"),
    ("VXSE52_magnitude_unknown.xml", "<ReportDateTime>2024-06-03T05:31:00+09:00</ReportDateTime>",
     "", "missing or empty ReportDateTime"),
    ("VXSE52_magnitude_unknown.xml", "<EventID>20240603052850</EventID>", "<EventID/>",
     "missing or empty EventID"),
    ("VXSE52_magnitude_unknown.xml", "<Title>震源に関する情報</Title>\n    <Report",
     "<Title></Title>\n    <Report", "missing or empty Title"),
    ("VXSE52_magnitude_unknown.xml", "+38.3+142.2-50000/", "北緯38.3度", "coordinate"),
    ("VXSE52_magnitude_unknown.xml", ">NaN<", ">big<", "magnitude 'big' is not a number"),
    ("VXSE52_magnitude_unknown.xml", ">NaN<", ">inf<", "is not a number"),
    ("VXSE51_exercise.xml", "<MaxInt>3</MaxInt>", "<MaxInt>８</MaxInt>",
     "not a seismic intensity"),
    ("VXSE51_exercise.xml", "<Code>13</Code>", "<Code>48</Code>", "not a prefecture code"),
    ("VTSE41_lifted.xml", "<Code>50</Code>", "<Code>99</Code>", "unknown tsunami Kind code"),
    ("VTSE41_lifted.xml", "<LastKind><Name>津波警報</Name><Code>51</Code>",
     "<LastKind><Name>津波警報</Name><Code>5１</Code>", "unknown tsunami LastKind code"),
    ("VXSE44_no_areas.xml", "<From>2</From>", "<From>9</From>", "not a seismic intensity"),
    ("VXSE44_no_areas.xml", "<To>3</To>", "<To>upto</To>", "not a seismic intensity"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "old", "new", "reason"), MALFORMED)
def test_malformed_values(name: str, old: str, new: str, reason: str) -> None:
    with pytest.raises(TelegramError, match=re.escape(reason)):
        parse_telegram(variant(name, old, new), file_name=name)
