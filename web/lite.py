"""``GET /lite?prefs=13,14&lang=en``: the page that must load on a jammed network (2G).

Server-rendered HTML without JavaScript, CSS or images: the newest official items for
the chosen prefectures, a 60 s ``<meta http-equiv="refresh">``, links to change the
prefectures and the language. Readable in a text browser. Under ~10 kB gzipped for
:data:`MAX_LITE_ITEMS` items (``tests/web/test_lite.py`` measures it).

:func:`render_lite` is pure (events and a clock in, HTML out); every string from a
telegram goes through :func:`html.escape`, and the query is never echoed: only the
prefecture codes it resolves to are.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import html
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from urllib.parse import urlencode

from aiohttp import web

from yure.broadcast.errors import TimelineError
from yure.geo import codes
from yure.geo.errors import GeoError
from yure.ingest.event import Event, InfoType, Intensity, Kind, TsunamiGrade
from yure.web import keys, lite_tsunami
from yure.web.newest import newest_official
from yure.web.pages import accepts_gzip
from yure.web.security import Policy, security_headers

log = logging.getLogger(__name__)

#: Items on the page.
MAX_LITE_ITEMS = 20
#: Timeline entries looked at to find them.
MAX_LITE_SCAN_ENTRIES = 5000
#: Longest headline shown, in characters (JMA's are about 60).
MAX_HEADLINE_CHARS = 200
#: Tsunami areas named per grade before 「ほかN区域」.
MAX_AREAS_PER_GRADE = 12
#: Prefecture tokens read from ``?prefs=``.
MAX_PREF_TOKENS = 64
#: Seconds between the page's own reloads.
REFRESH_S = 60
CACHE_CONTROL = "public, max-age=15"
JST = timezone(timedelta(hours=9))


class Lang(StrEnum):
    """The page's language (``?lang=en``; Japanese otherwise)."""

    JA = "ja"
    EN = "en"


WORDS: Mapping[Lang, Mapping[str, str]] = {
    Lang.JA: {
        "title": "yure 地震・津波情報（軽量版）",
        "where_all": "全国",
        "updated": "{time} 更新・{n}秒ごとに自動更新",
        "empty": "まだ情報はありません。",
        "official": "気象庁",
        "kind_quake": "地震情報",
        "kind_eew": "緊急地震速報",
        "kind_tsunami": "津波情報",
        "kind_notice": "お知らせ",
        "kind_other": "その他の情報",
        "hypocenter": "震源",
        "max_int": "最大震度",
        "eew_max": "予想最大震度",
        "intensity": "震度{v}",
        "major_warning": "大津波警報",
        "warning": "津波警報",
        "advisory": "津波注意報",
        "forecast": "津波予報",
        "none": "解除",
        "more_areas": "ほか{n}区域",
        "change": "地域を変える",
        "full": "地図つきの通常版",
        "other_lang": "English",
        "sep": "、",
        "just_now": "たった今",
        "m_ago": "{n}分前",
        "h_ago": "{n}時間前",
        "d_ago": "{n}日前",
        "source": "出典：気象庁。",
        "lg_max": "最大長周期地震動階級 {v}",
    },
    Lang.EN: {
        "title": "yure earthquake & tsunami information (lite)",
        "where_all": "All Japan",
        "updated": "updated {time}, reloads every {n} s",
        "empty": "Nothing yet.",
        "official": "JMA",
        "kind_quake": "Earthquake",
        "kind_eew": "Earthquake Early Warning",
        "kind_tsunami": "Tsunami",
        "kind_notice": "Notice",
        "kind_other": "Other information",
        "hypocenter": "Epicentre",
        "max_int": "Max intensity",
        "eew_max": "Forecast max intensity",
        "intensity": "Shindo {v}",
        "major_warning": "Major Tsunami Warning",
        "warning": "Tsunami Warning",
        "advisory": "Tsunami Advisory",
        "forecast": "Tsunami Forecast",
        "none": "Lifted",
        "more_areas": "and {n} more",
        "change": "Change area",
        "full": "Full page with map",
        "other_lang": "日本語",
        "sep": ", ",
        "just_now": "just now",
        "m_ago": "{n} min ago",
        "h_ago": "{n} h ago",
        "d_ago": "{n} d ago",
        "source": "Source: Japan Meteorological Agency.",
        "lg_max": "Max long-period ground motion class {v}",
    },
}
INTENSITY_WORDS: Mapping[Lang, Mapping[Intensity, str]] = {
    Lang.JA: {
        Intensity.I5_LOWER: "5弱",
        Intensity.I5_UPPER: "5強",
        Intensity.I6_LOWER: "6弱",
        Intensity.I6_UPPER: "6強",
    },
    Lang.EN: {
        Intensity.I5_LOWER: "5 Lower",
        Intensity.I5_UPPER: "5 Upper",
        Intensity.I6_LOWER: "6 Lower",
        Intensity.I6_UPPER: "6 Upper",
    },
}
#: Title prefix of a 取消 / 訂正 telegram, as JMA's own pages write it.
INFO_PREFIX = {InfoType.CANCELLED: "【取消】", InfoType.CORRECTED: "【訂正】"}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GRADES_STRONGEST_FIRST = (
    TsunamiGrade.MAJOR_WARNING,
    TsunamiGrade.WARNING,
    TsunamiGrade.ADVISORY,
    TsunamiGrade.FORECAST,
    TsunamiGrade.NONE,
)


@dataclasses.dataclass(frozen=True, slots=True)
class LiteQuery:
    """What ``?prefs=&lang=`` asked for, resolved: prefecture codes (empty: all Japan)."""

    prefs: tuple[str, ...]
    lang: Lang


def read_query(query: Mapping[str, str]) -> LiteQuery:
    """Prefecture codes and region ids from ``prefs`` (unknown tokens are dropped, never
    echoed), and the language."""
    found: set[str] = set()
    for token in query.get("prefs", "").split(",")[:MAX_PREF_TOKENS]:
        if not token.strip():
            continue
        try:
            found |= codes.resolve_pref_tokens(token)
        except GeoError:
            continue
    lang = Lang.EN if query.get("lang") == "en" else Lang.JA
    return LiteQuery(prefs=tuple(sorted(found)), lang=lang)


def lite_url(prefs: Iterable[str], lang: Lang, path: str = "/lite") -> str:
    """``path`` with these prefectures and language (codes only: nothing to escape)."""
    params = {}
    chosen = ",".join(prefs)
    if chosen:
        params["prefs"] = chosen
    if lang is Lang.EN:
        params["lang"] = "en"
    return path + ("?" + urlencode(params, safe=",") if params else "")


def format_jst(when: datetime, now: datetime, lang: Lang) -> str:
    """「3月11日 14:50」 (today: 「14:50」), "11 Mar 14:50 JST"; the year when not this one."""
    a = when.astimezone(JST)
    b = now.astimezone(JST)
    hm = a.strftime("%H:%M")
    en = lang is Lang.EN
    if a.year != b.year:
        day = (
            f"{a.day} {MONTHS_EN[a.month - 1]} {a.year} "
            if en
            else f"{a.year}年{a.month}月{a.day}日 "
        )
    elif (a.month, a.day) != (b.month, b.day):
        day = f"{a.day} {MONTHS_EN[a.month - 1]} " if en else f"{a.month}月{a.day}日 "
    else:
        day = ""
    return f"{day}{hm}{' JST' if en else ''}"


def format_age(when: datetime, now: datetime, lang: Lang) -> str:
    """「3分前」 / "3 min ago"."""
    words = WORDS[lang]
    s = max(0, int((now - when).total_seconds()))
    if s < 60:
        return words["just_now"]
    if s < 3600:
        return words["m_ago"].format(n=s // 60)
    if s < 86400:
        return words["h_ago"].format(n=s // 3600)
    return words["d_ago"].format(n=s // 86400)


def render_lite(events: Sequence[Event], query: LiteQuery, now: datetime) -> str:
    """The whole page for ``events`` (newest first)."""
    lang = query.lang
    words = WORDS[lang]
    e = html.escape
    where = words["sep"].join(_pref_name(code, lang) for code in query.prefs) or words["where_all"]
    updated = words["updated"].format(time=format_jst(now, now, lang), n=REFRESH_S)
    other = Lang.EN if lang is Lang.JA else Lang.JA
    items = []
    detailed: set[str] = set()
    for event in events[:MAX_LITE_ITEMS]:
        # An event's newest telegram says everything; its older ones only what they were.
        items.append(_item(event, lang, now, detail=event.event_id not in detailed))
        detailed.add(event.event_id)
    return (
        f'<!doctype html><html lang="{lang.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="refresh" content="{REFRESH_S}">'
        f"<title>{e(words['title'])} — {e(where)}</title></head><body>"
        f"<h1>{e(words['title'])}</h1>"
        f"<p><b>{e(where)}</b> · {e(updated)}<br>"
        f'<a href="{e(lite_url(query.prefs, other))}" hreflang="{other.value}">'
        f'{e(words["other_lang"])}</a> · <a href="#area">{e(words["change"])}</a> · '
        f'<a href="{e(lite_url(query.prefs, lang, "/"))}">{e(words["full"])}</a></p>'
        + (f"<ol>{''.join(items)}</ol>" if items else f"<p>{e(words['empty'])}</p>")
        + f'<h2 id="area">{e(words["change"])}</h2>{_area_links(lang)}'
        f"<p>{e(words['source'])}</p></body></html>"
    )


def _clock(when: datetime, *, now: datetime, lang: Lang) -> str:
    return format_jst(when, now, lang)


def _pref_name(code: str, lang: Lang) -> str:
    prefecture = codes.prefecture(code)
    return prefecture.name_en if lang is Lang.EN else prefecture.name


def _intensity(value: Intensity, lang: Lang) -> str:
    return WORDS[lang]["intensity"].format(v=INTENSITY_WORDS[lang].get(value, value.value))


def _item(event: Event, lang: Lang, now: datetime, *, detail: bool) -> str:
    words = WORDS[lang]
    e = html.escape
    title = INFO_PREFIX.get(event.info_type, "") + event.title
    head = (
        f"<b>[{e(words['official'])}] {e(words['kind_' + event.kind.value])}</b> "
        f"{e(format_jst(event.reported_at, now, lang))} "
        f"({e(format_age(event.reported_at, now, lang))})<br>{e(title)}"
    )
    lines = [head]
    if not detail:
        return "<li><p>" + head + "</p></li>"
    hypo = event.hypocenter
    if hypo is not None and hypo.name:
        lines.append(f"{e(words['hypocenter'])} {e(hypo.name)} {e(hypo.magnitude_text)}")
    if event.max_intensity is not None:
        key = "eew_max" if event.kind is Kind.EEW else "max_int"
        levels = _intensity_levels(event, lang)
        lines.append(f"{e(words[key])} {e(_intensity(event.max_intensity, lang))}{levels}")
    if lite_tsunami.has_arrivals(event) or event.tsunami_observations:
        grades = {grade: words[grade.value] for grade in TsunamiGrade}
        clock = functools.partial(_clock, now=now, lang=lang)
        lines.extend(lite_tsunami.arrival_lines(event, lang.value, clock, grades))
    else:
        lines.extend(_tsunami_lines(event, lang))
    if event.max_lg_intensity is not None:
        lines.append(e(words["lg_max"].format(v=event.max_lg_intensity.value)))
    if event.headline:
        lines.append(e(event.headline[:MAX_HEADLINE_CHARS]))
    return "<li><p>" + "<br>".join(lines) + "</p></li>"


def _intensity_levels(event: Event, lang: Lang) -> str:
    """「（6弱：愛媛県、高知県）」: the prefectures at the strongest observed level."""
    if not event.intensity:
        return ""
    top = max(event.intensity.values(), key=lambda v: list(Intensity).index(v))
    names = [_pref_name(code, lang) for code, v in sorted(event.intensity.items()) if v is top]
    return html.escape(
        f" ({WORDS[lang]['sep'].join(names)})" if lang is Lang.EN else f"（{'、'.join(names)}）"
    )


def _tsunami_lines(event: Event, lang: Lang) -> list[str]:
    words = WORDS[lang]
    lines = []
    for grade in GRADES_STRONGEST_FIRST:
        areas = [a.area_name for a in event.tsunami if a.grade is grade]
        if not areas:
            continue
        named = words["sep"].join(areas[:MAX_AREAS_PER_GRADE])
        if len(areas) > MAX_AREAS_PER_GRADE:
            named += words["sep"] + words["more_areas"].format(n=len(areas) - MAX_AREAS_PER_GRADE)
        lines.append(f"<b>{html.escape(words[grade.value])}</b> {html.escape(named)}")
    return lines


def _area_links(lang: Lang) -> str:
    """全国, then each 地方 with its prefectures, as plain links."""
    e = html.escape
    rows = [f'<a href="{e(lite_url((), lang))}">{e(WORDS[lang]["where_all"])}</a>']
    for region in codes.Region:
        members = codes.prefs_in_region(region)
        name = codes.region_name_en(region) if lang is Lang.EN else codes.region_name(region)
        links = " ".join(
            f'<a href="{e(lite_url((code,), lang))}">{e(_pref_name(code, lang))}</a>'
            for code in members
        )
        rows.append(f'<b><a href="{e(lite_url((region.value,), lang))}">{e(name)}</a></b>: {links}')
    return "<p>" + "<br>".join(rows) + "</p>"


async def lite_page(request: web.Request) -> web.Response:
    """The page for ``?prefs=&lang=``, gzipped when the client accepts it.

    Raises:
        web.HTTPServiceUnavailable: Redis failed.
    """
    query = read_query(request.query)
    timeline = request.app[keys.TIMELINE]
    try:
        found = await newest_official(
            timeline,
            frozenset(query.prefs),
            limit=MAX_LITE_ITEMS,
            max_scan_entries=MAX_LITE_SCAN_ENTRIES,
        )
        events = [event for _entry, event in found]
    except TimelineError as err:
        log.warning("lite page failed error=%s", err)
        raise web.HTTPServiceUnavailable(text="timeline unavailable\n") from err
    body = render_lite(events, query, datetime.now(JST)).encode()
    headers = security_headers(Policy.PAGE)
    headers["Content-Type"] = "text/html; charset=utf-8"
    headers["Cache-Control"] = CACHE_CONTROL
    headers["Vary"] = "Accept-Encoding"
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, compresslevel=6, mtime=0)
    return web.Response(body=body, headers=headers)
