"""Folding an event's telegrams into its summary (pure core), and the wire forms."""

from __future__ import annotations

import csv
import dataclasses
import io

import orjson
import pytest

from yure.archive import sql, wire
from yure.archive.facts import EventSummary, TelegramFacts, is_archived, summarize
from yure.ingest.event import InfoType, Intensity, Kind, TsunamiGrade

BASE = TelegramFacts(
    key="k", event_id="20240101000000", type_code="VXSE53", kind=Kind.QUAKE,
    info_type=InfoType.ISSUED, serial=1, reported_at=1_000, title="震源・震度情報",
    headline="地震がありました", foreign=False, max_intensity=Intensity.I4, magnitude=5.0,
    magnitude_text="M5.0", depth_km=10.0, lat=35.0, lon=139.0, hypocenter_name="東京湾",
    tsunami_grade=None, prefs=("13",),
)  # fmt: skip


def facts(key: str, **fields: object) -> TelegramFacts:
    return dataclasses.replace(BASE, key=key, **fields)  # type: ignore[arg-type]


def test_observed_beats_forecast_and_eew_areas_are_left_out() -> None:
    eew = facts("e", type_code="VXSE43", kind=Kind.EEW, reported_at=900, serial=3,
                max_intensity=Intensity.I5_LOWER, magnitude=5.5,
                prefs=("13", "14", "12"))  # fmt: skip
    quake = facts("q", reported_at=1_000)
    s = summarize([eew, quake])
    assert s.kinds == (Kind.QUAKE, Kind.EEW)
    assert s.max_intensity is Intensity.I4 and s.magnitude == 5.0  # observed, not forecast
    assert s.prefs == ("13",) and s.first_at == 900 and s.last_at == 1_000
    only_eew = summarize([eew])
    assert only_eew.prefs == ("12", "13", "14") and only_eew.max_intensity is Intensity.I5_LOWER


def test_a_later_serial_corrects_and_a_cancel_retracts() -> None:
    first = facts("1", serial=1, max_intensity=Intensity.I4)
    corrected = facts("2", serial=2, reported_at=1_100, info_type=InfoType.CORRECTED,
                      max_intensity=Intensity.I5_UPPER)  # fmt: skip
    assert summarize([corrected, first]).max_intensity is Intensity.I5_UPPER
    cancel = facts("3", serial=3, reported_at=1_200, info_type=InfoType.CANCELLED,
                   max_intensity=None, magnitude=None, headline="取り消します",
                   prefs=())  # fmt: skip
    s = summarize([first, corrected, cancel])
    assert s.cancelled and s.headline == "取り消します"
    assert s.max_intensity is Intensity.I5_UPPER  # what was cancelled stays readable
    other_type = facts("4", type_code="VXSE61", serial=None, reported_at=1_300,
                       max_intensity=None, headline="震源要素更新")  # fmt: skip
    after = summarize([first, corrected, cancel, other_type])
    assert not after.cancelled and after.type_code == "VXSE61"
    only_cancel = summarize([cancel])
    assert only_cancel.cancelled and only_cancel.max_intensity is None


def test_tsunami_grade_is_the_highest_issued() -> None:
    advisory = facts("t1", type_code="VTSE41", kind=Kind.TSUNAMI, serial=None,
                     tsunami_grade=TsunamiGrade.ADVISORY)  # fmt: skip
    warning = dataclasses.replace(advisory, key="t2", reported_at=1_100,
                                  tsunami_grade=TsunamiGrade.WARNING)  # fmt: skip
    lifted = dataclasses.replace(advisory, key="t3", reported_at=1_200,
                                 tsunami_grade=TsunamiGrade.NONE)  # fmt: skip
    assert summarize([advisory, warning, lifted]).tsunami_grade is TsunamiGrade.WARNING


def test_summarize_refuses_nothing_and_mixtures() -> None:
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
    with pytest.raises(ValueError, match="several events"):
        summarize([facts("a"), facts("b", event_id="other")])


def test_masks_skip_codes_outside_the_prefectures() -> None:
    assert sql.pref_mask(["01", "47", "00", "48", "xx"]) == 1 | (1 << 46)
    assert sql.kind_mask([Kind.QUAKE, Kind.POST]) == 1


def test_only_public_official_items_are_archived() -> None:
    from tests.support import event_json
    from yure.ingest.event import Status, event_from_json

    assert is_archived(event_from_json(event_json()))
    assert not is_archived(event_from_json(event_json(status=Status.EXERCISE)))


def summary(**fields: object) -> EventSummary:
    s = summarize([BASE])
    return dataclasses.replace(s, **fields)  # type: ignore[arg-type]


def test_csv_and_geojson_forms() -> None:
    located = summary(headline='comma, "quote"\nnewline')
    nowhere = summary(event_id="20240101000001", lat=None, lon=None, cancelled=True)
    text = wire.csv_header() + wire.csv_rows([located, nowhere])
    assert text.startswith("\ufeffevent_id,time,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[1][wire.CSV_COLUMNS.index("headline")] == 'comma, "quote"\nnewline'
    assert rows[2][wire.CSV_COLUMNS.index("cancelled")] == "true"
    assert rows[1][wire.CSV_COLUMNS.index("time")] == "1970-01-01T09:16:40+09:00"
    feature = orjson.loads(wire.geojson_feature(located))
    assert feature["geometry"] == {"type": "Point", "coordinates": [139.0, 35.0]}
    assert orjson.loads(wire.geojson_feature(nowhere))["geometry"] is None
    assert wire.event_path("a b/c") == "/events/a%20b%2Fc"
