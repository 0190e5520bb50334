"""Atom feeds people can click: every entry links to its page and carries its text.

Validated three ways: feedparser (as feed readers parse it, no ``bozo``), a RELAX NG
grammar of RFC 4287 (tests/web/atom.rng, through lxml), and RFC 4287 §4.1.1's
co-occurrence rules, which RELAX NG cannot express, checked here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import aiohttp
import feedparser
import orjson
import pytest
import redis.asyncio
from aiohttp import web
from lxml import etree

from tests.broadcast.support import running_server
from tests.support import base_url, serving
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.ingest.event import LgIntensity, event_to_json
from yure.ingest.telegram import parse_telegram
from yure.web import keys
from yure.web.feeds import ATOM_NS, atom_feed, entry_text

FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"
ATOM_RNG = etree.RelaxNG(etree.parse(str(Path(__file__).with_name("atom.rng"))))
A = f"{{{ATOM_NS}}}"


def fixture_envelope(name: str) -> Envelope:
    event = parse_telegram((FIXTURES / name).read_bytes())
    wire = event_to_json(event)
    return Envelope(name, wire["kind"], tuple(wire["prefs"]), orjson.dumps(wire))


def check_atom(body: bytes) -> etree._Element:
    """Fail unless ``body`` is a valid Atom feed by all three checks; return its root."""
    root = etree.fromstring(body)
    assert ATOM_RNG.validate(root), ATOM_RNG.error_log
    for entry in root.iterfind(f"{A}entry"):
        links = entry.findall(f"{A}link")
        alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
        # §4.1.1: an entry without content MUST have an alternate link; at most one
        # alternate per (type, hreflang).
        assert entry.find(f"{A}content") is not None or alternates
        pairs = [(link.get("type"), link.get("hreflang")) for link in alternates]
        assert len(pairs) == len(set(pairs))
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return root


async def test_entries_link_to_their_page_and_carry_text(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        aiohttp.ClientSession() as http,
    ):
        event_ids = {}
        for pref, name in (("38", "VXSE53_prefixed.xml"), ("13", "VTSE41_major_tokyo_bay.xml")):
            envelope = fixture_envelope(name)
            event_ids[pref] = orjson.loads(envelope.payload)["event_id"]
            await server.timeline.append(envelope)
        bodies = {}
        for pref in ("13", "38"):
            async with http.get(f"{server.base}/feeds/{pref}.atom") as resp:
                assert resp.status == 200
                bodies[pref] = await resp.read()
    for pref, body in bodies.items():
        root = check_atom(body)
        assert len(root.findall(f"{A}entry")) == 1
        parsed = feedparser.parse(body)
        (item,) = parsed.entries
        # Each entry links to its event's page (web/event_page.py).
        assert item.link == f"{server.base}/events/{event_ids[pref]}"
        assert parsed.feed.link == f"{server.base}/?prefs={pref}"
        assert item.summary
        assert item.content[0].type == "text/plain"
        assert item.content[0].value.startswith(item.summary)
    tsunami = feedparser.parse(bodies["13"]).entries[0].content[0].value
    quake = feedparser.parse(bodies["38"]).entries[0].content[0].value
    assert "大津波警報" in tsunami
    assert "震源" in quake and "最大震度" in quake


async def test_entries_link_to_the_live_page_without_an_event_page(
    redis_url: str, tmp_path: Path
) -> None:
    """An app without ``/events/{id}`` (the feed alone) links to the live page."""
    client = redis.asyncio.Redis.from_url(redis_url)
    app = web.Application()
    app[keys.TIMELINE] = Timeline(client, retention_s=48 * 3600)
    app.router.add_get(r"/feeds/{pref:\d{2}}.atom", atom_feed)
    try:
        async with serving(app) as runner, aiohttp.ClientSession() as http:
            base = base_url(runner)
            await app[keys.TIMELINE].append(fixture_envelope("VTSE41_major_tokyo_bay.xml"))
            async with http.get(f"{base}/feeds/13.atom") as resp:
                body = await resp.read()
    finally:
        await client.aclose()
    check_atom(body)
    assert feedparser.parse(body).entries[0].link == f"{base}/?prefs=13"


def test_entry_text_of_a_quake_keeps_jma_values() -> None:
    event = parse_telegram((FIXTURES / "VXSE53_prefixed.xml").read_bytes())
    text = entry_text(event, "13", "東京都")
    assert event.hypocenter is not None
    assert text.splitlines()[0] == event.headline
    assert event.hypocenter.name in text
    assert event.reported_at.isoformat() in text


def test_entry_text_of_a_tsunami_carries_arrival_height_and_observations() -> None:
    event = parse_telegram((FIXTURES / "VTSE51_arrivals.xml").read_bytes())
    iwate = entry_text(event, "03", "岩手県").splitlines()
    assert "岩手県: 大津波警報  第１波の到達を確認  予想される津波の高さ: １０ｍ超" in iwate
    assert "観測 宮古: １．２ｍ 上昇中" in iwate and "観測 久慈港: 微弱" in iwate
    miyagi = entry_text(event, "04", "宮城県").splitlines()
    assert (
        "宮城県: 津波警報  第１波の到達予想時刻: 2024-09-01T12:40:00+09:00  ただちに津波来襲と予測"
        "  予想される津波の高さ: ３ｍ"
    ) in miyagi
    assert not any(line.startswith("観測") for line in miyagi)


def test_entry_text_of_long_period_motion() -> None:
    data = (FIXTURES / "VXSE53_corrected_not_received.xml").read_bytes()
    event = parse_telegram(data)
    assert "長周期地震動階級" not in entry_text(event, "04", "宮城県")
    long_period = dataclasses.replace(event, max_lg_intensity=LgIntensity.L3)
    assert "長周期地震動階級: 3" in entry_text(long_period, "04", "宮城県").splitlines()


@pytest.mark.parametrize("bad", [b"<feed xmlns='http://www.w3.org/2005/Atom'/>"])
def test_the_grammar_refuses_a_feed_without_id_title_updated(bad: bytes) -> None:
    assert not ATOM_RNG.validate(etree.fromstring(bad))
