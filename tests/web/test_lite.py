"""``/lite``: the page for a jammed network. Measured: ≤ 10 kB gzipped for the newest 20
official items even when each is a tsunami telegram naming every 津波予報区; read without
JavaScript (html.parser), as a text browser would; prefectures, language, refresh; and
every string from a telegram or the query escaped."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from tests.broadcast.support import running_server
from tests.web.browser import JST, append, fixture_event, user_event
from yure.data import __file__ as data_init
from yure.ingest.event import event_from_json
from yure.web import lite

#: The issue's bound for 20 items, gzipped.
LITE_BUDGET_GZIP_BYTES = 10_000
HOSTILE = '<script>window.__xss=1</script><img src=x onerror="alert(1)">&amp;'


class Page(HTMLParser):
    """What a text browser sees: the text, the links, the tags; and anything that
    would need JavaScript or fetch more."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: dict[str, str] = {}
        self.tags: list[str] = []
        self.meta: dict[str, str] = {}
        self.problems: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag in {"script", "style", "img", "iframe", "link", "object", "embed", "form"}:
            self.problems.append(f"<{tag}>")
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{name}= on <{tag}>")
        if tag == "meta" and values.get("http-equiv"):
            self.meta[str(values["http-equiv"])] = str(values.get("content"))
        if tag == "a":
            self._href = values.get("href")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links["".join(self._link_text).strip()] = self._href
            self._href = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def read(body: str) -> Page:
    page = Page()
    page.feed(body)
    page.close()
    return page


def every_area_tsunami(event_id: str, headline: str, shift: int = 0) -> dict[str, Any]:
    """A 大津波警報 naming every 津波予報区 with its arrival and height (the longest
    tsunami item there is); ``shift`` varies the times and heights between items."""
    heights = ("巨大", "高い", "１０ｍ超", "５ｍ", "３ｍ")
    table = Path(data_init).parent / "tsunami_areas.csv"
    with table.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "津波予報区"]
    areas = [
        {
            "area_code": r["code"],
            "area_name": r["name"],
            "grade": "major_warning",
            "last_grade": None,
            "prefs": r["prefs"].split(";"),
            "arrival_time": f"2024-01-01T{16 + shift % 8:02d}:{(n * 7 + shift) % 60:02d}:00+09:00",
            "arrival_condition": "ただちに津波来襲と予測" if (n + shift) % 3 == 0 else None,
            "max_height_m": None,
            "max_height_text": heights[(n + shift) % len(heights)],
            "stations": [],
        }
        for n, r in enumerate(rows)
    ]
    prefs = sorted({p for r in rows for p in r["prefs"].split(";")})
    return fixture_event(
        "VTSE41_major_tokyo_bay", event_id=event_id, headline=headline, tsunami=areas, prefs=prefs
    )


async def get(base: str, path: str) -> tuple[bytes, str, CIMultiDictProxy[str]]:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as http,
        http.get(base + path, headers={"Accept-Encoding": "gzip"}) as resp,
    ):
        assert resp.status == 200, path
        packed = await resp.read()
        assert resp.headers["Content-Encoding"] == "gzip"
        return packed, gzip.decompress(packed).decode(), resp.headers


async def test_twenty_items_fit_in_10kb_and_read_without_javascript(
    redis_url: str, tmp_path: Path
) -> None:
    async with running_server(redis_url, tmp_path) as server:
        for n in range(25):
            headline = f"{n}番目：大津波警報を発表しました。ただちに高台へ避難してください。"
            await append(
                server.timeline, f"t{n}", every_area_tsunami(f"2024010116{n:02d}00", headline, n)
            )
        await append(server.timeline, "post", user_event("post", ["13"], id="p", text="投稿です"))
        packed, body, headers = await get(server.base, "/lite")
    print(f"lite bytes={len(body.encode())} gzip={len(packed)} items=20")
    assert len(packed) <= LITE_BUDGET_GZIP_BYTES, len(packed)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src" in headers["Content-Security-Policy"]
    page = read(body)
    assert page.problems == []
    assert page.meta == {"refresh": "60"}
    assert page.tags.count("li") == 20
    text = page.all_text
    assert "24番目：大津波警報を発表しました。" in text  # newest first
    assert text.index("24番目") < text.index("23番目")
    assert "4番目" not in text.replace("14番目", "").replace("24番目", "")  # 20 only
    assert "投稿です" not in text  # official items only
    assert "大津波警報 北海道太平洋沿岸東部 第1波 2024年1月1日 16:24 ただちに津波来襲と予測" in text
    assert "予想される高さ 巨大" in text and "ほか54区域" in text
    assert text.count("ほか54区域") == 20  # 20 different events: each in full
    assert page.links["English"] == "/lite?lang=en"
    assert page.links["東京都"] == "/lite?prefs=13"
    assert page.links["関東"] == "/lite?prefs=kanto"
    assert page.links["地図つきの通常版"] == "/"


async def test_prefectures_language_and_escaping(redis_url: str, tmp_path: Path) -> None:
    recent = (datetime.now(JST) - timedelta(minutes=3, seconds=20)).replace(microsecond=0)
    async with running_server(redis_url, tmp_path) as server:
        ehime = fixture_event("VXSE53_prefixed", reported_at=recent.isoformat(), headline=HOSTILE)
        await append(server.timeline, "ehime", ehime)
        await append(server.timeline, "tokyo", fixture_event("VTSE41_major_tokyo_bay"))
        _, body, _ = await get(server.base, '/lite?prefs=38,"><script>x</script>&lang=en')
        _, ja_body, _ = await get(server.base, "/lite?prefs=shikoku")
    page = read(body)
    assert page.problems == []
    text = page.all_text
    assert HOSTILE in text  # shown as the characters it is, never as markup
    assert "<script>x" not in body and "&lt;script&gt;x" not in body  # the query is not echoed
    assert "Ehime" in text and "Tsunami" not in text  # only prefecture 38's items
    assert f"{recent.strftime('%H:%M')} JST (3 min ago)" in text
    assert "Max intensity Shindo 6 Lower (Ehime, Kochi)" in text
    assert page.links["日本語"] == "/lite?prefs=38"
    assert page.links["Full page with map"] == "/?prefs=38&lang=en"
    assert page.links["Tokyo"] == "/lite?prefs=13&lang=en"
    ja = read(ja_body).all_text
    assert "香川県、愛媛県、徳島県、高知県" not in ja  # names come in code order
    assert "徳島県、香川県、愛媛県、高知県" in ja
    assert (
        f"{recent.strftime('%H:%M')} (3分前)" in ja and "最大震度 震度6弱（愛媛県、高知県）" in ja
    )


def test_a_vtse51s_arrivals_heights_and_observations() -> None:
    now = datetime(2024, 9, 1, 12, 30, tzinfo=JST)
    event = event_from_json(fixture_event("VTSE51_arrivals"))
    ja = read(lite.render_lite([event], lite.read_query({}), now)).all_text
    assert (
        "大津波警報 岩手県 第1波 第１波の到達を確認・予想される高さ １０ｍ超"
        "津波警報 宮城県 第1波 12:40 ただちに津波来襲と予測・予想される高さ ３ｍ"
        "津波予報 北海道太平洋沿岸西部"
        "宮古 第1波 12:14 引き・観測 1.2m 上昇中"
        "久慈港 第１波識別不能・観測 微弱"
    ) in ja
    en = read(lite.render_lite([event], lite.read_query({"lang": "en"}), now)).all_text
    assert "宮城県 1st wave: 12:40 JST expected immediately, expected height 3 m" in en
    assert "宮古 1st wave 12:14 JST fall first, observed 1.2 m rising" in en
    quake = fixture_event("VXSE53_prefixed", max_lg_intensity="3", lg_intensity={"38": "3"})
    page = read(lite.render_lite([event_from_json(quake)], lite.read_query({}), now))
    assert "最大長周期地震動階級 3" in page.all_text


def test_jst_dates_are_unambiguous() -> None:
    now = datetime(2026, 3, 11, 15, 0, tzinfo=JST)
    cases = [
        (datetime(2026, 3, 11, 14, 50, tzinfo=JST), "14:50", "14:50 JST", "10分前"),
        (datetime(2026, 3, 10, 5, 50, tzinfo=JST), "3月10日 05:50", "10 Mar 05:50 JST", "1日前"),
        (
            datetime(2025, 12, 31, 14, 0, tzinfo=JST),
            "2025年12月31日 14:00",
            "31 Dec 2025 14:00 JST",
            "70日前",
        ),
    ]
    for when, ja, en, age in cases:
        assert lite.format_jst(when, now, lite.Lang.JA) == ja
        assert lite.format_jst(when, now, lite.Lang.EN) == en
        assert lite.format_age(when, now, lite.Lang.JA) == age
    # The same instant written in UTC is still shown in JST.
    utc = datetime.fromisoformat("2026-03-11T05:50:00+00:00")
    assert lite.format_jst(utc, now, lite.Lang.JA) == "14:50"
    assert lite.format_age(now, now, lite.Lang.EN) == "just now"
    assert lite.format_age(now - timedelta(hours=2), now, lite.Lang.EN) == "2 h ago"


def test_render_lite_without_items_and_bad_query() -> None:
    query = lite.read_query({"prefs": ",".join(["zz"] * 10) + ",13,kanto", "lang": "fr"})
    assert query == lite.LiteQuery(
        prefs=("08", "09", "10", "11", "12", "13", "14"), lang=lite.Lang.JA
    )
    capped = lite.read_query({"prefs": ",".join(["zz"] * lite.MAX_PREF_TOKENS) + ",13"})
    assert capped.prefs == ()
    page = read(lite.render_lite([], query, datetime.now(JST)))
    assert "まだ情報はありません。" in page.all_text
    assert page.tags.count("li") == 0
    cancelled = event_from_json(fixture_event("VXSE53_cancelled"))
    page = read(lite.render_lite([cancelled], lite.read_query({}), datetime.now(JST)))
    assert "【取消】" in page.all_text


def test_the_live_page_links_to_it() -> None:
    index = (Path(lite.__file__).parent / "static" / "index.html").read_text()
    assert '<a id="lite-link" href="/lite"' in index
    live = (Path(lite.__file__).parent / "static" / "js" / "live.js").read_text()
    assert '$("#lite-link").href = urlWith({ prefs: params.prefTokens' in live


def test_older_telegrams_of_an_event_are_one_line() -> None:
    newer = event_from_json(fixture_event("VXSE53_prefixed", headline="新しい発表"))
    older = event_from_json(fixture_event("VXSE53_prefixed", headline="古い発表"))
    page = read(lite.render_lite([newer, older], lite.read_query({}), datetime.now(JST)))
    text = page.all_text
    assert page.tags.count("li") == 2
    assert "新しい発表" in text and "古い発表" not in text
    assert text.count("震源 豊後水道") == 1
