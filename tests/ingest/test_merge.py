"""ingest.merge: the same JMA item via the feed or via P2P地震情報 gets the same key."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from tests.ingest import p2p_items as items
from tests.ingest import telegrams as jma
from yure.ingest.event import Event, Provenance, Source, TsunamiGrade
from yure.ingest.merge import identify, is_partial, item_key, rank_of, stream_of
from yure.ingest.p2p import Relayed, parse_message
from yure.ingest.places import GeoPlaces
from yure.ingest.telegram import parse_telegram

PLACES = GeoPlaces.load()
REPORT = datetime(2024, 4, 17, 23, 20, tzinfo=jma.JST)
EVENT_ID = "20240417231712"


def jma_event(data: bytes, type_code: str) -> Event:
    event = parse_telegram(data, file_name=jma.file_name(REPORT, type_code))
    provenance = Provenance(Source.JMA, "https://x/y.xml", None, None)
    return dataclasses.replace(event, provenance=provenance)


def p2p_event(item: dict[str, object]) -> Event:
    parsed = parse_message(items.encode(item), PLACES)
    assert isinstance(parsed, Relayed) and not parsed.partial
    return dataclasses.replace(parsed.event, provenance=Provenance(Source.P2P, None, None, None))


AREA_POINTS = [("宮城県", "宮城県中部", True, 30), ("福島県", "福島県浜通り", True, 30)]


def test_vxse51_and_scale_prompt_share_a_key() -> None:
    feed = jma_event(jma.quake("VXSE51", event_id=EVENT_ID, report_time=REPORT), "VXSE51")
    relay = p2p_event(
        items.quake("a", issue_type="ScalePrompt", issue_time="2024/04/17 23:20:07",
                    hypo=items.NO_HYPOCENTER, points=AREA_POINTS)
    )  # fmt: skip
    assert item_key(feed) == item_key(relay)
    assert item_key(feed).startswith("jma:VXSE51:202404172320:issued:")


def test_vxse52_and_destination_share_a_key() -> None:
    feed = jma_event(jma.quake("VXSE52", event_id=EVENT_ID, report_time=REPORT), "VXSE52")
    relay = p2p_event(
        items.quake("a", issue_type="Destination", issue_time="2024/04/17 23:20:03", max_scale=-1)
    )
    assert item_key(feed) == item_key(relay)


def test_vxse53_and_both_p2p_halves_share_a_key() -> None:
    feed = jma_event(jma.quake("VXSE53", event_id=EVENT_ID, serial=1, report_time=REPORT), "VXSE53")
    # P2P emits ScaleAndDestination (the Headline's areas only) and DetailScale (every
    # station) from one VXSE53: their point sets differ from each other and from JMA's.
    area_half = p2p_event(
        items.quake("a", issue_type="ScaleAndDestination", issue_time="2024/04/17 23:20:09",
                    points=AREA_POINTS[:1])
    )  # fmt: skip
    station_half = p2p_event(
        items.quake("b", issue_type="DetailScale", issue_time="2024/04/17 23:20:09",
                    points=[("宮城県", "観測点", False, 30), ("福島県", "観測点", False, 30),
                            ("山形県", "観測点", False, 10)])
    )  # fmt: skip
    assert item_key(feed) == item_key(area_half) == item_key(station_half)


@pytest.mark.parametrize(
    "other",
    [
        items.quake("x", issue_type="DetailScale", issue_time="2024/04/17 23:21:00"),  # minute
        items.quake("x", issue_type="DetailScale", issue_time="2024/04/17 23:20:00", max_scale=40),
        items.quake("x", issue_type="DetailScale", issue_time="2024/04/17 23:20:00",
                    hypo=items.hypocenter(magnitude=4.6)),
        items.quake("x", issue_type="DetailScale", issue_time="2024/04/17 23:20:00",
                    hypo=items.hypocenter(lat=37.7)),
        items.quake("x", issue_type="DetailScale", issue_time="2024/04/17 23:20:00",
                    correct="ScaleOnly"),
        items.quake("x", issue_type="Destination", issue_time="2024/04/17 23:20:00"),
    ],
)  # fmt: skip
def test_different_items_get_different_keys(other: dict[str, object]) -> None:
    base = items.quake("b", issue_type="DetailScale", issue_time="2024/04/17 23:20:00")
    assert item_key(p2p_event(base)) != item_key(p2p_event(other))


def test_vtse41_and_552_share_a_key() -> None:
    feed = jma_event(
        jma.tsunami(
            (
                jma.TsunamiItem("220", "宮城県", "62", "津波注意報"),
                jma.TsunamiItem("250", "福島県", "51", "津波警報"),
                jma.TsunamiItem("210", "岩手県", "71", "津波予報（若干の海面変動）"),
            ),
            event_id=EVENT_ID,
            report_time=REPORT,
        ),
        "VTSE41",
    )
    # P2P leaves out forecast-only areas.
    relay = p2p_event(
        items.tsunami("t", issue_time="2024/04/17 23:20:58",
                      areas=[("福島県", "Warning"), ("宮城県", "Watch")])
    )  # fmt: skip
    assert item_key(feed) == item_key(relay)
    assert stream_of(feed, item_key(feed)) == stream_of(relay, item_key(relay)) == "tsunami:VTSE41"


@pytest.mark.reference
def test_reference_eew_and_556_share_keys_and_stream(reference_dir: Path) -> None:
    xml = reference_dir / "jma/xml"
    issued = parse_telegram((xml / "37_01_01_240613_VXSE43.xml").read_bytes(), file_name="VXSE43")
    cancelled = parse_telegram(
        (xml / "37_01_03_240613_VXSE43.xml").read_bytes(), file_name="VXSE43"
    )
    relay_issued = p2p_event(items.eew("e1", serial="1", areas=[("愛媛", 45.0, 99.0)]))
    relay_cancelled = p2p_event(items.eew("e2", serial="2", cancelled=True))
    assert item_key(issued) == item_key(relay_issued) == "jma:VXSE43:20240417231454:1:issued"
    assert item_key(cancelled) == item_key(relay_cancelled)
    assert {stream_of(e, "") for e in (issued, cancelled, relay_issued)} == {"eew:20240417231454"}
    forecast = parse_telegram((xml / "36_01_01_240613_VXSE44.xml").read_bytes(), file_name="VXSE44")
    assert stream_of(forecast, "") == "eew:20240417231454"  # one serial sequence per EventID
    assert item_key(forecast) != item_key(issued)


@pytest.mark.reference
def test_reference_vtse41_keys_follow_the_warning_areas(reference_dir: Path) -> None:
    data = (reference_dir / "jma/xml/32-39_11_02_250206_VTSE41.xml").read_bytes()
    feed = parse_telegram(data, file_name="VTSE41")
    words = {TsunamiGrade.MAJOR_WARNING: "MajorWarning", TsunamiGrade.WARNING: "Warning",
             TsunamiGrade.ADVISORY: "Watch"}  # fmt: skip
    areas = [(a.area_name, words[a.grade]) for a in feed.tsunami if a.grade in words]
    assert areas  # 2011-03-11 14:49: 大津波警報 and more
    parsed = parse_message(
        items.encode(items.tsunami("t", issue_time="2011/03/11 14:49:59", areas=areas)), PLACES
    )
    assert isinstance(parsed, Relayed)
    assert item_key(feed) == item_key(parsed.event)
    # The 2011 telegram still says 奄美諸島・トカラ列島 (today 奄美群島・トカラ列島): a
    # name that does not resolve makes the P2P copy partial, so the JMA copy (with codes)
    # replaces it instead of being taken for a duplicate.
    assert parsed.partial
    assert item_key(parsed.event, partial=True) != item_key(feed)


def test_jma_only_types_key_on_event_serial_and_time() -> None:
    event = jma_event(
        jma.quake("VXSE53", event_id=EVENT_ID, serial=1, report_time=REPORT), "VXSE53"
    )
    notice = dataclasses.replace(event, type_code="VZSE40", serial=None)
    assert item_key(notice) == f"jma:VZSE40:{EVENT_ID}:-:issued:20240417232000"
    assert stream_of(notice, "") == f"VZSE40:{EVENT_ID}"


def test_partial_keys() -> None:
    event = p2p_event(items.quake("a", issue_type="DetailScale", issue_time="2024/04/17 23:20:00"))
    partial = item_key(event, partial=True)
    assert is_partial(partial) and not is_partial(item_key(event))
    assert partial.startswith(item_key(event))


def test_streams() -> None:
    feed = jma_event(jma.quake("VXSE53", event_id=EVENT_ID, serial=1, report_time=REPORT), "VXSE53")
    assert identify(feed).stream == f"VXSE53:{EVENT_ID}"
    relay = p2p_event(items.quake("a", issue_type="DetailScale", issue_time="2024/04/17 23:20:00"))
    identity = identify(relay)
    # no EventID: a P2P quake item is its own stream (duplicates caught, order not judged)
    assert identity.stream == f"item:{identity.key}"
    assert identify(relay, partial=True).stream == f"item:{item_key(relay, partial=True)}"
    unattached = dataclasses.replace(relay, provenance=None)
    assert identify(unattached).stream == "VXSE53:p2p-20240417231700"


def test_rank_orders_serial_then_report_time() -> None:
    feed = jma_event(jma.quake("VXSE53", event_id=EVENT_ID, serial=2, report_time=REPORT), "VXSE53")
    assert rank_of(feed) == (2, int(REPORT.timestamp()))
    assert rank_of(dataclasses.replace(feed, serial=None)) == (-1, int(REPORT.timestamp()))
