"""yure's own JMA-format test documents: telegrams and Atom feeds, built in code.

The shapes follow JMA 防災情報XML (namespaces per section, Control/Head/Body; see the
official sample telegrams) and today's Atom feed structure
(``www.data.jma.go.jp/developer/xml/feed/eqvol.xml``); the values are invented.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import escape

JST = timezone(timedelta(hours=9))

_CONTROL_TITLE = {
    "VXSE51": "震度速報",
    "VXSE52": "震源に関する情報",
    "VXSE53": "震源・震度に関する情報",
    "VTSE41": "津波警報・注意報・予報a",
}
_HEAD_TITLE = {
    "VXSE51": "震度速報",
    "VXSE52": "震源に関する情報",
    "VXSE53": "震源・震度情報",
    "VTSE41": "津波警報・注意報・予報",
}
_INFO_KIND = {
    "VXSE51": "震度速報",
    "VXSE52": "震源速報",
    "VXSE53": "地震情報",
    "VTSE41": "津波警報・注意報・予報",
}


@dataclasses.dataclass(frozen=True)
class PrefIntensity:
    """One prefecture of an Observation with one area and one station."""

    code: str
    name: str
    area_code: str
    area_name: str
    max_int: str


MIYAGI = PrefIntensity("04", "宮城県", "222", "宮城県中部", "3")
FUKUSHIMA = PrefIntensity("07", "福島県", "251", "福島県浜通り", "3")


@dataclasses.dataclass(frozen=True)
class Epicenter:
    name: str = "福島県沖"
    code: str = "289"
    coordinate: str = "+37.6+141.6-50000/"
    magnitude: str = "4.5"


def _observation(max_int: str, prefs: Iterable[PrefIntensity], stations: bool) -> str:
    parts = [f"<Intensity><Observation><MaxInt>{max_int}</MaxInt>"]
    for pref in prefs:
        city = ""
        if stations:
            city = (
                f"<City><Name>市</Name><Code>{pref.code}20200</Code><MaxInt>{pref.max_int}</MaxInt>"
                f"<IntensityStation><Name>観測点＊</Name><Code>{pref.code}20239</Code>"
                f"<Int>{pref.max_int}</Int></IntensityStation></City>"
            )
        parts.append(
            f"<Pref><Name>{pref.name}</Name><Code>{pref.code}</Code><MaxInt>{pref.max_int}</MaxInt>"
            f"<Area><Name>{pref.area_name}</Name><Code>{pref.area_code}</Code>"
            f"<MaxInt>{pref.max_int}</MaxInt>{city}</Area></Pref>"
        )
    parts.append("</Observation></Intensity>")
    return "".join(parts)


def _earthquake(origin: datetime, epicenter: Epicenter) -> str:
    stamp = origin.astimezone(JST).replace(second=0).isoformat()
    return (
        f"<Earthquake><OriginTime>{stamp}</OriginTime><ArrivalTime>{stamp}</ArrivalTime>"
        f"<Hypocenter><Area><Name>{epicenter.name}</Name>"
        f'<Code type="震央地名">{epicenter.code}</Code>'
        f'<jmx_eb:Coordinate description="">{epicenter.coordinate}</jmx_eb:Coordinate>'
        f"</Area></Hypocenter>"
        f'<jmx_eb:Magnitude type="Mj" description="">{epicenter.magnitude}</jmx_eb:Magnitude>'
        f"</Earthquake>"
    )


def _report(
    type_code: str,
    *,
    event_id: str,
    serial: int | None,
    report_time: datetime,
    status: str,
    info_type: str,
    headline: str,
    body: str,
) -> bytes:
    report_jst = report_time.astimezone(JST)
    control_time = (report_time + timedelta(seconds=7)).astimezone(UTC)
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/" xmlns:jmx="http://xml.kishou.go.jp/jmaxml1/">
<Control>
<Title>{_CONTROL_TITLE[type_code]}</Title>
<DateTime>{control_time.strftime("%Y-%m-%dT%H:%M:%SZ")}</DateTime>
<Status>{status}</Status>
<EditorialOffice>気象庁本庁</EditorialOffice>
<PublishingOffice>気象庁</PublishingOffice>
</Control>
<Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
<Title>{_HEAD_TITLE[type_code]}</Title>
<ReportDateTime>{report_jst.isoformat()}</ReportDateTime>
<TargetDateTime>{report_jst.isoformat()}</TargetDateTime>
<EventID>{event_id}</EventID>
<InfoType>{info_type}</InfoType>
<Serial>{"" if serial is None else serial}</Serial>
<InfoKind>{_INFO_KIND[type_code]}</InfoKind>
<InfoKindVersion>1.0_1</InfoKindVersion>
<Headline><Text>{escape(headline)}</Text></Headline>
</Head>
<Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/seismology1/" xmlns:jmx_eb="http://xml.kishou.go.jp/jmaxml1/elementBasis1/">
{body}
</Body>
</Report>
"""
    return doc.encode()


def quake(
    type_code: str,
    *,
    event_id: str,
    report_time: datetime,
    serial: int | None = None,
    status: str = "通常",
    info_type: str = "発表",
    max_int: str = "3",
    prefs: tuple[PrefIntensity, ...] = (MIYAGI, FUKUSHIMA),
    epicenter: Epicenter | None = None,
) -> bytes:
    """A VXSE51 (intensities), VXSE52 (hypocentre) or VXSE53 (both) telegram."""
    origin = report_time - timedelta(minutes=3)
    epicenter = epicenter or Epicenter()
    if type_code == "VXSE51":
        body = _observation(max_int, prefs, stations=False)
    elif type_code == "VXSE52":
        body = _earthquake(origin, epicenter)
    else:
        body = _earthquake(origin, epicenter) + _observation(max_int, prefs, stations=True)
    return _report(
        type_code,
        event_id=event_id,
        serial=serial,
        report_time=report_time,
        status=status,
        info_type=info_type,
        headline="地震がありました。",
        body=body,
    )


def cancellation(
    type_code: str, *, event_id: str, report_time: datetime, serial: int | None = None
) -> bytes:
    """A 取消 telegram: Head says 取消, the body only a text."""
    title = _HEAD_TITLE[type_code]
    return _report(
        type_code,
        event_id=event_id,
        serial=serial,
        report_time=report_time,
        status="通常",
        info_type="取消",
        headline=f"{title}を取り消します。",
        body=f"<Text>先ほどの、{title}を取り消します。</Text>",
    )


@dataclasses.dataclass(frozen=True)
class TsunamiItem:
    area_code: str
    area_name: str
    kind_code: str
    kind_name: str
    last_code: str = "00"
    last_name: str = "津波なし"


def tsunami(
    items: tuple[TsunamiItem, ...],
    *,
    event_id: str,
    report_time: datetime,
    status: str = "通常",
) -> bytes:
    """A VTSE41 (津波警報・注意報・予報) with one Forecast/Item per area."""
    forecast = "".join(
        f"<Item><Area><Name>{i.area_name}</Name><Code>{i.area_code}</Code></Area>"
        f"<Category><Kind><Name>{i.kind_name}</Name><Code>{i.kind_code}</Code></Kind>"
        f"<LastKind><Name>{i.last_name}</Name><Code>{i.last_code}</Code></LastKind></Category>"
        f"</Item>"
        for i in items
    )
    return _report(
        "VTSE41",
        event_id=event_id,
        serial=None,
        report_time=report_time,
        status=status,
        info_type="発表",
        headline="津波注意報を発表しました。",
        body=f"<Tsunami><Forecast>{forecast}</Forecast></Tsunami>",
    )


def file_name(stamp: datetime, type_code: str, n: int = 0) -> str:
    """JMA's file name: ``{yyyyMMddHHmmss UTC}_{n}_{TYPE}_{office}.xml``."""
    return f"{stamp.astimezone(UTC).strftime('%Y%m%d%H%M%S')}_{n}_{type_code}_010000.xml"


@dataclasses.dataclass(frozen=True)
class AtomEntry:
    """One ``<entry>`` of a JMA feed."""

    url: str
    title: str
    updated: datetime
    content: str = "【震度速報】地震がありました。"


_TERMS = "https://www.jma.go.jp/jma/kishou/info/coment.html"


def atom_feed(entries: Iterable[AtomEntry], *, self_url: str, updated: datetime) -> bytes:
    """A feed document in today's structure (newest entry first, as JMA writes it)."""
    ordered = sorted(entries, key=lambda e: e.updated, reverse=True)
    body = "".join(
        f"""
  <entry>
    <title>{escape(e.title)}</title>
    <id>{escape(e.url)}</id>
    <updated>{e.updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}</updated>
    <author><name>気象庁</name></author>
    <link type="application/xml" href="{escape(e.url)}"/>
    <content type="text">{escape(e.content)}</content>
  </entry>"""
        for e in ordered
    )
    stamp = updated.astimezone(JST).isoformat()
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">
  <title>高頻度（地震火山）</title>
  <subtitle>JMAXML publishing feed</subtitle>
  <updated>{stamp}</updated>
  <id>{escape(self_url)}#short_{int(updated.timestamp())}</id>
  <link rel="related" href="https://www.jma.go.jp/"/>
  <link rel="self" href="{escape(self_url)}"/>
  <rights type="html"><![CDATA[ <a href="{_TERMS}">利用規約</a> ]]></rights>{body}
</feed>
""".encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/">&lol9;</Report>
"""
