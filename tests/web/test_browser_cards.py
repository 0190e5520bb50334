"""Timeline cards in Chromium: times are unambiguous and always JST (whatever the
reader's time zone), with their age; English plurals; each card's share action (Web
Share API, else copy link) and the item's own URL opening the live page at that item."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.broadcast.support import running_server
from tests.web.browser import (
    FIXTURES,
    JST,
    PHONE,
    append,
    assert_no_horizontal_overflow,
    fixture_event,
    opened,
    screenshot,
    user_event,
)
from yure.archive.http import ARCHIVE
from yure.ingest.event import event_to_json
from yure.ingest.merge import item_key
from yure.ingest.telegram import parse_telegram

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def older_day() -> date:
    """A day of this year (in JST) that is not today: 3月11日, or 3月12日 on 3月11日."""
    today = datetime.now(JST).date()
    day = date(today.year, 3, 11)
    return day if day != today else date(today.year, 3, 12)


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_times_are_jst_with_date_and_age_in_any_time_zone(
    browser: Browser, redis_url: str, tmp_path: Path, lang: str
) -> None:
    recent = datetime.now(JST) - timedelta(minutes=3, seconds=20)
    day = older_day()
    async with running_server(redis_url, tmp_path) as server:
        old = fixture_event(
            "VXSE53_prefixed", event_id="20200101000000", reported_at=f"{day}T14:50:00+09:00"
        )
        await append(server.timeline, "old", old)
        new = fixture_event("VXSE53_prefixed", reported_at=recent.isoformat())
        await append(server.timeline, "new", new)
        felt = user_event("felt", ["13"], counts={"total": 1, "user": 1, "p2p": 0})
        await append(server.timeline, "felt", felt)
        url = server.base + ("/?lang=en" if lang == "en" else "/")
        async with opened(browser, url, viewport=PHONE, timezone_id="America/New_York") as (
            page,
            watch,
        ):
            assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == (
                "America/New_York"
            )
            cards = page.locator("article[data-event-id]")
            await expect(cards).to_have_count(2)
            recent_card = page.locator('article[data-event-id="20240417231454"]')
            old_card = page.locator('article[data-event-id="20200101000000"]')
            hm = recent.strftime("%H:%M")
            if lang == "ja":
                old_text = f"{day.month}月{day.day}日 14:50"
                await expect(old_card.locator("time")).to_have_text(old_text)
                await expect(recent_card.locator("time").first).to_have_text(hm)
                await expect(recent_card.locator(".age")).to_have_text("3分前")
                felt_text = "1件"
            else:
                month = MONTHS_EN[day.month - 1]
                await expect(old_card.locator("time")).to_have_text(f"{day.day} {month} 14:50 JST")
                await expect(recent_card.locator("time").first).to_have_text(f"{hm} JST")
                await expect(recent_card.locator(".age")).to_have_text("3 min ago")
                felt_text = "1 report"
            await expect(page.locator(".felt-count")).to_contain_text(felt_text)
            await expect(page.locator(".felt-count")).not_to_contain_text("reports")
            await assert_no_horizontal_overflow(page)
            await screenshot(page, f"cards-times-{lang}")
            watch.assert_clean()


async def test_share_uses_web_share_else_copies_the_items_link(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    ehime = parse_telegram((FIXTURES / "VXSE53_prefixed.xml").read_bytes())
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "ehime", event_to_json(ehime))
        await server.app[ARCHIVE].add([(item_key(ehime), ehime)])
        for n in range(12):  # enough cards to push a post out of view
            quake = fixture_event(
                "VXSE53_prefixed", event_id=f"2024041800{n:02d}00", headline=f"地震 {n}"
            )
            await append(server.timeline, f"q{n}", quake)
        post_id = await append(
            server.timeline, "post", user_event("post", ["13"], id="p", text="東京の投稿")
        )
        for n in range(12, 20):
            quake = fixture_event("VXSE53_prefixed", event_id=f"2024041900{n:02d}00")
            await append(server.timeline, f"q{n}", quake)
        event_url = f"{server.base}/events/20240417231454"
        post_url = f"{server.base}/?item=i%3A{post_id}"
        async with opened(
            browser,
            server.base + "/",
            viewport=PHONE,
            permissions=["clipboard-read", "clipboard-write"],
        ) as (page, watch):
            card = page.locator('article[data-key="e:20240417231454"]')
            share = card.locator("button.share")
            await expect(share).to_have_text("共有")
            await expect(share).to_have_attribute("data-url", event_url)
            # The browser's share sheet (the outside world) stands in as a recorder.
            await page.evaluate("navigator.share = async (data) => { window.__shared = data; }")
            await share.click()
            shared = await page.wait_for_function("window.__shared")
            assert (await shared.json_value())["url"] == event_url
            # Without the Web Share API: the link is copied.
            await page.evaluate("navigator.share = undefined")
            await share.click()
            await expect(share).to_have_text("リンクをコピーしました")
            assert await page.evaluate("navigator.clipboard.readText()") == event_url
            post_share = page.locator(f'article[data-key="i:{post_id}"] button.share')
            await expect(post_share).to_have_attribute("data-url", post_url)
            watch.assert_clean()
        # The event's own page (the archive's record) answers at that URL.
        async with opened(browser, event_url, viewport=PHONE, wait_live=False) as (page, watch):
            await expect(page.locator("#event-title")).to_contain_text("震源・震度情報")
        # A post has no event page: its URL opens the live page at the post.
        async with opened(browser, post_url, viewport=PHONE) as (page, watch):
            card = page.locator(f'article[data-key="i:{post_id}"]')
            await expect(card).to_have_class(re.compile(r"\bhighlight\b"))
            await expect(card).to_be_in_viewport()
            await screenshot(page, "cards-shared-item")
            watch.assert_clean()


async def test_embed_cards_link_to_their_item(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "ehime", fixture_event("VXSE53_prefixed"))
        async with opened(browser, server.base + "/embed?lang=en") as (page, watch):
            link = page.locator("article a.share")
            await expect(link).to_have_text("Link")
            await expect(link).to_have_attribute("href", f"{server.base}/events/20240417231454")
            await expect(link).to_have_attribute("target", "_blank")
            watch.assert_clean()
