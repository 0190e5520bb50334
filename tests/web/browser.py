"""Helpers of the browser tests: pages opened and watched, screenshots, and timeline
entries made from the project's JMA fixtures. The ``browser`` fixture (one Chromium per
test module) is in ``tests/web/conftest.py``.

Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from playwright._impl._api_structures import SetCookieParam
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    ViewportSize,
    expect,
)

from tests.support import base_url, serving
from yure.broadcast.envelope import Envelope
from yure.broadcast.timeline import Timeline
from yure.ingest.event import event_to_json
from yure.ingest.telegram import parse_telegram

#: Bound of every wait on the page (Playwright's expect timeout), in milliseconds.
WAIT_MS = 10_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
JST = timezone(timedelta(hours=9))

expect.set_options(timeout=WAIT_MS)

#: JMA colours (web/static/js/palette.js) the tests look for.
JMA_INTENSITY = {"3": "#0041FF", "5-": "#FFE600", "5+": "#FF9900", "6-": "#FF2800"}
JMA_TSUNAMI = {"major_warning": "#C800FF", "warning": "#FF2800", "advisory": "#FAF500"}


@dataclasses.dataclass
class Watch:
    """What a page did that a test must notice: uncaught errors, CSP violations,
    console errors, dialogs (an XSS that ran ``alert``)."""

    errors: list[str] = dataclasses.field(default_factory=list)
    dialogs: list[str] = dataclasses.field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" or "Content Security Policy" in msg.text:
            self.errors.append(f"console {msg.type}: {msg.text}")

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def assert_clean(self, *, allow: tuple[str, ...] = ()) -> None:
        unexpected = [e for e in self.errors if not any(a in e for a in allow)]
        assert not unexpected, unexpected
        assert not self.dialogs, self.dialogs


@asynccontextmanager
async def opened(
    browser: Browser,
    url: str,
    *,
    viewport: ViewportSize = DESKTOP,
    wait_live: bool = True,
    on_page: Callable[[Page], None] | None = None,
    cookies: list[SetCookieParam] | None = None,
    timezone_id: str = "Asia/Tokyo",
    **context_args: Any,
) -> AsyncIterator[tuple[Page, Watch]]:
    """A fresh context and page at ``url`` (Japanese locale, JST unless ``timezone_id``
    says otherwise), watched; when ``wait_live``, returns once the live stream is
    connected. ``on_page`` runs before the page loads (to listen to its events)."""
    context: BrowserContext = await browser.new_context(
        viewport=viewport, locale="ja-JP", timezone_id=timezone_id, **context_args
    )
    context.set_default_timeout(WAIT_MS)
    if cookies:
        await context.add_cookies(cookies)
    page = await context.new_page()
    watch = Watch()
    watch.attach(page)
    if on_page is not None:
        on_page(page)
    try:
        await page.goto(url)
        if wait_live:
            await page.wait_for_selector('#stream-state[data-state="live"]', timeout=WAIT_MS)
        yield page, watch
    finally:
        await context.close()


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/ (look at it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


# --- timeline entries ---------------------------------------------------------------


def fixture_event(name: str, **overrides: Any) -> dict[str, Any]:
    """The wire JSON of ``tests/ingest/fixtures/<name>.xml``, with fields replaced."""
    event = event_to_json(parse_telegram((FIXTURES / f"{name}.xml").read_bytes()))
    event.update(overrides)
    return event


def hostile_telegram(name: str, headline: str) -> dict[str, Any]:
    """A fixture telegram whose Head/Headline/Text is ``headline`` (XML-escaped in the
    document, so the parser gives it back verbatim)."""
    data = (FIXTURES / f"{name}.xml").read_bytes().decode()
    escaped = headline.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    changed, count = re.subn(
        r"(<(?:\w+:)?Headline>\s*<(?:\w+:)?Text>).*?(</(?:\w+:)?Text>)",
        lambda m: m.group(1) + escaped + m.group(2),
        data,
        count=1,
        flags=re.S,
    )
    assert count == 1, f"{name} has no Headline/Text"
    return event_to_json(parse_telegram(changed.encode()))


def user_event(kind: str, prefs: list[str], **fields: Any) -> dict[str, Any]:
    """A post or felt aggregate as safety_check publishes it (docs/api.md)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    base: dict[str, Any] = {
        "kind": kind,
        "official": False,
        "source": "user",
        "prefs": prefs,
        "created_at": now,
    }
    if kind == "felt":
        base.update(started_at=now, updated_at=now, event_id=None)
    else:
        base.update(lat=None, lon=None, hidden=False)
    base.update(fields)
    return base


async def append(
    timeline: Timeline, key: str, event: dict[str, Any], *, replaces: str | None = None
) -> str:
    """Append ``event`` to the real timeline, as ingest or safety_check would."""
    envelope = Envelope(
        key=key,
        kind=str(event["kind"]),
        prefs=tuple(sorted(event.get("prefs") or ())),
        payload=orjson.dumps(event),
        replaces=replaces,
    )
    return await timeline.append(envelope)


def now_jst() -> str:
    return datetime.now(JST).replace(microsecond=0).isoformat()


@asynccontextmanager
async def other_origin(html: str) -> AsyncIterator[str]:
    """A second local site (another port: another origin) serving one HTML page."""
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/", page)
    async with serving(app) as runner:
        yield base_url(runner) + "/"


async def no_injected_markup(page: Page) -> None:
    """Assert that nothing a payload tried to inject exists or ran."""
    found = await page.evaluate(
        """() => {
            const all = Array.from(document.querySelectorAll('*'));
            const link = (el) => el.getAttribute('href') || el.getAttribute('src')
                || el.getAttribute('action') || '';
            return {
                xss: typeof window.__xss,
                img: document.querySelectorAll(
                    'img, image, video, audio, object, embed, iframe:not(.yure-embed)').length,
                scripts: Array.from(document.scripts).filter((s) => !s.src).length,
                handlers: all.filter((el) =>
                    Array.from(el.attributes).some((a) => a.name.startsWith('on'))).length,
                svgScript: document.querySelectorAll('svg script, svg foreignObject').length,
                javascriptLinks: all.filter((el) => /^\\s*javascript:/i.test(link(el))).length,
            };
        }"""
    )
    assert found == {
        "xss": "undefined",
        "img": 0,
        "scripts": 0,
        "handlers": 0,
        "svgScript": 0,
        "javascriptLinks": 0,
    }, found


async def assert_no_horizontal_overflow(page: Page) -> None:
    """Nothing sticks out sideways (a phone would scroll it): the page is as wide as
    the viewport."""
    widths = await page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
