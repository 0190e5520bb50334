"""The check-in page (/safety) in Chromium against the real API: two people sign up,
become friends through an invite link, and see each other's one-tap check-ins live;
a friend request by handle; notes are shown as text; signing out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.broadcast.support import running_server
from tests.web.browser import no_injected_markup, opened, screenshot
from yure.broadcast.envelope import ZERO_ID

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PASSWORD = "correct horse battery"
NOTE = '家族も無事 <img src=x onerror="window.__xss=1">'


async def sign_up(page: Page, handle: str) -> None:
    await expect(page.locator("#auth")).to_be_visible()
    await page.locator("#handle").fill(handle)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("#signup").click()
    await expect(page.locator("#whoami")).to_have_text(f"{handle} としてログイン中")
    await expect(page.locator("#live-state")).to_have_text("自動で更新中")


def friend(page: Page, handle: str) -> tuple[Locator, Locator]:
    row = page.locator(f'#friends li[data-handle="{handle}"]')
    return row, row.locator(".status-badge")


async def test_friends_see_each_others_check_ins_live(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        opened(browser, server.base + "/safety", wait_live=False) as (hanako, watch_a),
    ):
        await sign_up(hanako, "hanako")
        await expect(hanako.locator("#friends-empty")).to_be_visible()
        await hanako.locator("#invite").click()
        invite = hanako.locator("#invite-url")
        await expect(invite).to_have_value(re.compile(r"/safety#invite=[\w-]{43}$"))
        url = await invite.input_value()
        assert url.startswith(server.base + "/safety#invite=")

        async with opened(browser, url, wait_live=False) as (taro, watch_b):
            # /safety takes the token out of the URL at once.
            await taro.wait_for_url(re.compile(r"/safety$"))
            await expect(taro.locator("#invite-banner")).to_contain_text(
                "招待リンクを受け取りました"
            )
            await sign_up(taro, "taro")
            await expect(taro.locator("#invite-offer")).to_contain_text("hanako さんからの招待")
            await taro.locator("#invite-accept").click()
            await expect(taro.locator("#invite-banner")).to_have_text(
                "hanako さんと友だちになりました"
            )
            row, badge = friend(taro, "hanako")
            await expect(badge).to_have_text("未報告")
            # hanako's page learns of the new friend without a reload.
            row_a, badge_a = friend(hanako, "taro")
            await expect(badge_a).to_have_text("未報告")

            # One tap on hanako's side shows on taro's, live.
            await hanako.locator("#note").fill(NOTE)
            await hanako.locator("#checkin-pref").select_option("13")
            await hanako.locator(".btn-safe").click()
            await expect(hanako.locator("#checkin-message")).to_contain_text("無事です")
            await expect(badge).to_have_text("無事です")
            await expect(row.locator(".note")).to_have_text(NOTE)
            await expect(row).to_contain_text("東京都")
            await expect(row).to_have_attribute("data-status", "safe")
            await expect(taro.locator("#friend-announce")).to_have_text("hanako：無事です")

            await taro.locator(".btn-help").click()
            await expect(badge_a).to_have_text("助けが必要")
            await expect(row_a).to_have_attribute("data-status", "need_help")

            # A friend request by handle.
            await taro.locator("#friend-handle").fill("jiro")
            await taro.locator("#friend-form button").click()
            await expect(taro.locator("#friend-message")).to_have_text("jiro さんに申請しました")
            await expect(taro.locator('.outgoing .request[data-handle="jiro"]')).to_have_count(1)

            # Public, unverified reports from the same page.
            await taro.locator("#felt").click()
            await expect(taro.locator("#report-message")).to_have_text(
                "報告しました（東京都：1件）"
            )
            await taro.locator("#post-text").fill("駅の天井が落ちた")
            await taro.locator("#post-form button").click()
            await expect(taro.locator("#report-message")).to_have_text(
                "投稿しました（未確認として公開）"
            )
            posts = await server.timeline.read_after(ZERO_ID, limit=10)
            assert [e.kind for e in posts] == ["felt", "post"]

            await no_injected_markup(taro)
            await screenshot(taro, "safety-taro")
            await screenshot(hanako, "safety-hanako")
            # Before signing up, the session check answers 401 (logged by the browser).
            watch_b.assert_clean(allow=("status of 401",))

        await hanako.locator("#logout").click()
        await expect(hanako.locator("#auth")).to_be_visible()
        await hanako.reload()
        await expect(hanako.locator("#auth")).to_be_visible()
        watch_a.assert_clean(allow=("status of 401",))


async def test_wrong_password_and_taken_handle_are_explained(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        opened(browser, server.base + "/safety?lang=en", wait_live=False) as (page, watch),
    ):
        await expect(page.locator("#auth-title")).to_have_text("Sign in or sign up")
        await page.locator("#handle").fill("hanako")
        await page.locator("#password").fill(PASSWORD)
        await page.locator("#login").click()
        await expect(page.locator("#auth-message")).to_have_text("Wrong handle or password.")
        await page.locator("#signup").click()
        await expect(page.locator("#whoami")).to_have_text("Signed in as hanako")
        await page.locator("#logout").click()
        await page.locator("#password").fill(PASSWORD)
        await page.locator("#signup").click()
        await expect(page.locator("#auth-message")).to_have_text("That handle is taken.")
        await page.locator("#login").click()
        await expect(page.locator("#whoami")).to_have_text("Signed in as hanako")
        watch.assert_clean(allow=("status of 401", "status of 409"))


async def api_token(base: str, path: str, body: dict[str, str], token: str | None = None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(base + path, json=body, headers=headers) as resp,
    ):
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def test_invite_link_needs_an_explicit_accept(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    """Regression (issue 10 #1): a signed-in person who merely opened an invite link was
    befriended at once. Now the page names the inviter and waits for a click."""
    async with (
        running_server(redis_url, tmp_path) as server,
        opened(browser, server.base + "/safety", wait_live=False) as (taro, watch),
    ):
        await sign_up(taro, "taro")
        hanako = await api_token(
            server.base, "/api/accounts", {"handle": "hanako", "password": PASSWORD}
        )
        invite = await api_token(server.base, "/api/invites", {}, hanako["token"])
        link = await taro.context.new_page()
        await link.goto(server.base + "/safety#invite=" + invite["token"])
        offer = link.locator("#invite-offer")
        await expect(offer).to_be_visible()
        await expect(offer).to_contain_text("hanako さんからの招待")
        # The token has left the address bar; nobody is befriended by looking.
        assert "#invite" not in link.url
        friends = await api_token_get(server.base, "/api/friends", hanako["token"])
        assert friends["friends"] == []
        await link.locator("#invite-accept").click()
        await expect(link.locator("#invite-banner")).to_have_text("hanako さんと友だちになりました")
        friends = await api_token_get(server.base, "/api/friends", hanako["token"])
        assert friends["friends"] == ["taro"]
        watch.assert_clean(allow=("status of 401",))


async def api_token_get(base: str, path: str, token: str) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.get(base + path, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_recovery_codes_bring_a_forgetful_person_back(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    """Issue 15: the page explains recovery codes before sign-up, shows the ten codes once
    as text to save, and a code sets a new password and signs in."""
    new_password = "a brand new passphrase"
    async with (
        running_server(redis_url, tmp_path) as server,
        opened(browser, server.base + "/safety", wait_live=False) as (page, watch),
    ):
        await expect(page.locator("#recovery-explain")).to_contain_text("回復コード")
        await sign_up(page, "hanako")
        box = page.locator("#recovery-codes")
        await expect(box).to_be_visible()
        codes = (await box.input_value()).split()
        assert len(codes) == 10 and all(
            re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){2}", c) for c in codes
        )
        await page.locator("#recovery-saved").click()
        await expect(page.locator("#recovery")).to_be_hidden()
        old_session = await api_token(
            server.base, "/api/sessions", {"handle": "hanako", "password": PASSWORD}
        )
        await page.locator("#logout").click()
        await expect(page.locator("#auth")).to_be_visible()

        await page.locator("#forgot summary").click()
        await page.locator("#recover-handle").fill("hanako")
        await page.locator("#recover-code").fill(codes[0])
        await page.locator("#recover-password").fill(new_password)
        await page.locator("#recover-submit").click()
        await expect(page.locator("#recover-message")).to_have_text("")
        await expect(page.locator("#app")).to_be_visible()
        await expect(page.locator("#whoami")).to_have_text("hanako としてログイン中")
        # Every earlier session has ended; the new password works, the old one no longer.
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {old_session['token']}"}
            async with http.get(server.base + "/api/sessions/current", headers=headers) as resp:
                assert resp.status == 401
            old = {"handle": "hanako", "password": PASSWORD}
            async with http.post(server.base + "/api/sessions", json=old) as resp:
                assert resp.status == 401
        await api_token(
            server.base, "/api/sessions", {"handle": "hanako", "password": new_password}
        )
        # The same code a second time is refused, with words.
        await page.locator("#logout").click()
        await page.locator("#forgot summary").click()
        await page.locator("#recover-handle").fill("hanako")
        await page.locator("#recover-code").fill(codes[0])
        await page.locator("#recover-password").fill("yet another passphrase")
        await page.locator("#recover-submit").click()
        await expect(page.locator("#recover-message")).to_have_text(
            "ハンドル名または回復コードが違います（使えるのは1回だけです）。"
        )
        await screenshot(page, "safety-recovery")
        watch.assert_clean(allow=("status of 401",))
