"""ingest.feed: JMA Atom feeds → typed entries."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest.telegrams import BILLION_LAUGHS, JST, AtomEntry, atom_feed, file_name
from yure.ingest import feed
from yure.ingest.errors import FeedError
from yure.ingest.feed import MAX_FEED_BYTES, file_name_of, parse_feed, type_code_of

BASE = "https://www.data.jma.go.jp/developer/xml/"
T0 = datetime(2024, 4, 17, 14, 20, tzinfo=UTC)


def _url(stamp: datetime, type_code: str) -> str:
    return BASE + "data/" + file_name(stamp, type_code)


def _feed(*entries: AtomEntry) -> bytes:
    return atom_feed(entries, self_url=BASE + "feed/eqvol.xml", updated=T0)


def test_entries_come_oldest_first_with_type_code_from_file_name() -> None:
    later = AtomEntry(_url(T0, "VXSE53"), "震源・震度に関する情報", T0, "【震源・震度情報】…")
    earlier = AtomEntry(
        _url(T0 - timedelta(minutes=2), "VXSE51"), "震度速報", T0 - timedelta(minutes=2)
    )
    parsed = parse_feed(_feed(later, earlier))
    assert parsed.title == "高頻度（地震火山）"
    assert parsed.updated == T0
    assert [e.type_code for e in parsed.entries] == ["VXSE51", "VXSE53"]
    first = parsed.entries[0]
    assert first.id == first.url == earlier.url
    assert first.updated == T0 - timedelta(minutes=2)
    assert first.updated.tzinfo is not None
    assert first.file_name == file_name(T0 - timedelta(minutes=2), "VXSE51")
    assert parsed.entries[1].content == "【震源・震度情報】…"
    assert parsed.skipped == () and parsed.truncated == 0


def test_same_second_entries_are_ordered_by_id() -> None:
    a = AtomEntry(BASE + "data/20240417142000_0_VXSE51_010000.xml", "震度速報", T0)
    b = AtomEntry(BASE + "data/20240417142000_1_VXSE52_010000.xml", "震源に関する情報", T0)
    assert [e.type_code for e in parse_feed(_feed(b, a)).entries] == ["VXSE51", "VXSE52"]


@pytest.mark.reference
def test_old_era_feed_from_reference(reference_dir: Path) -> None:
    data = (reference_dir / "jma/atom/earthquake-sample-1.xml").read_bytes()
    parsed = parse_feed(data)
    (entry,) = parsed.entries
    assert entry.id == "urn:uuid:9b43a982-fecf-3866-95e7-c375226a7c87"
    assert entry.url.endswith("9b43a982-fecf-3866-95e7-c375226a7c87.xml")
    assert entry.type_code is None  # uuid names carry no type code
    assert entry.title == "震度速報"
    assert entry.updated == datetime(2016, 3, 8, 4, 34, 18, tzinfo=UTC)
    assert entry.content.startswith("【震度速報】")


@pytest.mark.reference
def test_weather_reference_feed_has_two_entries(reference_dir: Path) -> None:
    parsed = parse_feed((reference_dir / "jma/atom/weather-sample.xml").read_bytes())
    assert len(parsed.entries) == 2


def test_entries_without_link_time_or_id_are_skipped_not_fatal() -> None:
    doc = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>
<updated>2024-04-17T14:20:00Z</updated>
<entry><title>a</title><id>no-link</id><updated>2024-04-17T14:20:00Z</updated></entry>
<entry><title>b</title><id>no-time</id><link href="https://x.example/b.xml"/></entry>
<entry><title>c</title><updated>2024-04-17T14:20:00Z</updated><link href="https://x.example/c.xml"/></entry>
<entry><title>d</title><id>ftp</id><updated>2024-04-17T14:20:00Z</updated><link href="ftp://x.example/d.xml"/></entry>
<entry><title>e</title><id>ok</id><updated>2024-04-17T14:20:00Z</updated>
  <link rel="alternate" type="text/html" href="https://x.example/e.html"/>
  <link type="application/xml" href="https://x.example/e.xml"/><summary>s</summary></entry>
</feed>"""
    parsed = parse_feed(doc)
    assert [e.id for e in parsed.entries] == ["ok"]
    assert parsed.entries[0].url == "https://x.example/e.xml"  # the application/xml link
    assert parsed.entries[0].content == "s"  # summary when there is no content
    assert len(parsed.skipped) == 4
    assert any("no link" in reason for reason in parsed.skipped)
    assert any("no updated time" in reason for reason in parsed.skipped)
    assert any("not an http(s) URL" in reason for reason in parsed.skipped)
    assert any("without a usable id" in reason for reason in parsed.skipped)


def test_first_link_when_none_is_application_xml() -> None:
    doc = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>
<entry><id>i</id><updated>2024-04-17T14:20:00Z</updated><link href="https://x.example/i"/></entry></feed>"""
    assert parse_feed(doc).entries[0].url == "https://x.example/i"


def test_entries_over_the_cap_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "MAX_FEED_ENTRIES", 2)
    entries = [
        AtomEntry(_url(T0 - timedelta(minutes=i), "VXSE51"), "震度速報", T0 - timedelta(minutes=i))
        for i in range(3)
    ]
    parsed = parse_feed(_feed(*entries))
    assert parsed.truncated == 1
    # JMA lists newest first: the two newest are kept.
    assert [e.updated for e in parsed.entries] == [T0 - timedelta(minutes=1), T0]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BILLION_LAUGHS, "refused"),
        (b'<?xml version="1.0"?><!DOCTYPE feed SYSTEM "http://x/x.dtd"><feed/>', "refused"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "not well-formed"),
        (b"", "not well-formed"),
        (b"<rss version='2.0'><channel><title>t</title></channel></rss>", "not an Atom feed"),
        (b"<html><body>maintenance</body></html>", "not an Atom feed"),
    ],
)
def test_bad_documents_raise_feed_error(data: bytes, words: str) -> None:
    with pytest.raises(FeedError, match=words):
        parse_feed(data)


def test_oversized_feed_is_refused_before_parsing() -> None:
    with pytest.raises(FeedError, match="MAX_FEED_BYTES"):
        parse_feed(b" " * (MAX_FEED_BYTES + 1))


def test_feed_error_wraps_feedparser_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("parser broke")

    monkeypatch.setattr("feedparser.parse", boom)
    with pytest.raises(FeedError, match="parser broke"):
        parse_feed(_feed())


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("20210216071046_0_VXSE53_270000.xml", "VXSE53"),
        ("20231009064018_0_VTSE41_010000.xml", "VTSE41"),
        ("9b43a982-fecf-3866-95e7-c375226a7c87.xml", None),
        ("20231009064018_0_VTSE41_010000.xml.gz", None),
        ("", None),
    ],
)
def test_type_code_of(name: str, code: str | None) -> None:
    assert type_code_of(name) == code


def test_file_name_of() -> None:
    assert file_name_of(BASE + "data/a_b.xml?x=1") == "a_b.xml"
    assert file_name_of("https://x.example/dir/") == ""


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_feed_error(data: bytes) -> None:
    with contextlib.suppress(FeedError):
        parse_feed(data)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
            st.sampled_from(["VXSE51", "VXSE52", "VXSE53", "VTSE41", "VFVO50"]),
            st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=20),
        ),
        max_size=8,
    )
)
def test_generated_feeds_round_trip(rows: list[tuple[datetime, str, str]]) -> None:
    entries = [
        AtomEntry(
            _url(stamp.replace(tzinfo=UTC), code) + f"?{i}",
            title,
            stamp.replace(tzinfo=UTC, microsecond=0).astimezone(JST),
        )
        for i, (stamp, code, title) in enumerate(rows)
    ]
    parsed = parse_feed(_feed(*entries))
    assert len(parsed.entries) == len(entries)
    assert [e.updated for e in parsed.entries] == sorted(e.updated for e in parsed.entries)
    assert {e.type_code for e in parsed.entries} <= {code for _s, code, _t in rows}
