"""The history pages in Chromium: /history filters by prefecture, date, intensity,
magnitude and depth, shows the events on the map and a count per day; /events/{id} is
a shareable page with Open Graph tags, its telegrams (取消 marked), the map and the
tsunami areas; ja and en; no CSP violation, no console error."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.archive.events import cancel, quake
from tests.broadcast.support import running_server
from tests.ingest import telegrams as jma
from tests.web.browser import FIXTURES, opened, screenshot
from yure.archive.http import ARCHIVE
from yure.ingest.merge import item_key
from yure.ingest.telegram import parse_telegram

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=jma.JST)
TOKYO = jma.PrefIntensity("13", "東京都", "350", "東京都２３区", "5-")
MIYAGI_STRONG = dataclasses.replace(jma.MIYAGI, max_int="6-")


def _items() -> list[tuple[str, object]]:
    deep = jma.Epicenter(coordinate="+35.5+140.0-120000/", magnitude="5.2", name="千葉県北西部")
    big = jma.Epicenter(coordinate="+38.3+142.4-40000/", magnitude="7.1", name="宮城県沖")
    items = [
        quake("VXSE53", "20240301090000", T0, serial=1, max_int="3"),
        quake("VXSE53", "20240305120000", T0 + timedelta(days=4), serial=1, max_int="5-",
              prefs=(TOKYO,), epicenter=deep),
        quake("VXSE53", "20240320210000", T0 + timedelta(days=19), serial=1, max_int="6-",
              prefs=(MIYAGI_STRONG, jma.FUKUSHIMA), epicenter=big),
        cancel("VXSE53", "20240320210000", T0 + timedelta(days=19, minutes=20), serial=2),
        quake("VXSE53", "20240320210000", T0 + timedelta(days=19, minutes=30), serial=3,
              max_int="6-", prefs=(MIYAGI_STRONG, jma.FUKUSHIMA), epicenter=big),
    ]  # fmt: skip
    tsunami = parse_telegram((FIXTURES / "VTSE41_major_tokyo_bay.xml").read_bytes())
    items.append((item_key(tsunami), tsunami))
    return items  # type: ignore[return-value]


async def test_history_page_filters_maps_and_charts(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await server.app[ARCHIVE].add(_items())  # type: ignore[arg-type]
        async with opened(browser, f"{server.base}/history", wait_live=False) as (page, watch):
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
            cards = page.locator("#events > li")
            tsunami_id = _items()[-1][1].event_id  # type: ignore[attr-defined]
            newest_first = [tsunami_id, "20240320210000", "20240305120000", "20240301090000"]
            await expect(cards).to_have_count(4)
            ids = [await card.get_attribute("data-event-id") for card in await cards.all()]
            assert ids == newest_first
            async with (
                aiohttp.ClientSession() as client,
                client.get(f"{server.base}/api/history") as response,
            ):
                located = [i for i in (await response.json())["items"] if i["lat"] is not None]
            assert len(located) >= 3
            await expect(page.locator("circle.history-dot")).to_have_count(len(located))
            await expect(page.locator("#chart rect")).to_have_count(4)
            # 震度5弱以上 and M6 or more: only the 宮城県沖 quake.
            await page.select_option("#min-intensity", "5-")
            await page.fill("#min-magnitude", "6")
            await page.click("button[type=submit]")
            await expect(cards).to_have_count(1)
            await expect(cards.first).to_contain_text("宮城県沖")
            assert "min_intensity=5-" in page.url and "min_magnitude=6" in page.url
            await expect(page.locator("#csv-link")).to_have_attribute(
                "href", "/api/history.csv?min_intensity=5-&min_magnitude=6"
            )
            # A prefecture and a date range: Tokyo in early March.
            await page.select_option("#min-intensity", "")
            await page.fill("#min-magnitude", "")
            await page.click("#picker summary")
            await page.check('input[name="pref"][value="13"]')
            await page.fill("#from", "2024-03-02")
            await page.fill("#to", "2024-03-10")
            await page.fill("#max-depth", "150")
            await page.click("button[type=submit]")
            await expect(cards).to_have_count(1)
            await expect(cards.first).to_have_attribute("data-event-id", "20240305120000")
            await expect(page.locator("#picker-summary")).to_have_text("東京都")
            await screenshot(page, "history-desktop")
            watch.assert_clean()
        # The filters survive a reload, in English.
        url = f"{server.base}/history?prefs=tohoku&min_intensity=6-&lang=en"
        async with opened(browser, url, wait_live=False) as (page, watch):
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
            await expect(page.locator("#events > li")).to_have_count(1)
            await expect(page.locator("#list-title")).to_have_text("Events")
            await expect(page.locator("#min-intensity")).to_have_value("6-")
            watch.assert_clean()


async def test_event_page_is_a_shareable_record(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await server.app[ARCHIVE].add(_items())  # type: ignore[arg-type]
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{server.base}/events/20240320210000") as response:
                assert response.status == 200
                assert "script-src" in response.headers["Content-Security-Policy"]
                html = await response.text()
            assert '<meta property="og:title" content="2024年3月20日 09:00 宮城県沖 M7.1' in html
            assert "最大震度6弱" in html
            assert f'content="{server.base}/events/20240320210000"' in html
            async with client.get(f"{server.base}/events/19990101000000") as response:
                assert response.status == 404
            async with client.get(f'{server.base}/events/"><script>') as response:
                assert response.status == 404
                assert "<script>" not in await response.text()
        async with opened(browser, f"{server.base}/events/20240320210000",
                          wait_live=False) as (page, watch):  # fmt: skip
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
            telegrams = page.locator("#telegrams > li")
            await expect(telegrams).to_have_count(3)
            await expect(telegrams.nth(1)).to_have_class("cancelled")
            await expect(telegrams.nth(1)).to_contain_text("取消")
            await expect(page.locator("#pref-04")).to_have_attribute("data-intensity", "6-")
            await expect(page.locator("#epicenter")).to_have_count(1)
            await expect(page.locator("#facts")).to_contain_text("M7.1")
            await expect(page.locator("#cancelled")).to_be_hidden()  # serial 3 stands
            await screenshot(page, "event-desktop")
            watch.assert_clean()
        tsunami_id = _items()[-1][1].event_id  # type: ignore[attr-defined]
        async with opened(browser, f"{server.base}/events/{tsunami_id}?lang=en",
                          wait_live=False) as (page, watch):  # fmt: skip
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
            await expect(page.locator("#tsunami")).to_be_visible()
            await expect(page.locator("#tsunami-rows tr").first).to_contain_text("Tsunami")
            await expect(page.locator("path.tsunami-line").first).to_be_attached()
            watch.assert_clean()
        async with opened(browser, f"{server.base}/events/19990101000000",
                          wait_live=False) as (page, watch):  # fmt: skip
            await expect(page.locator("#error")).to_have_text("この地震の記録はありません。")
            watch.assert_clean(allow=("404",))
