"""The embed in Chromium: inserted by /embed.js into a page of another origin, it shows
the right items live, with no cookies; the map mode; and the builder's snippet, copied
and pasted into another site, works."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Request, ViewportSize, expect

from tests.broadcast.support import Server, running_server
from tests.web.browser import (
    JMA_INTENSITY,
    append,
    fixture_event,
    opened,
    other_origin,
    screenshot,
    user_event,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


def host_page(snippet: str) -> str:
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>ニュース</title>'
        '<link rel="icon" href="data:,">'
        "</head><body><h1>地域のニュース</h1><p>本文</p>"
        f"{snippet}<p>記事の続き</p></body></html>"
    )


async def test_embed_on_another_origin_shows_the_right_items_live(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    requests: list[Request] = []
    async with running_server(redis_url, tmp_path) as server:
        timeline = server.timeline
        await append(timeline, "eew", fixture_event("VXSE43_warning"))  # 08, 11, 12, 13
        await append(timeline, "ehime", fixture_event("VXSE53_prefixed"))  # 38, 39, 44
        await append(timeline, "post", user_event("post", ["13"], id="p", text="東京の投稿"))
        snippet = (
            f'<script src="{server.base}/embed.js" crossorigin="anonymous" data-prefs="13"'
            ' data-kinds="quake,eew,tsunami" data-theme="dark" data-height="480" async></script>'
        )
        async with (
            other_origin(host_page(snippet)) as host,
            opened(
                browser,
                host,
                wait_live=False,
                on_page=lambda p: p.on("request", lambda r: requests.append(r)),
                cookies=[{"name": "yure_session", "value": "secret", "url": server.base}],
            ) as (page, watch),
        ):
            assert not host.startswith(server.base)
            iframe = page.locator("iframe.yure-embed")
            await expect(iframe).to_have_attribute(
                "src", f"{server.base}/embed?prefs=13&kinds=quake,eew,tsunami&theme=dark"
            )
            await expect(iframe).to_have_attribute("referrerpolicy", "no-referrer")
            sandbox = await iframe.get_attribute("sandbox")
            assert sandbox is not None and "allow-top-navigation" not in sandbox
            box = await iframe.bounding_box()
            assert box is not None and box["height"] == 480
            frame = page.frame_locator("iframe.yure-embed")
            await expect(frame.locator("#stream-state")).to_have_attribute("data-state", "live")
            await expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
            await expect(frame.locator("#where")).to_have_text("東京都")
            cards = frame.locator("article[data-key]")
            await expect(cards).to_have_count(1)
            await expect(cards).to_contain_text("緊急地震速報")
            await expect(cards.locator(".badge-official")).to_have_text("気象庁")
            # Live: an Osaka quake never arrives, a Tokyo one does.
            osaka = fixture_event(
                "VXSE53_prefixed", event_id="20240418010000", prefs=["27"], intensity={"27": "3"}
            )
            await append(timeline, "osaka", osaka)
            tokyo = fixture_event(
                "VXSE53_prefixed",
                event_id="20240418020000",
                prefs=["13"],
                intensity={"13": "4"},
                max_intensity="4",
                hypocenter=None,
                headline="東京都で震度4",
            )
            await append(timeline, "tokyo", tokyo)
            await expect(cards).to_have_count(2)
            await expect(cards.first).to_contain_text("東京都で震度4")
            await expect(frame.locator("body")).not_to_contain_text("東京の投稿")
            await screenshot(page, "embed-other-origin")
            to_yure = [r for r in requests if r.url.startswith(server.base)]
            assert {re.sub(r"\?.*", "", r.url) for r in to_yure} >= {
                f"{server.base}/embed.js",
                f"{server.base}/embed",
                f"{server.base}/api/timeline",
                f"{server.base}/api/prefectures",
            }
            for request in to_yure:
                headers = await request.all_headers()
                assert "cookie" not in headers, (request.url, headers.get("cookie"))
                if request.url.startswith(f"{server.base}/api/"):
                    assert "referer" not in headers, request.url
            watch.assert_clean()


async def test_embed_map_mode_in_english(browser: Browser, redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "ehime", fixture_event("VXSE53_prefixed"))
        url = f"{server.base}/embed?prefs=38&mode=map&lang=en&theme=light"
        async with opened(browser, url, viewport={"width": 360, "height": 640}) as (page, watch):
            await expect(page.locator("#pref-38")).to_have_attribute("fill", JMA_INTENSITY["6-"])
            await expect(page.locator("#pref-38")).to_have_class(re.compile(r"\bfocus\b"))
            await expect(page.locator(".badge-official")).to_have_text("JMA")
            await expect(page.locator("#where")).to_have_text("Ehime")
            await expect(page.locator("#brand")).to_have_attribute("href", "/?prefs=38&lang=en")
            await expect(page.locator("#brand")).to_have_attribute("target", "_blank")
            await screenshot(page, "embed-map-en")
            watch.assert_clean()


async def test_builder_snippet_works_on_another_site(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "ehime", fixture_event("VXSE53_prefixed"))
        async with opened(
            browser,
            f"{server.base}/embed/builder",
            wait_live=False,
            permissions=["clipboard-read", "clipboard-write"],
        ) as (page, watch):
            docs = (Path(__file__).parents[2] / "docs" / "embed.md").read_text()
            default = await page.locator("#snippet").input_value()
            assert default.replace(server.base, "https://yure.example") in docs, default
            kinds_row = re.search(r"^\| `data-kinds` \|.*\| `([a-z,]+)`", docs, re.M)
            assert kinds_row is not None
            checked = page.locator('input[name="kind"]:checked')
            assert ",".join(await checked.evaluate_all("(l) => l.map((b) => b.value)")) == (
                kinds_row.group(1)
            )
            await page.locator('input[name="kind"][value="eew"]').uncheck()
            await page.locator('input[name="kind"][value="notice"]').uncheck()
            await page.locator('input[name="pref"][value="38"]').check()
            await page.locator('input[data-region="kanto"]').check()
            await page.locator("#mode").select_option("map")
            await page.locator("#height").fill("520")
            await page.locator("#height").dispatch_event("input")
            expected = (
                f'<script src="{server.base}/embed.js" crossorigin="anonymous"'
                ' data-prefs="08,09,10,11,12,13,14,38"'
                ' data-kinds="quake,tsunami" data-mode="map" data-height="520" async></script>'
            )
            await expect(page.locator("#snippet")).to_have_value(expected)
            await expect(page.locator("#preview")).to_have_attribute(
                "src", re.compile(r"/embed\?prefs=08,09,10,11,12,13,14,38&kinds=quake,tsunami&")
            )
            preview = page.frame_locator("#preview")
            await expect(preview.locator("#pref-38")).to_have_attribute("fill", JMA_INTENSITY["6-"])
            await page.locator("#copy").click()
            await expect(page.locator("#copied")).to_have_text("コピーしました")
            assert await page.evaluate("navigator.clipboard.readText()") == expected
            await screenshot(page, "embed-builder")
            watch.assert_clean()
        async with (
            other_origin(host_page(expected)) as host,
            opened(browser, host, wait_live=False) as (page, watch),
        ):
            frame = page.frame_locator("iframe.yure-embed")
            await expect(frame.locator("#pref-38")).to_have_attribute("fill", JMA_INTENSITY["6-"])
            await expect(frame.locator("article[data-key]")).to_have_count(1)
            box = await page.locator("iframe.yure-embed").bounding_box()
            assert box is not None and box["height"] == 520
            watch.assert_clean()


# --- map mode: the whole map in any frame ------------------------------------------------

#: What decides a map-mode frame's look, read inside the frame.
FRAME_GEOMETRY = """() => {
    const box = (s) => {
        const r = document.querySelector(s).getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom];
    };
    const root = document.scrollingElement;
    return {
        w: innerWidth, h: innerHeight, sw: root.scrollWidth, sh: root.scrollHeight,
        land: box("svg.japan g.prefs"), inset: box("svg.japan rect.inset"),
        key: box(".mapkey"), items: box(".items"), layout: document.body.dataset.layout,
        cards: document.querySelectorAll("article[data-key]").length,
    };
}"""


def assert_whole_map(geo: dict[str, Any]) -> None:
    """Japan (with the Okinawa inset), the legend and the list are inside the frame,
    which does not scroll."""
    w, h = geo["w"], geo["h"]
    assert geo["sw"] <= w and geo["sh"] <= h, geo
    for name in ("land", "inset", "key", "items"):
        left, top, right, bottom = geo[name]
        assert right - left > 0 and bottom - top > 0, (name, geo)
        assert left >= 0 and top >= 0 and right <= w and bottom <= h, (name, geo)
    assert geo["cards"] >= 1, geo


async def fill_timeline(server: Server) -> None:
    await append(server.timeline, "ehime", fixture_event("VXSE53_prefixed"))
    for n in range(5):
        quake = fixture_event(
            "VXSE53_prefixed",
            event_id=f"2020010100{n:02d}00",
            headline=f"震度3の地震 {n}",
            intensity={"13": "3"},
            max_intensity="3",
        )
        await append(server.timeline, f"q{n}", quake)
    await append(server.timeline, "tsunami", fixture_event("VTSE41_major_tokyo_bay"))


#: Frame sizes (a phone, a desktop, the smallest, a small landscape one) and the layout
#: each must get.
FRAMES = [(390, 844, "below"), (1280, 900, "side"), (320, 240, "overlay"), (360, 300, "overlay")]


async def test_map_mode_shows_all_of_japan_in_any_frame(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await fill_timeline(server)
        for width, height, layout in FRAMES:
            viewport: ViewportSize = {"width": width, "height": height}
            async with opened(browser, f"{server.base}/embed?mode=map", viewport=viewport) as (
                page,
                watch,
            ):
                await expect(page.locator(".tsunami-line").first).to_be_attached()
                await expect(page.locator(".mapkey")).to_contain_text("6弱")
                await expect(page.locator('.mapkey [data-grade="major_warning"]')).to_be_visible()
                geo = await page.evaluate(FRAME_GEOMETRY)
                assert geo["layout"] == layout, geo
                assert_whole_map(geo)
                land, items = geo["land"], geo["items"]
                if layout == "side":
                    assert items[0] >= land[2] - 1, geo  # the list beside the map
                if layout == "overlay":
                    assert items[1] < land[3] and items[3] > land[1], geo  # over the map
                await screenshot(page, f"embed-map-{width}x{height}")
                watch.assert_clean()


async def test_map_mode_with_data_height_fits_its_frame(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    snippet = (
        '<script src="{base}/embed.js" crossorigin="anonymous"'
        ' data-mode="map" data-height="520" async></script>'
    )
    async with running_server(redis_url, tmp_path) as server:
        await fill_timeline(server)
        for host_width, layout in ((390, "overlay"), (1280, "side")):
            viewport: ViewportSize = {"width": host_width, "height": 900}
            async with (
                other_origin(host_page(snippet.format(base=server.base))) as host,
                opened(browser, host, wait_live=False, viewport=viewport) as (page, watch),
            ):
                frame_locator = page.frame_locator("iframe.yure-embed")
                await expect(frame_locator.locator(".tsunami-line").first).to_be_attached()
                await expect(frame_locator.locator("article[data-key]").first).to_be_visible()
                handle = await page.locator("iframe.yure-embed").element_handle()
                assert handle is not None
                frame = await handle.content_frame()
                assert frame is not None
                geo = await frame.evaluate(FRAME_GEOMETRY)
                assert geo["h"] == 520, geo
                assert geo["layout"] == layout, geo
                assert_whole_map(geo)
                await screenshot(page, f"embed-map-h520-{host_width}")
                watch.assert_clean()
