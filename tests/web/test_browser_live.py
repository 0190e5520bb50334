"""The live page (/) in Chromium against the real app and a real Redis: the map and the
timeline follow the telegrams appended to the real timeline, the prefecture filter,
English on a phone, reconnect-and-resume, and a telegram travelling from a local JMA
feed through the real ingest to the page."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, WebSocket, expect

from tests.broadcast.support import running_server
from tests.ingest import telegrams as jma
from tests.ingest.fakes import FakeJma
from tests.web.browser import (
    JMA_INTENSITY,
    JMA_TSUNAMI,
    PHONE,
    WAIT_MS,
    append,
    fixture_event,
    opened,
    screenshot,
    user_event,
)
from yure.broadcast.frames import CloseCode
from yure.ingest import liveness
from yure.settings import Settings
from yure.web import keys, serve

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

MAIN_EVENT = "20240417231454"  # VXSE53_prefixed: 豊後水道, 震度6弱 in 38/39, 5弱 in 44
AFTERSHOCK = "20240417233000"


def aftershock() -> dict[str, object]:
    """A later, weaker quake 10 km from the main one."""
    return fixture_event(
        "VXSE53_prefixed",
        event_id=AFTERSHOCK,
        reported_at="2024-04-17T23:35:00+09:00",
        headline="１７日２３時３０分ころ、地震がありました。",
        max_intensity="3",
        intensity={"38": "3"},
        prefs=["38"],
        hypocenter={
            "name": "豊後水道",
            "lat": 33.25,
            "lon": 132.45,
            "depth_km": 40.0,
            "magnitude": 4.1,
            "magnitude_text": "Ｍ４．１",
        },
    )


async def fill_of(page: Page, pref: str) -> str | None:
    return await page.locator(f"#pref-{pref}").get_attribute("fill")


async def test_map_and_timeline_follow_the_telegrams(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        opened(browser, server.base + "/") as (page, watch),
    ):
        timeline = server.timeline
        await expect(page.locator("#empty")).to_be_visible()
        await append(timeline, "q1", fixture_event("VXSE53_prefixed"))
        main = page.locator(f'article[data-event-id="{MAIN_EVENT}"]')
        await expect(page.locator("#pref-38")).to_have_attribute("fill", JMA_INTENSITY["6-"])
        await expect(page.locator("#pref-44")).to_have_attribute("fill", JMA_INTENSITY["5-"])
        assert await fill_of(page, "13") is None
        await expect(page.locator("#epicenter")).to_have_attribute("data-lat", "33.2")
        await expect(main.locator(".badge-official")).to_have_text("気象庁")
        await expect(main).to_contain_text("豊後水道")
        await expect(main).to_contain_text("震度6弱")
        await expect(page.locator("#pinned")).to_contain_text("主な地震")
        await expect(page.locator("#pinned > section > article")).to_have_attribute(
            "data-event-id", MAIN_EVENT
        )
        await expect(page.locator("#announce-polite")).to_contain_text("地震がありました")
        await expect(page.locator(".int-label[data-pref='38']")).to_have_text("6弱")

        # An aftershock is grouped under the pinned main event and takes the map.
        await append(timeline, "q2", aftershock())
        nested = page.locator(f'#pinned .aftershocks article[data-event-id="{AFTERSHOCK}"]')
        await expect(nested).to_have_count(1)
        await expect(page.locator("#pinned .aftershocks summary")).to_contain_text("1件")
        await expect(page.locator("#pref-38")).to_have_attribute("fill", JMA_INTENSITY["3"])

        # 取消 of the aftershock (via ref): struck through; the map goes back to the main event.
        cancel = fixture_event("VXSE53_cancelled", event_id=AFTERSHOCK, prefs=["38"])
        await append(timeline, "q2-cancel", cancel, replaces="q2")
        retracted = page.locator(f'article[data-event-id="{AFTERSHOCK}"]')
        await expect(retracted).to_have_class(re.compile(r"\bretracted\b"))
        await expect(retracted.locator(".retraction")).to_contain_text("取り消されました")
        await expect(page.locator("#pref-38")).to_have_attribute("fill", JMA_INTENSITY["6-"])
        struck = await retracted.locator(".card-body").evaluate(
            "el => getComputedStyle(el).textDecorationLine"
        )
        assert struck == "line-through"

        # Unverified user items: counted on the map, never styled like an alert.
        felt = user_event(
            "felt", ["13"], id="felt:13:1", counts={"user": 10, "p2p": 2, "total": 12}
        )
        await append(timeline, "f1", felt)
        await append(timeline, "p1", user_event("post", ["13"], id="p1", text="東京でも揺れた"))
        await expect(page.locator('.felt-mark[data-pref="13"] text')).to_have_text("12")
        post = page.locator("article.kind-post")
        await expect(post.locator(".badge-unverified")).to_have_text("未確認")
        await expect(post.locator(".post-text")).to_have_text("東京でも揺れた")
        assert await post.locator(".badge-official").count() == 0
        border = await post.evaluate("el => getComputedStyle(el).borderTopStyle")
        assert border == "dashed"
        await append(
            timeline, "f2", dict(felt, counts={"user": 20, "p2p": 3, "total": 23}), replaces="f1"
        )
        await expect(page.locator('.felt-mark[data-pref="13"] text')).to_have_text("23")
        await expect(page.locator("article.kind-felt")).to_have_count(1)

        # A tsunami warning: each forecast area's coast (not its prefectures' whole
        # outlines) by grade; 三重県 has two areas, 東京湾内湾 three prefectures.
        await append(timeline, "t1", fixture_event("VTSE41_major_tokyo_bay"))
        shizuoka = page.locator('path.tsunami-line[data-area="380"]')
        await expect(shizuoka).to_have_attribute("stroke", JMA_TSUNAMI["major_warning"])
        await expect(shizuoka).to_have_attribute("data-pref", "22")
        await expect(page.locator('path.tsunami-line[data-area="400"]')).to_have_attribute(
            "stroke", JMA_TSUNAMI["warning"]
        )
        await expect(page.locator('path.tsunami-line[data-pref="24"]')).to_have_count(2)
        bay = page.locator('path.tsunami-line[data-area="312"]')
        await expect(bay).to_have_count(3)
        await expect(bay.first).to_have_attribute("stroke", JMA_TSUNAMI["advisory"])
        coast = await shizuoka.get_attribute("d")
        outline = await page.locator("#pref-22").get_attribute("d")
        assert coast is not None and outline is not None
        assert "Z" not in coast and len(coast) < 0.8 * len(outline)  # no inland border
        # Without arrival times, the list under the map goes strongest grade first.
        under_map = page.locator("#tsunami-list li")
        await expect(under_map).to_have_count(5)
        assert await under_map.evaluate_all("(l) => l.map((li) => li.dataset.area)") == [
            "380",
            "390",
            "400",
            "312",
            "391",
        ]
        await expect(page.locator("#announce-alert")).to_contain_text("大津波警報")
        await expect(page.locator("#pinned > section > article")).to_have_attribute(
            "data-tsunami", "major_warning"
        )
        assert await page.locator("article[data-key]").count() == 5
        await screenshot(page, "live-desktop")
        watch.assert_clean()


async def test_prefecture_filter_lives_in_the_url(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        timeline = server.timeline
        await append(timeline, "ehime", fixture_event("VXSE53_prefixed"))
        await append(timeline, "eew", fixture_event("VXSE43_warning"))  # 08, 11, 12, 13
        await append(timeline, "osaka", user_event("post", ["27"], id="po", text="大阪の投稿"))
        await append(timeline, "tokyo", user_event("post", ["13"], id="pt", text="東京の投稿"))
        async with opened(browser, server.base + "/?prefs=13") as (page, watch):
            cards = page.locator("article[data-key]")
            await expect(cards).to_have_count(2)
            await expect(page.locator("article.kind-eew")).to_contain_text("緊急地震速報")
            await expect(page.locator(".post-text")).to_have_text(["東京の投稿"])
            await expect(page.locator("#picker-summary")).to_have_text("(東京都)")
            await expect(page.locator("#pref-13")).to_have_class(re.compile(r"\bfocus\b"))
            # Live: the Osaka post (appended first) never arrives, the Tokyo one does.
            await append(timeline, "osaka2", user_event("post", ["27"], id="po2", text="大阪2"))
            await append(timeline, "tokyo2", user_event("post", ["13"], id="pt2", text="東京2"))
            await expect(page.locator(".post-text")).to_have_text(["東京2", "東京の投稿"])
            # The picker writes the choice into the URL.
            await page.locator("#picker summary").click()
            await expect(page.locator('input[name="pref"][value="13"]')).to_be_checked()
            assert await page.locator('input[data-region="kanto"]').evaluate("b => b.indeterminate")
            await page.locator('input[name="pref"][value="27"]').check()
            await page.locator("button.apply").click()
            await page.wait_for_url(re.compile(r"/\?prefs=13,27$"))
            await page.wait_for_selector('#stream-state[data-state="live"]')
            await expect(page.locator(".post-text")).to_have_text(
                ["東京2", "大阪2", "東京の投稿", "大阪の投稿"]
            )
            watch.assert_clean()


async def test_english_on_a_phone_with_the_colour_blind_palette(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await server.redis.set(liveness.LAST_POLL_KEY, repr(time.time() - 2 * 3600))
        await append(server.timeline, "q1", fixture_event("VXSE53_prefixed"))
        await append(server.timeline, "t1", fixture_event("VTSE41_major_tokyo_bay"))
        url = server.base + "/?lang=en&palette=cb"
        async with opened(browser, url, viewport=PHONE) as (page, watch):
            await expect(page.locator("html")).to_have_attribute("lang", "en")
            await expect(page.locator(".badge-official").first).to_have_text("JMA")
            await expect(page.locator("#stream-state")).to_have_text("Live")
            await expect(page.locator("#feed-state")).to_have_text(
                "JMA feed: last received 2 h ago (delayed)"
            )
            await expect(page.locator("#feed-state")).to_have_attribute("data-fresh", "false")
            await expect(page.locator("#stream-age")).to_contain_text("last received")
            # The colour-blind-safe palette: 6 Lower is #8A226A, a major warning #882255.
            await expect(page.locator('path.tsunami-line[data-area="380"]')).to_have_attribute(
                "stroke", "#882255"
            )
            await page.locator(f'article[data-event-id="{MAIN_EVENT}"] .show-on-map').click()
            await expect(page.locator("#pref-38")).to_have_attribute("fill", "#8A226A")
            await expect(page.locator("#map-caption")).to_contain_text("豊後水道")
            await expect(page.locator("#lang-toggle")).to_have_text("日本語")
            fits = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, "the page scrolls sideways on a phone"
            box = await page.locator("#map svg").bounding_box()
            assert box is not None and box["width"] <= PHONE["width"]
            await screenshot(page, "live-phone-en")
            watch.assert_clean()


async def test_reconnects_and_resumes_without_gaps_or_repeats(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    sockets: list[WebSocket] = []
    async with running_server(redis_url, tmp_path) as server:
        timeline = server.timeline
        await append(timeline, "before", user_event("post", ["13"], id="b", text="before"))
        async with opened(
            browser,
            server.base + "/",
            on_page=lambda p: p.on("websocket", lambda ws: sockets.append(ws)),
        ) as (page, watch):
            await expect(page.locator(".post-text")).to_have_text(["before"])
            await append(timeline, "live1", user_event("post", ["13"], id="l1", text="live1"))
            await expect(page.locator(".post-text")).to_have_text(["live1", "before"])
            # The server goes away (1001); what is appended meanwhile must arrive once.
            server.app[keys.HUB].close_all(CloseCode.GOING_AWAY, "restart")
            for i in range(3):
                await append(
                    timeline, f"gap{i}", user_event("post", ["13"], id=f"g{i}", text=f"gap{i}")
                )
            await expect(page.locator(".post-text")).to_have_text(
                ["gap2", "gap1", "gap0", "live1", "before"]
            )
            await page.wait_for_selector('#stream-state[data-state="live"]')
            assert len(sockets) == 2, "one reconnect"
            await append(timeline, "after", user_event("post", ["13"], id="a", text="after"))
            await expect(page.locator(".post-text")).to_have_text(
                ["after", "gap2", "gap1", "gap0", "live1", "before"]
            )
            watch.assert_clean(allow=("WebSocket",))


async def test_a_telegram_from_the_jma_feed_reaches_the_page(
    browser: Browser, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local JMA feed → the real poller (serve.run_ingest) → the timeline → the page."""
    monkeypatch.setattr(liveness, "LIVENESS_EVERY_S", 0.05)
    fake = await FakeJma().start()
    try:
        async with running_server(redis_url, tmp_path) as server:
            settings = Settings(
                redis_url=redis_url,
                data_dir=tmp_path,
                jma_feeds=(fake.feed_url("eqvol.xml"),),
                jma_backfill_feeds=(fake.feed_url("eqvol_l.xml"),),
                poll_interval_s=0.2,
                http_timeout_s=2.0,
            )
            ingest = asyncio.create_task(serve.run_ingest(settings, server.app))
            try:
                deadline = time.monotonic() + WAIT_MS / 1000
                while await liveness.feed_age(server.redis) is None:
                    assert time.monotonic() < deadline, "the poller never succeeded"
                    await asyncio.sleep(0.05)
                async with opened(browser, server.base + "/") as (page, watch):
                    await expect(page.locator("#feed-state")).to_have_attribute(
                        "data-fresh", "true"
                    )
                    now = datetime.now(UTC).replace(microsecond=0)
                    tokyo = jma.PrefIntensity("13", "東京都", "350", "東京都２３区", "5+")
                    epicenter = jma.Epicenter("千葉県北西部", "341", "+35.6+140.1-60000/", "5.9")
                    data = jma.quake(
                        "VXSE53",
                        event_id=now.strftime("%Y%m%d%H%M%S"),
                        report_time=now,
                        serial=1,
                        max_int="5+",
                        prefs=(tokyo,),
                        epicenter=epicenter,
                    )
                    fake.publish(jma.file_name(now, "VXSE53"), data, updated=now)
                    await expect(page.locator("#pref-13")).to_have_attribute(
                        "fill", JMA_INTENSITY["5+"]
                    )
                    card = page.locator("article.kind-quake")
                    await expect(card).to_contain_text("千葉県北西部")
                    await expect(card.locator(".badge-official")).to_have_text("気象庁")
                    watch.assert_clean()
            finally:
                ingest.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ingest
    finally:
        await fake.close()
