"""``GET /events/{event_id}``: one archived event's page, shareable, with Open Graph tags.

The page is ``web/static/event.html``; its script draws everything from
``/api/history/{event_id}``. Link previews (which run no script) need the title and a
description in the HTML itself, so this handler fills the template's ``{{title}}``,
``{{description}}``, ``{{url}}`` and ``{{heading}}`` from the archived summary — every
value HTML-escaped. An unknown event answers 404 with the same page (its script says so).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from aiohttp import web

from yure.archive.errors import ArchiveError, QueryError, UnknownEvent
from yure.archive.facts import EventSummary
from yure.archive.http import ARCHIVE
from yure.archive.query import check_event_id
from yure.archive.wire import iso_jst
from yure.web.pages import CACHE_REVALIDATE, STATIC_DIR, AssetError
from yure.web.security import Policy, security_headers

TEMPLATE_NAME = "event.html"
#: Longest template accepted, in bytes.
MAX_TEMPLATE_BYTES = 64 * 1024
SITE_NAME = "yure 揺れ"
NOT_FOUND_TITLE = "記録が見つかりません"
#: JMA's words for the split intensity classes (震度階級).
INTENSITY_WORDS: Mapping[str, str] = {"5-": "5弱", "5+": "5強", "6-": "6弱", "6+": "6強"}
_SLOTS = ("title", "description", "url", "heading")


def describe(summary: EventSummary) -> tuple[str, str]:
    """(title, description) of an event for people and link previews, in Japanese."""
    stamp = iso_jst(summary.first_at)
    when = f"{stamp[:4]}年{int(stamp[5:7])}月{int(stamp[8:10])}日 {stamp[11:16]}"
    parts = [when]
    if summary.hypocenter_name:
        parts.append(summary.hypocenter_name)
    if summary.magnitude is not None:
        parts.append(f"M{summary.magnitude:.1f}")
    if summary.max_intensity is not None:
        value = summary.max_intensity.value
        parts.append(f"最大震度{INTENSITY_WORDS.get(value, value)}")
    if summary.cancelled:
        parts.append("（取消）")
    title = f"{' '.join(parts)} {summary.title} — {SITE_NAME}"
    return title, summary.headline or summary.title


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{{slot}}`` replaced by its HTML-escaped value."""
    page = template
    for slot in _SLOTS:
        page = page.replace("{{" + slot + "}}", html.escape(values.get(slot, ""), quote=True))
    return page


def _load_template() -> str:
    path = STATIC_DIR / TEMPLATE_NAME
    if not path.is_file() or path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise AssetError(f"{path}: missing or over MAX_TEMPLATE_BYTES={MAX_TEMPLATE_BYTES}")
    return path.read_text(encoding="utf-8")


def setup(app: web.Application) -> None:
    """Register ``/events/{event_id}`` (needs the archive of :mod:`archive.http`).

    Raises:
        AssetError: the template is missing or too large.
    """
    template = _load_template()

    async def event_page(request: web.Request) -> web.StreamResponse:
        url = str(request.url.with_query(None))
        status = 200
        try:
            record = await request.app[ARCHIVE].event(check_event_id(request.match_info["id"]))
        except (UnknownEvent, QueryError):
            status = 404
            values = {"title": f"{NOT_FOUND_TITLE} — {SITE_NAME}", "heading": NOT_FOUND_TITLE}
        except ArchiveError:
            status = 503
            values = {"title": SITE_NAME, "heading": SITE_NAME}
        else:
            title, description = describe(record.summary)
            values = {"title": title, "description": description, "heading": record.summary.title}
        body = render(template, {**values, "url": url})
        headers = security_headers(Policy.PAGE)
        headers["Cache-Control"] = CACHE_REVALIDATE
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=headers
        )

    app.router.add_get("/events/{id}", event_page)
