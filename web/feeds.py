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
from datetime import UTC, datetime

from aiohttp import web

from yure.broadcast.envelope import Entry
from yure.broadcast.errors import TimelineError
from yure.broadcast.limits import READ_BATCH_ENTRIES
from yure.broadcast.timeline import Timeline
from yure.geo import codes
from yure.geo.errors import GeoError
from yure.ingest.errors import EventJsonError
from yure.ingest.event import Event, InfoType, event_from_payload
from yure.web import keys

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


def clean_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """A string safe for XML 1.0 text, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else ""
    return _NOT_XML_CHAR.sub("", text)[:limit]


def render_feed(
    *, pref: str, pref_name: str, self_url: str, entries: list[tuple[Entry, Event]]
) -> bytes:
    """The Atom document for ``entries`` (newest first) of one prefecture."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "ja")
    _sub(feed, "id", f"urn:yure:feed:{pref}")
    _sub(feed, "title", f"yure — {clean_text(pref_name)}の地震・津波情報")
    _sub(feed, "subtitle", "気象庁の発表に基づく地震・津波情報 (yure)")
    link = ET.SubElement(feed, f"{{{ATOM_NS}}}link")
    link.set("rel", "self")
    link.set("href", clean_text(self_url))
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
        category = ET.SubElement(item, f"{{{ATOM_NS}}}category")
        category.set("term", event.kind.value)
        summary = clean_text(event.headline) or title
        _sub(item, "summary", summary)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


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
        entries = await _newest_official(timeline, pref)
    except TimelineError as err:
        log.warning("atom feed failed pref=%s error=%s", pref, err)
        raise web.HTTPServiceUnavailable(text="timeline unavailable\n") from err
    body = render_feed(
        pref=pref, pref_name=prefecture.name, self_url=str(request.url), entries=entries
    )
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/atom+xml; charset=utf-8",
            "Cache-Control": "public, max-age=15",
        },
    )


async def _newest_official(timeline: Timeline, pref: str) -> list[tuple[Entry, Event]]:
    found: list[tuple[Entry, Event]] = []
    before: str | None = None
    scanned = 0
    while len(found) < MAX_FEED_ENTRIES and scanned < MAX_FEED_SCAN_ENTRIES:
        batch = await timeline.read_before(before, limit=READ_BATCH_ENTRIES)
        if not batch:
            break
        for entry in batch:
            scanned += 1
            before = entry.id
            if pref not in entry.prefs:
                continue
            try:
                event = event_from_payload(entry.payload)  # posts and felt reports: refused
            except EventJsonError:
                continue
            found.append((entry, event))
            if len(found) >= MAX_FEED_ENTRIES:
                break
    return found


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
    element.text = text
    return element
