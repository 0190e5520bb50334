"""``GET /feeds/{pref}.atom``: an Atom feed (RFC 4287) per prefecture for news CMSs.

Only official items (JMA, directly or via P2P地震情報) tagged with the
prefecture. Every string goes through ElementTree, which escapes ``& < > "``,
after characters XML 1.0 forbids (§2.2 Char) are removed, so any title a
telegram carries yields a well-formed document.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from yure.broadcast.envelope import Entry
from yure.broadcast.errors import TimelineError
from yure.geo import codes
from yure.geo.errors import GeoError
from yure.ingest.event import (
    Event,
    InfoType,
    Intensity,
    TsunamiArea,
    TsunamiGrade,
)
from yure.web import keys
from yure.web.newest import newest_official

log = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Entries per feed.
MAX_FEED_ENTRIES = 50
#: Timeline entries looked at to fill one feed.
MAX_FEED_SCAN_ENTRIES = 5000
#: Longest title / summary we put in a feed.
MAX_TEXT_CHARS = 2000
_NOT_XML_CHAR = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Title prefix of a 取消 / 訂正 telegram, as JMA's own pages write it.
TITLE_PREFIX = {InfoType.CANCELLED: "【取消】", InfoType.CORRECTED: "【訂正】"}
#: 震度 as JMA's pages write it (気象庁震度階級).
INTENSITY_WORDS = {
    Intensity.I1: "震度1",
    Intensity.I2: "震度2",
    Intensity.I3: "震度3",
    Intensity.I4: "震度4",
    Intensity.I5_LOWER: "震度5弱",
    Intensity.I5_UPPER: "震度5強",
    Intensity.I6_LOWER: "震度6弱",
    Intensity.I6_UPPER: "震度6強",
    Intensity.I7: "震度7",
}
#: 津波警報等の種類 as JMA names them.
TSUNAMI_WORDS = {
    TsunamiGrade.MAJOR_WARNING: "大津波警報",
    TsunamiGrade.WARNING: "津波警報",
    TsunamiGrade.ADVISORY: "津波注意報",
    TsunamiGrade.FORECAST: "津波予報（若干の海面変動）",
    TsunamiGrade.NONE: "解除",
}
#: Labels of the entry's text content (Japanese first, as the pages).
LABEL_HYPOCENTER = "震源"
LABEL_MAGNITUDE = "マグニチュード"
LABEL_DEPTH = "深さ"
LABEL_MAX_INTENSITY = "最大震度"
LABEL_REPORTED = "発表"
LABEL_LG_INTENSITY = "長周期地震動階級"
LABEL_ARRIVAL = "第１波の到達予想時刻"
LABEL_HEIGHT = "予想される津波の高さ"
LABEL_OBSERVED = "観測"
#: Where an entry links to: ``(entry, event) -> absolute URL`` of its page.
LinkFor = Callable[[Entry, Event], str]


def clean_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """A string safe for XML 1.0 text, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else ""
    return _NOT_XML_CHAR.sub("", text)[:limit]


def render_feed(
    *,
    pref: str,
    pref_name: str,
    self_url: str,
    entries: list[tuple[Entry, Event]],
    link_for: LinkFor,
    site_url: str,
) -> bytes:
    """The Atom document for ``entries`` (newest first) of one prefecture.

    Each entry has ``link rel="alternate"`` to its page (``link_for``), a ``summary``
    (the headline) and a plain-text ``content`` (RFC 4287 §4.1.1, §4.1.3).
    """
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "ja")
    _sub(feed, "id", f"urn:yure:feed:{pref}")
    _sub(feed, "title", f"yure — {clean_text(pref_name)}の地震・津波情報")
    _sub(feed, "subtitle", "気象庁の発表に基づく地震・津波情報 (yure)")
    link = ET.SubElement(feed, f"{{{ATOM_NS}}}link")
    link.set("rel", "self")
    link.set("href", clean_text(self_url))
    site = ET.SubElement(feed, f"{{{ATOM_NS}}}link")
    site.set("rel", "alternate")
    site.set("type", "text/html")
    site.set("href", clean_text(site_url))
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _sub(author, "name", "yure")
    _sub(feed, "generator", "yure")
    newest = max(
        (event.reported_at for _, event in entries), default=datetime.fromtimestamp(0, tz=UTC)
    )
    _sub(feed, "updated", newest.isoformat())
    for entry, event in entries:
        item = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _sub(item, "id", f"urn:yure:entry:{entry.id}")
        prefix = TITLE_PREFIX.get(event.info_type, "")
        title = clean_text(event.title) or event.kind.value
        _sub(item, "title", prefix + title)
        _sub(item, "updated", event.reported_at.isoformat())
        _sub(item, "published", event.reported_at.isoformat())
        alternate = ET.SubElement(item, f"{{{ATOM_NS}}}link")
        alternate.set("rel", "alternate")
        alternate.set("type", "text/html")
        alternate.set("href", clean_text(link_for(entry, event)))
        category = ET.SubElement(item, f"{{{ATOM_NS}}}category")
        category.set("term", event.kind.value)
        summary = clean_text(event.headline) or title
        _sub(item, "summary", summary).set("type", "text")
        _sub(item, "content", clean_text(entry_text(event, pref, pref_name))).set("type", "text")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def entry_text(event: Event, pref: str, pref_name: str) -> str:
    """The plain-text body of an entry: headline, hypocentre, intensities, tsunami grades
    in this prefecture, time (values as JMA gives them)."""
    lines = [event.headline] if event.headline else []
    hypo = event.hypocenter
    if hypo is not None:
        parts = [f"{LABEL_HYPOCENTER}: {hypo.name}"]
        if hypo.magnitude_text:
            parts.append(f"{LABEL_MAGNITUDE}: {hypo.magnitude_text}")
        if hypo.depth_km is not None:
            parts.append(f"{LABEL_DEPTH}: {hypo.depth_km:g} km")
        lines.append("  ".join(parts))
    if event.max_intensity is not None:
        lines.append(f"{LABEL_MAX_INTENSITY}: {INTENSITY_WORDS[event.max_intensity]}")
    here = event.intensity.get(pref)
    if here is not None:
        lines.append(f"{pref_name}: {INTENSITY_WORDS[here]}")
    if event.max_lg_intensity is not None:
        lines.append(f"{LABEL_LG_INTENSITY}: {event.max_lg_intensity.value}")
    for area in event.tsunami:
        if pref in area.prefs:
            lines.append("  ".join([f"{area.area_name}: {TSUNAMI_WORDS[area.grade]}",
                                    *_arrival_and_height(area)]))  # fmt: skip
    for obs in event.tsunami_observations:
        if pref in obs.prefs and obs.station_name:
            words = [w for w in (obs.max_height_text, obs.max_height_condition) if w]
            lines.append(f"{LABEL_OBSERVED} {obs.station_name}: {' '.join(words)}".rstrip())
    lines.append(f"{LABEL_REPORTED}: {event.reported_at.isoformat()}")
    return "\n".join(lines)


def _arrival_and_height(area: TsunamiArea) -> list[str]:
    """JMA's words for the first arrival and the expected height, as given."""
    parts = []
    if area.arrival_time is not None:
        parts.append(f"{LABEL_ARRIVAL}: {area.arrival_time.isoformat()}")
    if area.arrival_condition:
        parts.append(area.arrival_condition)
    if area.max_height_text:
        parts.append(f"{LABEL_HEIGHT}: {area.max_height_text}")
    return parts


def event_link(request: web.Request, pref: str) -> LinkFor:
    """Links to the event's page ``/events/{event_id}`` when the app serves one, else to the
    live page filtered to the prefecture; absolute, on the public origin (behind a
    proxy: https and the public host, see :mod:`yure.web.proxy`)."""
    base = f"{request.scheme}://{request.host}"
    if any(r.canonical.startswith("/events/{") for r in request.app.router.resources()):
        return lambda entry, event: f"{base}/events/{quote(event.event_id, safe='')}"
    live = f"{base}/?prefs={pref}"
    return lambda entry, event: live


async def atom_feed(request: web.Request) -> web.Response:
    """The feed of ``{pref}`` (a JIS code "01".."47").

    Raises:
        web.HTTPNotFound: not a prefecture code.
        web.HTTPServiceUnavailable: Redis failed.
    """
    pref = request.match_info["pref"]
    try:
        prefecture = codes.prefecture(pref)
    except GeoError as err:
        raise web.HTTPNotFound(text="no such prefecture\n") from err
    timeline = request.app[keys.TIMELINE]
    try:
        entries = await newest_official(
            timeline,
            frozenset({pref}),
            limit=MAX_FEED_ENTRIES,
            max_scan_entries=MAX_FEED_SCAN_ENTRIES,
        )
    except TimelineError as err:
        log.warning("atom feed failed pref=%s error=%s", pref, err)
        raise web.HTTPServiceUnavailable(text="timeline unavailable\n") from err
    body = render_feed(
        pref=pref,
        pref_name=prefecture.name,
        self_url=str(request.url),
        entries=entries,
        link_for=event_link(request, pref),
        site_url=f"{request.scheme}://{request.host}/?prefs={pref}",
    )
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/atom+xml; charset=utf-8",
            "Cache-Control": "public, max-age=15",
        },
    )


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
    element.text = text
    return element
