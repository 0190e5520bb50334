"""The 通知 panel, the service worker and the page alerts in Chromium against the real
app, its push API and delivery job, and a local push service that decrypts.

Headless Chromium has no connection to a browser vendor's push service, so the one
outside piece, ``PushManager.subscribe``, is played locally: it answers with an
endpoint on the tests' push service and keys the test holds (and records the
``applicationServerKey`` the page asked with). Everything else is real: the service
worker registration, the API, the job, RFC 8291 encryption, and the service worker's
``push`` handler, fed through the DevTools protocol (``ServiceWorker.deliverPushMessage``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, CDPSession, Page, expect

from tests.broadcast.support import WAIT_S
from tests.push.support import push_rig, quake, until
from tests.web.browser import WAIT_MS, append, fixture_event, opened, screenshot, user_event
from yure.push.service import PUSH

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

#: Replaces PushManager.subscribe (see the module docstring); window.__pushSubscription
#: is the PushSubscription JSON the test's push service made.
FAKE_PUSH_MANAGER = """
(() => {
  const toB64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  PushManager.prototype.subscribe = async function (options) {
    window.__askedKey = toB64(options.applicationServerKey);
    const json = window.__pushSubscription;
    return { endpoint: json.endpoint, toJSON: () => json, unsubscribe: async () => true };
  };
})();
"""


async def _registration(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    """A DevTools session with the ServiceWorker domain on, and the registration's id."""
    cdp = await context.new_cdp_session(page)
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_update(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if not registration["isDeleted"] and not found.done():
                found.set_result(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_update)
    await cdp.send("ServiceWorker.enable")
    async with asyncio.timeout(WAIT_MS / 1000):
        return cdp, await found


async def _notifications(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await page.evaluate(
        """async () => {
          const registration = await navigator.serviceWorker.ready;
          const shown = await registration.getNotifications();
          return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data.url }));
        }"""
    )
    return result


async def _shown_notifications(page: Page, count: int) -> list[dict[str, Any]]:
    """The notifications shown, once there are ``count`` of them (polled, bounded)."""
    async with asyncio.timeout(WAIT_S):
        while len(shown := await _notifications(page)) != count:  # noqa: ASYNC110 - browser state
            await asyncio.sleep(0.05)
    return shown


async def test_subscribe_deliver_show_and_open(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        subscription = rig.push.subscribe("browser")
        async with opened(browser, rig.server.base + "/#notify", wait_live=False) as (page, watch):
            context = page.context
            await context.grant_permissions(["notifications"], origin=rig.server.base)
            await page.add_init_script(FAKE_PUSH_MANAGER)
            await page.reload()
            await page.evaluate(f"window.__pushSubscription = {json.dumps(subscription)}")
            panel = page.locator("#notify")
            await expect(panel).to_have_attribute("open", "")
            await expect(page.locator("#push-support")).to_have_attribute("data-why", "push_ok")
            await page.locator('#notify-body input[name="notify_pref"][value="04"]').check()
            await page.locator('#notify-body select[name="min_intensity"]').select_option("3")
            await page.locator("#notify-subscribe").click()
            await expect(page.locator("#notify-message")).to_have_text("通知を受け取ります")
            scope = await page.evaluate(
                "navigator.serviceWorker.getRegistration('/').then((r) => r && r.scope)"
            )
            assert scope == rig.server.base + "/"
            asked = await page.evaluate("window.__askedKey")
            assert asked == rig.server.app[PUSH].signer().public_key
            store = rig.server.app[PUSH].store
            ids = await store.candidates(["04"])
            assert len(ids) == 1
            stored = await store.get(ids[0])
            assert stored is not None
            assert stored.endpoint == subscription["endpoint"]
            assert sorted(stored.filter.prefs or ()) == ["04"]
            await screenshot(page, "notify-panel")

            async with rig.delivering():
                await rig.append("q1", quake("E1"))
                await until(lambda: len(rig.push.for_name("browser")) == 1)
            payload = rig.push.for_name("browser")[0].payload
            assert payload["url"] == "/?item=e:E1"

            cdp, registration_id = await _registration(context, page)
            await cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": rig.server.base,
                    "registrationId": registration_id,
                    "data": json.dumps(payload, ensure_ascii=False),
                },
            )
            # Read what is shown in the same step that sees it (on a loaded machine a
            # second look could come while Chromium replaces the notification).
            [shown] = await _shown_notifications(page, 1)
            assert shown["title"] == "震源・震度情報"
            assert shown["body"].startswith("最大震度3")
            assert shown["tag"] == payload["topic"]
            assert shown["url"] == "/?item=e:E1"

            # A click on the notification opens the item (here: in the page already open).
            [worker] = context.service_workers
            await worker.evaluate(
                """async () => {
                  for (let tries = 0; tries < 200; tries++) {
                    const [notification] = await self.registration.getNotifications();
                    if (notification) {
                      const click = new NotificationEvent("notificationclick", { notification });
                      self.dispatchEvent(click);
                      return;
                    }
                    await new Promise((resolve) => setTimeout(resolve, 50));
                  }
                  throw new Error("no notification to click");
                }"""
            )
            await page.wait_for_url(rig.server.base + "/?item=e:E1")

            # Unsubscribing deletes the subscription at yure.
            await page.locator("#notify").evaluate("(d) => { d.open = true; }")
            await page.locator("#notify-unsubscribe").click()
            await expect(page.locator("#notify-message")).to_have_text("通知を止めました")
            assert await store.count() == 0
            watch.assert_clean()


RECORD_ALERTS = """
(() => {
  const settings = { prefs: ["13", "22"], sound: true, voice: true };
  localStorage.setItem("yure.notify", JSON.stringify(settings));
  window.__spoken = [];
  window.speechSynthesis.speak = (u) => window.__spoken.push({ text: u.text, lang: u.lang });
  window.__tones = 0;
  // The tab is in the background and notifications are allowed: a system notification too.
  Object.defineProperty(document, "hidden", { get: () => true });
  window.__notified = [];
  window.Notification = class {
    static permission = "granted";
    constructor(title, options) { window.__notified.push({ title, body: options.body }); }
  };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
})();
"""


async def test_page_alerts_only_for_official_items_of_my_prefectures(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with push_rig(redis_url, tmp_path) as rig:
        context_page = opened(browser, rig.server.base + "/", wait_live=False)
        async with context_page as (page, watch):
            await page.add_init_script(RECORD_ALERTS)
            await page.reload()
            await page.wait_for_selector('#stream-state[data-state="live"]')
            timeline = rig.server.timeline
            # A post and a felt report in Tokyo: never a sound.
            await append(timeline, "p1", user_event("post", ["13"], text="揺れた"))
            await append(timeline, "f1", user_event("felt", ["13"], count=12))
            # An EEW (warning) that names Tokyo: the EEW tone and a read-out.
            await append(timeline, "eew", fixture_event("VXSE43_warning"))
            await expect(page.locator("body")).to_have_attribute("data-last-alert", "eew")
            spoken = await page.evaluate("window.__spoken")
            assert len(spoken) == 1
            assert spoken[0]["lang"] == "ja-JP"
            assert "緊急地震速報" in spoken[0]["text"]
            assert await page.evaluate("window.__tones") > 0
            notified = await page.evaluate("window.__notified")
            assert [n["title"] for n in notified] == ["緊急地震速報（警報）"]
            # A strong quake elsewhere (Shikoku, Kyushu): nothing for Tokyo.
            await append(timeline, "far", fixture_event("VXSE53_prefixed"))
            # 大津波警報 on Shizuoka's coast (Tokyo Bay has an advisory only): the tsunami tone.
            await append(timeline, "tsu", fixture_event("VTSE41_major_tokyo_bay"))
            await expect(page.locator("body")).to_have_attribute("data-last-alert", "tsunami")
            assert len(await page.evaluate("window.__spoken")) == 2
            assert len(await page.evaluate("window.__notified")) == 2
            watch.assert_clean()


async def test_iphone_is_told_to_add_to_home_screen(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    async with (
        push_rig(redis_url, tmp_path) as rig,
        opened(
            browser, rig.server.base + "/?lang=en#notify", wait_live=False, user_agent=iphone
        ) as (page, watch),
    ):
        support = page.locator("#push-support")
        await expect(support).to_have_attribute("data-why", "push_ios")
        await expect(support).to_contain_text("Add to Home Screen")
        await expect(page.locator("#notify-subscribe")).to_be_disabled()
        manifest = await page.evaluate("fetch('/manifest.webmanifest').then((r) => r.json())")
        assert manifest["display"] == "standalone"
        assert any(icon["sizes"] == "192x192" for icon in manifest["icons"])
        watch.assert_clean()


async def test_use_my_location_picks_the_prefecture(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with (
        push_rig(redis_url, tmp_path) as rig,
        opened(
            browser,
            rig.server.base + "/#notify",
            wait_live=False,
            geolocation={"latitude": 34.6937, "longitude": 135.5023},  # Osaka
            permissions=["geolocation"],
        ) as (page, watch),
    ):
        await page.locator("#notify-locate").click()
        await expect(page.locator("#notify-message")).to_have_text("大阪府を追加しました")
        await expect(
            page.locator('#notify-body input[name="notify_pref"][value="27"]')
        ).to_be_checked()
        saved = await page.evaluate("JSON.parse(localStorage.getItem('yure.notify')).prefs")
        assert saved == ["27"]
        watch.assert_clean()
