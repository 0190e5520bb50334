"""The lite page's tsunami lines: each area's first arrival and expected height, soonest
first, and observed heights, in words (the same as ``web/static/js/tsunami.js`` writes
them on the live page). Pure: values in, escaped HTML fragments out.

JMA's own phrases (conditions, 「巨大」「１０ｍ超」) stay as JMA wrote them in Japanese;
English gives the known ones in English and the rest verbatim.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from datetime import datetime

from yure.ingest.event import Event, TsunamiGrade
from yure.ingest.event_details import TsunamiArea, TsunamiObservation

#: Area lines per item before 「ほかN区域」.
MAX_AREA_LINES = 12
#: Observation lines per item.
MAX_OBSERVATION_LINES = 5
#: Weakest grade listed.
GRADE_ORDER = (
    TsunamiGrade.NONE,
    TsunamiGrade.FORECAST,
    TsunamiGrade.ADVISORY,
    TsunamiGrade.WARNING,
    TsunamiGrade.MAJOR_WARNING,
)
PHRASES: Mapping[str, Mapping[str, str]] = {
    "ja": {
        "first_wave": "第1波 {time} 予想",
        "first_wave_cond": "第1波 {cond}",
        "expected_height": "予想される高さ {h}",
        "observed": "観測 {h}",
        "observed_first": "第1波 {time} {init}",
        "join": "・",
        "more_areas": "ほか{n}区域",
    },
    "en": {
        "first_wave": "1st wave expected {time}",
        "first_wave_cond": "1st wave: {cond}",
        "expected_height": "expected height {h}",
        "observed": "observed {h}",
        "observed_first": "1st wave {time} {init}",
        "join": ", ",
        "more_areas": "and {n} more",
    },
}
#: JMA's words in English (tsunami conditions and height descriptions).
JMA_WORDS_EN: Mapping[str, str] = {
    "津波到達中と推測": "arriving now (estimated)",
    "第１波の到達を確認": "arrival observed",
    "ただちに津波来襲と予測": "expected immediately",
    "巨大": "huge",
    "高い": "high",
    "上昇中": "rising",
    "観測中": "being observed",
    "押し": "rise first",
    "引き": "fall first",
    "第１波識別不能": "first wave not identifiable",
}

Clock = Callable[[datetime], str]


def _jma(text: str | None, lang: str) -> str:
    return "" if text is None else (JMA_WORDS_EN.get(text, text) if lang == "en" else text)


def _height(m: float | None, text: str | None, lang: str, *, number_first: bool) -> str:
    known = m is not None and math.isfinite(m)
    shown = "" if not known else f"{m:g}"
    if lang == "en":
        return (
            (f"over {shown} m" if "超" in (text or "") else f"{shown} m")
            if known
            else _jma(text, lang)
        )
    if number_first and known:
        return f"{shown}m"
    return text or (f"{shown}m" if known else "")


def arrival_key(area: TsunamiArea) -> tuple[int, float, int, str]:
    """「到達」 first, then 「ただちに」, then by time, then strongest grade."""
    cond = area.arrival_condition or ""
    rank = 0 if "到達" in cond else 1 if "ただちに" in cond else 2
    at = area.arrival_time.timestamp() if area.arrival_time else math.inf
    return rank, at, -GRADE_ORDER.index(area.grade), area.area_code


def arrival_text(area: TsunamiArea, lang: str, clock: Clock) -> str:
    words = PHRASES[lang]
    time = clock(area.arrival_time) if area.arrival_time else ""
    if area.arrival_condition:
        cond = " ".join(p for p in (time, _jma(area.arrival_condition, lang)) if p)
        return words["first_wave_cond"].format(cond=cond)
    return words["first_wave"].format(time=time) if time else ""


def height_text(area: TsunamiArea, lang: str) -> str:
    h = _height(area.max_height_m, area.max_height_text, lang, number_first=False)
    return PHRASES[lang]["expected_height"].format(h=h) if h else ""


def observed_text(obs: TsunamiObservation, lang: str, clock: Clock) -> str:
    words = PHRASES[lang]
    parts = []
    if obs.first_arrival_time:
        first = words["observed_first"].format(
            time=clock(obs.first_arrival_time), init=_jma(obs.first_initial, lang)
        )
        parts.append(first.strip())
    elif obs.first_condition:
        parts.append(_jma(obs.first_condition, lang))
    h = _height(obs.max_height_m, obs.max_height_text, lang, number_first=True)
    seen = " ".join(p for p in (h, _jma(obs.max_height_condition, lang)) if p)
    if seen:
        parts.append(words["observed"].format(h=seen))
    return words["join"].join(parts)


def has_arrivals(event: Event) -> bool:
    return any(
        a.arrival_time or a.arrival_condition or a.max_height_text or a.max_height_m is not None
        for a in event.tsunami
    )


def arrival_lines(
    event: Event, lang: str, clock: Clock, grade_names: Mapping[TsunamiGrade, str]
) -> list[str]:
    """One escaped line per area (forecast and up), soonest first, then the observations."""
    e = html.escape
    words = PHRASES[lang]
    areas = sorted((a for a in event.tsunami if a.grade is not TsunamiGrade.NONE), key=arrival_key)
    lines = []
    for area in areas[:MAX_AREA_LINES]:
        said = words["join"].join(
            t for t in (arrival_text(area, lang, clock), height_text(area, lang)) if t
        )
        lines.append(f"<b>{e(grade_names[area.grade])}</b> {e(area.area_name)} {e(said)}".rstrip())
    if len(areas) > MAX_AREA_LINES:
        lines.append(e(words["more_areas"].format(n=len(areas) - MAX_AREA_LINES)))
    for obs in event.tsunami_observations[:MAX_OBSERVATION_LINES]:
        if obs.station_name:
            lines.append(f"{e(obs.station_name)} {e(observed_text(obs, lang, clock))}")
    return lines
