"""JMA Atom feeds (高頻度／長期フィード) → typed entries. Core module: bytes in, values out.

JMA publishes 防災情報XML through Atom 1.0 feeds under
``https://www.data.jma.go.jp/developer/xml/feed/`` (``eqvol.xml`` lists at least the
last 10 minutes and is refreshed every minute, ``eqvol_l.xml`` the last few days and is
refreshed hourly). Each ``entry`` announces one telegram: ``id`` and ``link@href`` are
the telegram URL, ``updated`` is UTC, ``title`` is the telegram's Control/Title and
``content`` its 【Head/Title】 + Headline text. The data-type code (``VXSE53`` …) is
only in the telegram file name ``{yyyyMMddHHmmss}_{n}_{TYPE}_{office}.xml``
(気象庁防災情報XMLフォーマット 「Atomフィードについて」; see docs/ingest.md).

The document is checked for size and refused when it carries a DTD (no Atom feed
has one; a DTD is how entity bombs come in) before feedparser sees it.
"""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from yure.ingest.errors import FeedError

#: Largest feed document accepted, in bytes. A long-term feed (``eqvol_l.xml``) with a
#: few days of entries is about 1 MiB; this leaves room for a busy week.
MAX_FEED_BYTES = 8 * 1024 * 1024
#: Entries kept from one feed (newest first, as JMA orders them); the rest are dropped
#: and reported in :attr:`Feed.truncated`.
MAX_FEED_ENTRIES = 10_000
#: Longest entry id / URL accepted, in characters.
MAX_ENTRY_ID_CHARS = 2048

#: ``20231009064018_0_VTSE41_010000.xml``: UTC time, serial, 電文種別コード, office code.
_FILE_NAME = re.compile(r"^\d{14}_\d+_(?P<type>[A-Z]{4}\d{2})_\d{6}\.xml$")
_TELEGRAM_LINK_TYPE = "application/xml"


@dataclasses.dataclass(frozen=True, slots=True)
class FeedEntry:
    """One ``<entry>``: the announcement of one telegram."""

    #: Atom ``id``; JMA uses the telegram URL (``urn:uuid:…`` before 2020). Dedup key.
    id: str
    title: str
    #: ``updated`` (UTC, aware).
    updated: datetime
    #: The telegram URL (``link@href``, the ``application/xml`` one when several).
    url: str
    #: ``content``: 【Head/Title】 + Headline text.
    content: str
    #: Last path segment of :attr:`url`.
    file_name: str
    #: 電文種別コード from the file name (``VXSE53``), None when the name has no code.
    type_code: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed. ``entries`` are oldest first (by ``updated``, then id)."""

    title: str
    updated: datetime | None
    entries: tuple[FeedEntry, ...]
    #: Why entries were left out (missing id, link or time; not http(s)).
    skipped: tuple[str, ...] = ()
    #: Entries beyond :data:`MAX_FEED_ENTRIES` that were dropped.
    truncated: int = 0


def type_code_of(file_name: str) -> str | None:
    """The 電文種別コード in a JMA telegram file name, or None.

    >>> type_code_of("20210216071046_0_VXSE53_270000.xml")
    'VXSE53'
    """
    match = _FILE_NAME.match(file_name)
    return match.group("type") if match else None


def file_name_of(url: str) -> str:
    """The last path segment of ``url`` (``""`` when the path ends with ``/``)."""
    return urlsplit(url).path.rsplit("/", 1)[-1]


def _check_xml(data: bytes) -> None:
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(f"feed is {len(data)} bytes, over MAX_FEED_BYTES={MAX_FEED_BYTES}")
    try:
        fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise FeedError(f"feed refused: {type(err).__name__}") from err
    except (ParseError, ValueError) as err:
        raise FeedError(f"feed is not well-formed XML: {err}") from err


def _utc(value: object) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    return datetime(*value[:6], tzinfo=UTC)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _telegram_link(links: object) -> str | None:
    if not isinstance(links, list):
        return None
    hrefs = [(link.get("type"), link.get("href")) for link in links if isinstance(link, dict)]
    for link_type, href in hrefs:
        if link_type == _TELEGRAM_LINK_TYPE and isinstance(href, str) and href:
            return href
    for _type, href in hrefs:
        if isinstance(href, str) and href:
            return href
    return None


def _content(entry: dict[str, object]) -> str:
    contents = entry.get("content")
    if isinstance(contents, list) and contents and isinstance(contents[0], dict):
        return _text(contents[0].get("value"))
    return _text(entry.get("summary"))


def _entry(raw: dict[str, object]) -> FeedEntry | str:
    """A :class:`FeedEntry`, or the reason the entry is unusable."""
    entry_id = _text(raw.get("id")).strip()
    if not entry_id or len(entry_id) > MAX_ENTRY_ID_CHARS:
        return "entry without a usable id"
    url = _telegram_link(raw.get("links"))
    if url is None or len(url) > MAX_ENTRY_ID_CHARS:
        return f"entry {entry_id}: no link"
    if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc:
        return f"entry {entry_id}: link is not an http(s) URL"
    updated = _utc(raw.get("updated_parsed"))
    if updated is None:
        return f"entry {entry_id}: no updated time"
    name = file_name_of(url)
    return FeedEntry(
        id=entry_id,
        title=_text(raw.get("title")),
        updated=updated,
        url=url,
        content=_content(raw),
        file_name=name,
        type_code=type_code_of(name),
    )


def parse_feed(data: bytes) -> Feed:
    """Parse one Atom feed document.

    Entries come back oldest first so that a caller handling them in order sees a
    later serial after an earlier one. Entries that lack an id, a link or a time are
    left out and named in :attr:`Feed.skipped` instead of failing the whole feed.

    Raises:
        FeedError: too large, not well-formed, has a DTD, or is not an Atom feed.
    """
    _check_xml(data)
    try:
        parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    except Exception as err:  # feedparser's own parser errors are not one type
        raise FeedError(f"feed could not be parsed: {err}") from err
    version = _text(parsed.get("version"))
    if not version.startswith("atom"):
        raise FeedError(f"not an Atom feed (feedparser says {version or 'unknown'!r})")
    raw_entries = [dict(e) for e in parsed.get("entries", [])]
    truncated = max(0, len(raw_entries) - MAX_FEED_ENTRIES)
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for raw in raw_entries[:MAX_FEED_ENTRIES]:
        result = _entry(raw)
        if isinstance(result, str):
            skipped.append(result)
        else:
            entries.append(result)
    entries.sort(key=lambda e: (e.updated, e.id))
    header = parsed.get("feed", {})
    return Feed(
        title=_text(header.get("title")),
        updated=_utc(header.get("updated_parsed")),
        entries=tuple(entries),
        skipped=tuple(skipped),
        truncated=truncated,
    )
