"""What people look for in the first minutes (issue 12), in Chromium: tsunami areas with
their first-arrival time and expected height on the cards, the map (hover/tap) and a list
soonest first (「到達中」 at the top); observed heights; a VXSE53's intensity stations as
dots in JMA's colours; long-period ground motion classes. The events follow the parse
contract of docs/cli.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.broadcast.support import running_server
from tests.web.browser import (
    JMA_INTENSITY,
    JST,
    PHONE,
    append,
    assert_no_horizontal_overflow,
    fixture_event,
    opened,
    screenshot,
)
from yure.ingest.event import event_to_json
from yure.ingest.telegram import parse_telegram
from yure.web.lite import Lang, format_jst

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

#: (area code, grade, arrival minutes from now or None, condition, height m, description)
AREAS = [
    ("380", "major_warning", None, "津波到達中と推測", None, "巨大"),
    ("390", "major_warning", 10, None, 10.0, "１０ｍ超"),
    ("400", "warning", None, "ただちに津波来襲と予測", 3.0, "３ｍ"),
    ("312", "advisory", 40, None, 1.0, "１ｍ"),
    ("391", "advisory", 25, None, 1.0, "１ｍ"),
]
#: Soonest first: arriving now, then 「ただちに」, then by time.
ARRIVAL_ORDER = ["380", "400", "390", "391", "312"]


def tsunami_events(now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """A VTSE41 with arrival and height per area, and the VTSE51 with an observation."""
    warning = fixture_event("VTSE41_major_tokyo_bay")
    by_code = {a["area_code"]: a for a in warning["tsunami"]}
    for code, grade, minutes, condition, metres, text in AREAS:
        area = by_code[code]
        assert area["grade"] == grade
        arrival = None if minutes is None else (now + timedelta(minutes=minutes)).isoformat()
        area.update(
            arrival_time=arrival,
            arrival_condition=condition,
            max_height_m=metres,
            max_height_text=text,
            stations=[],
        )
    observed = dict(
        warning,
        type_code="VTSE51",
        title="津波情報",
        headline="津波を観測しました。",
        reported_at=(now + timedelta(minutes=1)).isoformat(),
        tsunami_observations=[
            {
                "station_code": "51101",
                "station_name": "御前崎",
                "area_code": "380",
                "area_name": "静岡県",
                "prefs": ["22"],
                "first_arrival_time": now.isoformat(),
                "first_initial": "押し",
                "first_condition": None,
                "max_height_m": 1.2,
                "max_height_text": "１．２ｍ",
                "max_height_time": now.isoformat(),
                "max_height_condition": "上昇中",
            }
        ],
        tsunami_estimates=[],
    )
    return warning, observed


def quake_with_stations(count: int) -> dict[str, Any]:
    """The VXSE53 fixture (豊後水道) with ``count`` intensity stations around Shikoku and
    Kyushu, a long-period class, and one station in the 沖縄 inset."""
    levels = ["1", "2", "3", "4", "5-", "6-"]
    stations = [
        {
            "code": f"{3800000 + n:07d}",
            "name": f"観測点{n}",
            "pref": "38",
            "intensity": levels[n % len(levels)],
            "lat": 32.0 + (n % 40) * 0.06,
            "lon": 131.0 + (n // 40) * 0.06,
            "lg_intensity": None,
        }
        for n in range(count)
    ]
    stations.append(
        {
            "code": "4720100",
            "name": "那覇市",
            "pref": "47",
            "intensity": "1",
            "lat": 26.21,
            "lon": 127.68,
            "lg_intensity": None,
        }
    )
    return fixture_event(
        "VXSE53_prefixed",
        stations=stations,
        max_lg_intensity="3",
        lg_intensity={"38": "3", "39": "2"},
    )


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_tsunami_arrivals_heights_and_observations(
    browser: Browser, redis_url: str, tmp_path: Path, lang: str
) -> None:
    now = datetime.now(JST).replace(second=0, microsecond=0)
    warning, observed = tsunami_events(now)
    at = {m: format_jst(now + timedelta(minutes=m), now, Lang(lang)) for m in (10, 25, 40)}
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "t41", warning)
        await append(server.timeline, "t51", observed)
        url = server.base + ("/?lang=en" if lang == "en" else "/")
        async with opened(browser, url, viewport=PHONE) as (page, watch):
            card = page.locator("#pinned article")
            rows = card.locator(".arrivals li")
            await expect(rows).to_have_count(6)  # and 和歌山県's 津波予報, without a time, last
            areas = await rows.evaluate_all("(l) => l.map((li) => li.dataset.area)")
            assert areas == [*ARRIVAL_ORDER, "530"]
            under_map = page.locator("#tsunami-list li")
            await expect(under_map).to_have_count(5)
            assert await under_map.evaluate_all("(l) => l.map((li) => li.dataset.area)") == (
                ARRIVAL_ORDER
            )
            aichi = card.locator('.arrivals li[data-area="390"]')
            if lang == "ja":
                await expect(rows.first).to_have_text(
                    "大津波警報 静岡県 第1波 津波到達中と推測・予想される高さ 巨大"
                )
                await expect(aichi).to_contain_text(f"第1波 {at[10]} 予想・予想される高さ １０ｍ超")
                await expect(card.locator(".observations li")).to_have_text(
                    f"御前崎 第1波 {format_jst(now, now, Lang.JA)} 押し・観測 1.2m 上昇中"
                )
                title = "静岡県 大津波警報 第1波 津波到達中と推測 予想される高さ 巨大"
            else:
                await expect(rows.first).to_have_text(
                    "Major Tsunami Warning 静岡県 1st wave: arriving now (estimated),"
                    " expected height huge"
                )
                await expect(aichi).to_contain_text(
                    f"1st wave expected {at[10]}, expected height over 10 m"
                )
                await expect(card.locator(".observations li")).to_have_text(
                    f"御前崎 1st wave {format_jst(now, now, Lang.EN)} rise first,"
                    " observed 1.2 m rising"
                )
                title = (
                    "静岡県 Major Tsunami Warning 1st wave: arriving now (estimated)"
                    " expected height huge"
                )
            # On the map: hover shows the area's arrival and height; a tap writes it out.
            line = page.locator('path.tsunami-line[data-area="380"]')
            await expect(line.locator("title")).to_have_text(title)
            await line.dispatch_event("click")
            await expect(page.locator("#map-pick")).to_have_text(title)
            await page.locator("#map-pick").evaluate("(p) => { p.textContent = ''; }")
            # A click a few pixels off the thin line still hits its wide twin.
            hit = page.locator('path.tsunami-hit[data-area="380"]')
            await expect(hit).to_have_count(1)
            near = await hit.evaluate(
                """(p) => {
                    const at = p.getPointAtLength(p.getTotalLength() / 2);
                    const m = p.getScreenCTM();
                    return [at.x * m.a + at.y * m.c + m.e, at.x * m.b + at.y * m.d + m.f + 4];
                }"""
            )
            await page.mouse.click(near[0], near[1])
            await expect(page.locator("#map-pick")).to_have_text(title)
            await screenshot(page, f"tsunami-arrivals-{lang}")
            watch.assert_clean()


async def test_station_points_and_long_period_classes(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "ehime", quake_with_stations(1200))
        async with opened(browser, server.base + "/", viewport=PHONE) as (page, watch):
            dots = page.locator("g.stations path.station-dots")
            await expect(dots).to_have_count(6)  # one path per intensity class
            six = page.locator('path.station-dots[data-intensity="6-"]')
            await expect(six).to_have_attribute("fill", JMA_INTENSITY["6-"])
            d = await six.get_attribute("d")
            assert d is not None and d.count("M") == 200  # every 6th of 1,200
            ones = await page.locator('path.station-dots[data-intensity="1"]').get_attribute("d")
            assert ones is not None and ones.count("M") == 201  # with 那覇, in the inset
            await expect(page.locator("svg.japan")).to_have_class("japan has-stations")
            await expect(page.locator('.lg-mark[data-pref="38"]')).to_have_attribute("data-lg", "3")
            await expect(page.locator('.lg-mark[data-pref="38"] text')).to_have_text("長3")
            card = page.locator("#pinned article")
            await expect(card.locator(".lg-levels")).to_contain_text("最大長周期地震動階級 3")
            await expect(card.locator(".lg-levels")).to_contain_text("長周期地震動階級2 高知県")
            # The stations lie where their coordinates are: inside the map, 那覇 in the inset.
            inset = await page.locator("rect.inset").bounding_box()
            box = await page.locator('path.station-dots[data-intensity="1"]').bounding_box()
            assert inset is not None and box is not None
            assert (
                box["x"] < inset["x"] + inset["width"] and box["y"] < inset["y"] + inset["height"]
            )
            await assert_no_horizontal_overflow(page)
            await screenshot(page, "stations-phone")
            watch.assert_clean()
        url = server.base + "/embed?mode=map&lang=en"
        async with opened(browser, url, viewport=PHONE) as (page, watch):
            await expect(page.locator("path.station-dots")).to_have_count(6)
            await expect(page.locator(".lg-levels")).to_contain_text(
                "Max long-period ground motion 3"
            )
            watch.assert_clean()


# --- real telegrams, parsed (ingest's issue 12 fields) -----------------------------------


async def test_a_vtse51s_arrivals_heights_and_a_vxse53s_stations(
    browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    arrivals = fixture_event("VTSE51_arrivals")  # 岩手 到達を確認 10m超, 宮城 12:40 ただちに
    quake = fixture_event("VXSE53_corrected_not_received")
    with_coords = [s for s in quake["stations"] if s["lat"] is not None and s["intensity"]]
    assert with_coords, "the fixture's stations have coordinates"
    miyagi_at = format_jst(
        datetime.fromisoformat("2024-09-01T12:40:00+09:00"), datetime.now(JST), Lang.JA
    )
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "t51", arrivals)
        await append(server.timeline, "q53", quake)
        async with opened(browser, server.base + "/", viewport=PHONE) as (page, watch):
            card = page.locator(f'article[data-event-id="{arrivals["event_id"]}"]')
            rows = card.locator(".arrivals li")
            await expect(rows).to_have_count(3)
            assert await rows.evaluate_all("(l) => l.map((li) => li.dataset.area)") == [
                "210",
                "220",
                "102",
            ]
            await expect(rows.nth(0)).to_have_text(
                "大津波警報 岩手県 第1波 第１波の到達を確認・予想される高さ １０ｍ超"
            )
            await expect(rows.nth(1)).to_have_text(
                f"津波警報 宮城県 第1波 {miyagi_at} ただちに津波来襲と予測・予想される高さ ３ｍ"
            )
            observed = card.locator(".observations li")
            await expect(observed.first).to_contain_text("宮古")
            await expect(observed.first).to_contain_text("観測 1.2m 上昇中")
            await expect(observed.nth(1)).to_contain_text("久慈港 第１波識別不能・観測 微弱")
            await expect(page.locator("#tsunami-list li").first).to_have_attribute(
                "data-area", "210"
            )
            # The VXSE53's stations: one dot per station with coordinates, by class.
            await page.locator(f'article[data-event-id="{quake["event_id"]}"] .show-on-map').click()
            dots = page.locator("path.station-dots")
            await expect(dots.first).to_be_attached()
            drawn = await dots.evaluate_all(
                "(l) => l.map((p) =>"
                " [p.dataset.intensity, p.getAttribute('d').split('M').length - 1])"
            )
            expected: dict[str, int] = {}
            for station in with_coords:
                expected[station["intensity"]] = expected.get(station["intensity"], 0) + 1
            assert dict(drawn) == expected
            await screenshot(page, "tsunami-vtse51-fixture")
            watch.assert_clean()


@pytest.mark.reference
async def test_reference_vxse53_and_vxse62_on_the_map(
    browser: Browser, redis_url: str, tmp_path: Path, reference_dir: Path
) -> None:
    xml = reference_dir / "jma" / "xml"
    stations = event_to_json(parse_telegram((xml / "32-35_06_03_240613_VXSE53.xml").read_bytes()))
    long_period = event_to_json(parse_telegram((xml / "78_01_01_240613_VXSE62.xml").read_bytes()))
    placed = [s for s in stations["stations"] if s["lat"] is not None and s["intensity"]]
    assert len(placed) > 500
    async with running_server(redis_url, tmp_path) as server:
        await append(server.timeline, "q53", stations)
        await append(server.timeline, "q62", long_period)
        async with opened(browser, server.base + "/", viewport=PHONE) as (page, watch):
            await page.locator(
                f'article[data-event-id="{stations["event_id"]}"] .show-on-map'
            ).click()
            counts = await page.locator("path.station-dots").evaluate_all(
                "(l) => l.map((p) => p.getAttribute('d').split('M').length - 1)"
            )
            assert sum(counts) == len(placed)
            await page.locator(
                f'article[data-event-id="{long_period["event_id"]}"] .show-on-map'
            ).click()
            await expect(page.locator('.lg-mark[data-pref="04"]')).to_have_attribute("data-lg", "3")
            card = page.locator(f'article[data-event-id="{long_period["event_id"]}"]')
            await expect(card.locator(".lg-levels")).to_contain_text("最大長周期地震動階級 3")
            await assert_no_horizontal_overflow(page)
            await screenshot(page, "stations-reference")
            watch.assert_clean()
