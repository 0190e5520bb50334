"""ingest.p2p: P2P地震情報 JSON API v2 items → Events and felt-report records."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest import p2p_items as items
from yure.ingest.event import InfoType, Intensity, Kind, Status, TsunamiGrade
from yure.ingest.p2p import (
    JST,
    MAX_P2P_MESSAGE_BYTES,
    Code,
    FeltEvaluation,
    FeltReport,
    Ignored,
    P2PError,
    Relayed,
    parse_message,
    parse_time,
)
from yure.ingest.places import GeoPlaces

PLACES = GeoPlaces.load()


def relayed(item: dict[str, Any]) -> Relayed:
    parsed = parse_message(items.encode(item), PLACES)
    assert isinstance(parsed, Relayed)
    return parsed


@pytest.mark.parametrize(
    ("issue_type", "type_code", "title", "foreign"),
    [
        ("ScalePrompt", "VXSE51", "震度速報", False),
        ("Destination", "VXSE52", "震源に関する情報", False),
        ("ScaleAndDestination", "VXSE53", "震源・震度情報", False),
        ("DetailScale", "VXSE53", "震源・震度情報", False),
        ("Foreign", "VXSE53", "遠地地震に関する情報", True),
        ("Other", "VXSE53", "地震情報", False),
        ("SomethingNew", "VXSE53", "地震情報", False),
    ],
)
def test_551_issue_types_map_to_jma_types(
    issue_type: str, type_code: str, title: str, foreign: bool
) -> None:
    item = relayed(items.quake("a1", issue_type=issue_type, issue_time="2024/04/17 23:20:07"))
    event = item.event
    assert item.code is Code.QUAKE and item.p2p_id == "a1"
    assert (event.type_code, event.kind, event.title, event.foreign) == (
        type_code, Kind.QUAKE, title, foreign,
    )  # fmt: skip
    assert event.official and event.public
    assert event.status is Status.ACTUAL and event.info_type is InfoType.ISSUED
    assert event.serial is None
    # issue.time is Control/DateTime: truncated to JMA's minute-precision ReportDateTime
    assert event.reported_at == datetime(2024, 4, 17, 23, 20, tzinfo=JST)
    assert event.event_id == "p2p-20240417231700"
    assert event.provenance is None
    assert item.user_agent == "jmaxml-seis-parser-go, relay, register-api"


def test_551_points_give_per_prefecture_max_and_prefs() -> None:
    points = [
        ("宮城県", "宮城県中部", True, 30),
        ("宮城県", "宮城県北部", True, 45),
        ("福島県", "福島県浜通り", True, 46),  # 5弱以上未入電: concerns, no value
        ("岩手県", "岩手県沿岸南部", True, 20),
    ]
    event = relayed(
        items.quake("a", issue_type="ScaleAndDestination", issue_time="2024/04/17 23:20:00",
                    max_scale=45, points=points)
    ).event  # fmt: skip
    assert event.max_intensity is Intensity.I5_LOWER
    assert dict(event.intensity) == {"03": Intensity.I2, "04": Intensity.I5_LOWER}
    assert event.prefs == ("03", "04", "07")  # 福島 (epicentre 福島県沖 and 46) included
    assert event.headline == "福島県沖　M4.5　最大震度5弱"


def test_551_sentinels_become_none() -> None:
    event = relayed(
        items.quake("a", issue_type="ScalePrompt", issue_time="2024/04/17 23:20:00",
                    hypo=items.NO_HYPOCENTER, max_scale=-1, quake_time="0001/01/01 00:00:00")
    ).event  # fmt: skip
    assert event.hypocenter is None
    assert event.max_intensity is None
    assert event.event_id == "p2p-20240417232000"  # no earthquake time: the report time
    foreign = relayed(
        items.quake("b", issue_type="Foreign", issue_time="2020/10/20 06:30:00",
                    hypo=items.hypocenter("アラスカ州南方", 54.7, -159.6, -1, 7.4), max_scale=-1)
    ).event  # fmt: skip
    assert foreign.hypocenter is not None
    assert foreign.hypocenter.depth_km is None and foreign.hypocenter.magnitude == 7.4
    assert foreign.prefs == ()
    unknown_mag = relayed(
        items.quake("c", issue_type="Destination", issue_time="2024/04/17 23:20:00",
                    hypo=items.hypocenter("石川県能登地方", 37.5, 137.3, 0, -1))
    ).event  # fmt: skip
    assert unknown_mag.hypocenter is not None
    assert unknown_mag.hypocenter.depth_km == 0.0  # ごく浅い
    assert unknown_mag.hypocenter.magnitude is None
    assert unknown_mag.hypocenter.magnitude_text == "M不明"
    assert unknown_mag.prefs == ("17",)
    no_place = relayed(
        items.quake("d", issue_type="Destination", issue_time="2024/04/17 23:20:00",
                    hypo=items.hypocenter("", -200, -200, -1, 5.0))
    ).event  # fmt: skip
    assert no_place.hypocenter is not None and no_place.hypocenter.lat is None


def test_551_correction_and_unknown_names() -> None:
    corrected = relayed(
        items.quake("a", issue_type="DetailScale", issue_time="2024/04/17 23:20:00",
                    correct="ScaleOnly", points=[("架空県", "どこか", False, 30)])
    )  # fmt: skip
    assert corrected.event.info_type is InfoType.CORRECTED
    assert corrected.partial  # a prefecture name that did not resolve


@pytest.mark.parametrize("agent_key", ["user-agent", "user_agent"])
def test_both_user_agent_spellings(agent_key: str) -> None:
    item = relayed(
        items.quake("a", issue_type="ScalePrompt", issue_time="2024/04/17 23:20:00",
                    agent_key=agent_key)
    )  # fmt: skip
    assert item.user_agent is not None


def test_552_warning_and_lifting() -> None:
    warning = relayed(
        items.tsunami(
            "t1",
            issue_time="2024/04/17 23:30:45",
            areas=[("宮城県", "Watch"), ("福島県", "Warning"), ("岩手県", "MajorWarning"),
                   ("茨城県", "Unknown")],
        )
    )  # fmt: skip
    event = warning.event
    assert (event.type_code, event.kind, event.info_type) == (
        "VTSE41",
        Kind.TSUNAMI,
        InfoType.ISSUED,
    )
    assert event.reported_at == datetime(2024, 4, 17, 23, 30, tzinfo=JST)
    grades = {a.area_name: (a.area_code, a.grade, a.prefs) for a in event.tsunami}
    assert grades["宮城県"] == ("220", TsunamiGrade.ADVISORY, ("04",))
    assert grades["福島県"][1] is TsunamiGrade.WARNING
    assert grades["岩手県"][1] is TsunamiGrade.MAJOR_WARNING
    assert grades["茨城県"][1] is TsunamiGrade.WARNING  # Unknown: not weaker than it may be
    assert event.prefs == ("03", "04", "07", "08")
    assert event.headline == "大津波警報・津波警報・津波注意報"
    assert not warning.partial
    lifted = relayed(
        items.tsunami("t2", issue_time="2024/04/18 01:02:00", areas=[], cancelled=True)
    )
    assert lifted.event.info_type is InfoType.ISSUED  # 解除 is not a 取消
    assert lifted.event.tsunami == () and lifted.event.prefs == ()
    assert lifted.event.headline == "津波警報・注意報は解除されました"


def test_552_arrival_and_height() -> None:
    """P2P's firstHeight/maxHeight (since 2023-11) fill the same fields as VTSE41's."""
    raw = items.tsunami("t3", issue_time="2024/04/17 23:30:45",
                        areas=[("宮城県", "Warning"), ("岩手県", "MajorWarning"),
                               ("福島県", "Watch"), ("茨城県", "Watch")])  # fmt: skip
    raw["areas"][1]["firstHeight"] = {"arrivalTime": "2024/04/17 23:40:00"}
    raw["areas"][1]["maxHeight"] = {"description": "巨大"}
    raw["areas"][2]["firstHeight"] = {"arrivalTime": "soon", "condition": 7}
    raw["areas"][2]["maxHeight"] = {"description": "", "value": "3"}
    del raw["areas"][3]["firstHeight"], raw["areas"][3]["maxHeight"]
    miyagi, iwate, fukushima, ibaraki = relayed(raw).event.tsunami
    assert (miyagi.arrival_time, miyagi.arrival_condition) == (None, "津波到達中と推測")
    assert (miyagi.max_height_m, miyagi.max_height_text) == (1.0, "１ｍ")
    assert iwate.arrival_time == datetime(2024, 4, 17, 23, 40, tzinfo=JST)
    assert (iwate.max_height_m, iwate.max_height_text) == (None, "巨大")
    # malformed details are left out: the warning itself is kept
    assert (fukushima.grade, fukushima.arrival_time, fukushima.arrival_condition) == (
        TsunamiGrade.ADVISORY, None, None,
    )  # fmt: skip
    assert (fukushima.max_height_m, fukushima.max_height_text) == (None, None)
    assert (ibaraki.arrival_time, ibaraki.max_height_m, ibaraki.stations) == (None, None, ())


def test_552_unknown_area_name_is_partial() -> None:
    item = relayed(items.tsunami("t", issue_time="2024/04/17 23:30:00",
                                 areas=[("宮城県", "Watch"), ("架空湾", "Watch")]))  # fmt: skip
    assert item.partial
    assert [a.area_code for a in item.event.tsunami] == ["220", ""]


def test_556_eew_issue_cancel_and_test() -> None:
    item = relayed(items.eew("e1"))
    event = item.event
    assert (event.type_code, event.kind, event.event_id, event.serial) == (
        "VXSE43", Kind.EEW, "20240417231454", 1,
    )  # fmt: skip
    assert event.info_type is InfoType.ISSUED and event.status is Status.ACTUAL
    assert event.reported_at == datetime(2024, 4, 17, 23, 14, 59, tzinfo=JST)  # seconds kept
    assert event.max_intensity is Intensity.I5_LOWER  # max scaleFrom; 99 (over) is no class
    assert event.prefs == ("38", "39")
    assert event.hypocenter is not None and event.hypocenter.depth_km == 40.0
    assert event.headline == "豊後水道　強い揺れに警戒してください"
    cancelled = relayed(items.eew("e2", serial="2", cancelled=True)).event
    assert cancelled.info_type is InfoType.CANCELLED and cancelled.serial == 2
    assert cancelled.hypocenter is None and cancelled.prefs == ()
    assert relayed(items.eew("e3", test=True)).event.status is Status.TEST
    integer_serial = dict(items.eew("e4"), issue={"time": "2024/04/17 23:14:59",
                                                  "eventId": "1", "serial": 3})  # fmt: skip
    assert relayed(integer_serial).event.serial == 3
    unknown = relayed(items.eew("e5", areas=[("架空", 30.0, 30.0)]))
    assert unknown.partial and unknown.event.prefs == ()


def test_561_and_9611_are_typed_records() -> None:
    report = parse_message(items.encode(items.userquake("u1", area=250)), PLACES)
    assert report == FeltReport(
        "u1", 250, "13", datetime(2024, 4, 17, 23, 15, 2, 120000, tzinfo=JST)
    )
    abroad = parse_message(items.encode(items.userquake("u2", area=905)), PLACES)
    assert isinstance(abroad, FeltReport) and abroad.pref is None
    evaluation = parse_message(items.encode(items.evaluation("v1")), PLACES)
    assert isinstance(evaluation, FeltEvaluation)
    assert evaluation.level == 1 and evaluation.count == 12
    assert [(a.area_code, a.pref) for a in evaluation.areas] == [(10, "01"), (250, "13")]
    assert evaluation.areas[0].confidence == -1 and evaluation.areas[0].display == "F"
    assert evaluation.started_at == datetime(2024, 4, 17, 23, 15, 1, 900000, tzinfo=JST)
    odd = parse_message(items.encode(items.evaluation("v2", confidence=0.5)), PLACES)
    assert isinstance(odd, FeltEvaluation) and odd.level is None
    hidden = parse_message(items.encode(items.evaluation("v3", confidence=0)), PLACES)
    assert isinstance(hidden, FeltEvaluation) and hidden.level == 0


@pytest.mark.parametrize("code", [554, 555, 9999])
def test_other_codes_are_ignored(code: int) -> None:
    assert parse_message(orjson.dumps({"id": "x", "code": code, "time": "t"}), PLACES) == Ignored(
        "x", code
    )


@pytest.mark.parametrize(
    ("data", "p2p_id"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"code": 551}', None),
        (b'{"id": "", "code": 551}', None),
        (b'{"id": "x", "code": "551"}', "x"),
        (b'{"id": "x", "code": 551.5}', "x"),
        (orjson.dumps(dict(items.userquake("u"), time="2024-04-17 23:15")), "u"),
        (orjson.dumps(dict(items.userquake("u"), time="2024/02/30 23:15:00")), "u"),
        (orjson.dumps(dict(items.userquake("u"), area=True)), "u"),
        (
            orjson.dumps(
                dict(
                    items.quake("q", issue_type="ScalePrompt", issue_time="2024/04/17 23:20:00"),
                    points="x",
                )
            ),
            "q",
        ),
        (
            orjson.dumps(
                dict(
                    items.quake("q", issue_type="ScalePrompt", issue_time="2024/04/17 23:20:00"),
                    earthquake=[],
                )
            ),
            "q",
        ),
        (
            orjson.dumps(
                dict(items.tsunami("t", issue_time="2024/04/17 23:20:00", areas=[]), cancelled="no")
            ),
            "t",
        ),
        (
            orjson.dumps(
                dict(
                    items.eew("e"),
                    issue={"time": "2024/04/17 23:14:59", "eventId": "", "serial": "1"},
                )
            ),
            "e",
        ),
        (orjson.dumps(dict(items.evaluation("v"), area_confidences={"x": {}})), "v"),
        (orjson.dumps(dict(items.evaluation("v"), area_confidences=[1])), "v"),
    ],
)
def test_bad_messages_raise_p2p_error_with_id(data: bytes, p2p_id: str | None) -> None:
    with pytest.raises(P2PError) as caught:
        parse_message(data, PLACES)
    assert caught.value.p2p_id == p2p_id


def test_oversized_message_is_refused() -> None:
    with pytest.raises(P2PError, match="over"):
        parse_message(b" " * (MAX_P2P_MESSAGE_BYTES + 1), PLACES)


def test_nan_is_refused() -> None:
    data = items.encode(
        items.quake("q", issue_type="Destination", issue_time="2024/04/17 23:20:00")
    )
    with pytest.raises(P2PError):
        parse_message(data.replace(b'"magnitude":4.5', b'"magnitude":1e999'), PLACES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020/12/03 20:02:23.548", datetime(2020, 12, 3, 20, 2, 23, 548000, tzinfo=JST)),
        ("2020/12/03 04:57:31.17", datetime(2020, 12, 3, 4, 57, 31, 170000, tzinfo=JST)),
        ("2020/12/03 04:57:31", datetime(2020, 12, 3, 4, 57, 31, tzinfo=JST)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.reference
def test_real_payloads(reference_dir: Path) -> None:
    samples = reference_dir / "p2pquake/samples"
    parsed = {
        path.name: parse_message(path.read_bytes(), PLACES)
        for path in sorted(samples.glob("*.json"))
    }
    assert len(parsed) >= 10
    detail = parsed["551_jmaquake_DetailScale_5b901d2af837cf68164a675f.json"]
    assert isinstance(detail, Relayed) and not detail.partial
    assert detail.event.max_intensity is Intensity.I6_UPPER
    assert detail.event.prefs == ("01", "02", "15")
    # 北海道胆振東部地震: JMA's EventID is 20180906030759; P2P's earthquake.time is the
    # minute-rounded 03:08:00 — the EventID cannot be rebuilt from it (docs/ingest.md).
    assert detail.event.event_id == "p2p-20180906030800"
    eew = parsed["556_eew_62ff70ca30fbd9f45f8c77e2.json"]
    assert isinstance(eew, Relayed) and eew.event.event_id == "20220811005302"
    assert eew.event.prefs == ("01",) and eew.user_agent is not None
    lifted = parsed["552_jmatsunami_cancelled_5d090bbe02add629bb6fbd3a.json"]
    assert isinstance(lifted, Relayed) and lifted.event.tsunami == ()
    old = parsed["552_jmatsunami_5d615d7cb94edb2ab8d60a0e.json"]
    assert isinstance(old, Relayed) and not old.partial and len(old.event.tsunami) == 8
    assert isinstance(parsed["554_eewdetection_5fba381b02add611947aef21.json"], Ignored)
    assert isinstance(parsed["555_areapeers_5fc91bea02add60b346980cc.json"], Ignored)
    assert isinstance(parsed["561_userquake_5fc8c5bf02add60b2f6979d0.json"], FeltReport)
    evaluation = parsed["9611_userquake_evaluation_5fc5796b3e0ed0bbcef64215.json"]
    assert isinstance(evaluation, FeltEvaluation) and evaluation.level == 4
    assert len(evaluation.areas) == 11


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_shaped = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=8),
        "code": st.sampled_from([551, 552, 556, 561, 9611, 555]),
    },
    optional={
        "issue": _json,
        "earthquake": _json,
        "points": _json,
        "areas": _json,
        "cancelled": _json,
        "area": _json,
        "time": st.sampled_from(["2024/04/17 23:20:00", "bad"]) | _json,
        "area_confidences": _json,
        "confidence": _json,
        "count": _json,
        "started_at": _json,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_json, _shaped))
def test_any_json_raises_only_p2p_error(value: object) -> None:
    with contextlib.suppress(P2PError):
        parse_message(orjson.dumps(value), PLACES)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_raise_only_p2p_error(data: bytes) -> None:
    with contextlib.suppress(P2PError):
        parse_message(data, PLACES)
