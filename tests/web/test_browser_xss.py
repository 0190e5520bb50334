"""Hostile text never runs: 40 XSS payloads posted through the real POST /api/posts
(production rate limits: 8 accounts, two client addresses) and a hostile JMA telegram
are shown as text on the live page, in English, and in the embed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.broadcast.support import running_server
from tests.web.browser import (
    append,
    fixture_event,
    hostile_telegram,
    no_injected_markup,
    opened,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "<img src=\"x\" onerror=alert('img')>",
    "<svg onload=alert(1)>",
    "<svg><script>window.__xss=1</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click me</a>',
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<marquee onstart=alert(1)>揺れ</marquee>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<style>@import "javascript:alert(1)";</style>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>送信</button></form>',
    '<base href="javascript:alert(1)//">',
    '<link rel=stylesheet href="data:text/css,*{color:red}">',
    '{{constructor.constructor("alert(1)")()}}',
    "${alert(1)}",
    "`${window.__xss=1}`",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "\\u003cimg src=x onerror=alert(1)\\u003e",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<x contenteditable onblur=alert(1)>focus</x>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><img src=x onerror=alert(1)></template><img src=x onerror=alert(2)>",
    "javascript:alert(document.domain)",
    "<img src=x:alert(alt) onerror=eval(src) alt=1>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "'\"><svg/onload=window.__xss=1>東京<b>太字</b>",
]
HOSTILE_HEADLINE = (
    "震度<img src=x onerror=\"window.__xss=1;alert('jma')\"><script>alert(2)</script>"
)
ACCOUNTS = 8  # 5 posts per account per minute
POSTS_PER_ADDRESS = 20  # 30 per client address per minute


async def post_all(base: str) -> None:
    """Every payload through the real API, as 8 accounts from 127.0.0.1 and 127.0.0.2."""
    assert len(PAYLOADS) == ACCOUNTS * 5 == 2 * POSTS_PER_ADDRESS
    for half in range(2):
        connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{half + 1}", 0))
        async with aiohttp.ClientSession(connector=connector) as http:

            async def account(n: int) -> str:
                body = {"handle": f"poster{n}", "password": "correct horse"}
                async with http.post(f"{base}/api/accounts", json=body) as resp:
                    assert resp.status == 201, await resp.text()
                    token: str = (await resp.json())["token"]
                    return token

            first = half * ACCOUNTS // 2
            tokens = await asyncio.gather(*(account(n) for n in range(first, first + 4)))
            http.cookie_jar.clear()
            for i, text in enumerate(PAYLOADS[half * POSTS_PER_ADDRESS :][:POSTS_PER_ADDRESS]):
                headers = {"Authorization": f"Bearer {tokens[i // 5]}"}
                body: dict[str, Any] = {"text": text, "pref": "13"}
                async with http.post(f"{base}/api/posts", json=body, headers=headers) as resp:
                    assert resp.status == 201, (text, await resp.text())
                    assert (await resp.json())["text"] == text


async def shown_as_text(page: Page, expected: int) -> list[str]:
    texts = page.locator(".post-text")
    await expect(texts).to_have_count(expected)
    return await texts.all_text_contents()


async def test_hostile_text_is_shown_never_run(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await post_all(server.base)
        hostile = hostile_telegram("VXSE53_prefixed", HOSTILE_HEADLINE)
        assert hostile["headline"] == HOSTILE_HEADLINE
        hostile["title"] = "<img src=x onerror=alert('title')>"
        hostile["hypocenter"]["name"] = "<svg onload=alert('hypo')>"
        hostile["prefs"] = [*hostile["prefs"], "13"]
        await append(server.timeline, "hostile", hostile)
        tsunami = fixture_event("VTSE41_major_tokyo_bay")
        tsunami["tsunami"][0]["area_name"] = "<iframe src=javascript:alert('area')>"
        await append(server.timeline, "hostile-tsunami", tsunami)

        async with opened(browser, server.base + "/") as (page, watch):
            assert sorted(await shown_as_text(page, len(PAYLOADS))) == sorted(PAYLOADS)
            headline = page.locator(f'article[data-event-id="{hostile["event_id"]}"] .headline')
            await expect(headline).to_have_text(HOSTILE_HEADLINE)
            card = page.locator(f'article[data-event-id="{hostile["event_id"]}"]')
            await expect(card.locator(".hypo")).to_contain_text("<svg onload=alert('hypo')>")
            await expect(card.locator(".card-title")).to_contain_text("<img src=x onerror=")
            await expect(page.locator("article.kind-tsunami")).to_contain_text("<iframe src=")
            await no_injected_markup(page)
            await screenshot(page, "xss-live")
            watch.assert_clean()

        async with opened(browser, server.base + "/?prefs=13&lang=en") as (page, watch):
            assert sorted(await shown_as_text(page, len(PAYLOADS))) == sorted(PAYLOADS)
            await no_injected_markup(page)
            watch.assert_clean()

        embed = server.base + "/embed?kinds=quake,tsunami,post&prefs=13,kanto&theme=dark"
        async with opened(browser, embed) as (page, watch):
            shown = await shown_as_text(page, 28)  # 30 items: 28 posts + 2 official
            assert set(shown) <= set(PAYLOADS)
            await expect(page.get_by_text(HOSTILE_HEADLINE, exact=True)).to_have_count(1)
            await expect(page.locator(".tsunami-areas")).to_contain_text("<iframe src=")
            await no_injected_markup(page)
            watch.assert_clean()

        # Garbage parameters are dropped, never echoed.
        nasty = '/embed?prefs=<script>,13&theme="><script>&mode=<img&kinds=x,<b>&lang=<i>'
        async with opened(browser, server.base + nasty) as (page, watch):
            await expect(page.locator("#where")).to_have_text("東京都")
            await expect(page.locator("html")).to_have_attribute("lang", "ja")
            assert await page.locator("html").get_attribute("data-theme") is None
            await no_injected_markup(page)
            watch.assert_clean()
