"""Timeline entries in the event wire form (ingest.event.event_to_json's shape)."""

from __future__ import annotations

from typing import Any

import orjson

from yure.broadcast.envelope import Entry, Envelope


def event_doc(
    kind: str = "quake",
    *,
    prefs: tuple[str, ...] = ("13",),
    intensity: dict[str, str] | None = None,
    max_intensity: str | None = None,
    tsunami: list[dict[str, Any]] | None = None,
    info_type: str = "issued",
    event_id: str = "20260101000000",
    title: str = "震源・震度情報",
    headline: str = "２９日２１時３０分ころ、地震がありました。",
    official: bool = True,
) -> dict[str, Any]:
    """The fields push reads, the rest as event_to_json writes them."""
    if intensity is None:
        intensity = {p: "4" for p in prefs} if kind == "quake" else {}
    if max_intensity is None and intensity:
        order = ["1", "2", "3", "4", "5-", "5+", "6-", "6+", "7"]
        max_intensity = max(intensity.values(), key=order.index)
    return {
        "type_code": "VXSE53",
        "kind": kind,
        "official": official,
        "status": "actual",
        "info_type": info_type,
        "event_id": event_id,
        "serial": 1,
        "reported_at": "2026-01-01T00:00:00+09:00",
        "title": title,
        "headline": headline,
        "foreign": False,
        "hypocenter": None,
        "max_intensity": max_intensity,
        "intensity": intensity,
        "tsunami": tsunami or [],
        "prefs": list(prefs),
        "source": "jma",
        "source_url": None,
        "sha256": None,
        "received_at": None,
    }


def tsunami_area(grade: str, prefs: tuple[str, ...], last: str | None = None) -> dict[str, Any]:
    return {
        "area_code": "300",
        "area_name": "東京湾内湾",
        "grade": grade,
        "last_grade": last,
        "prefs": list(prefs),
    }


def entry(doc: dict[str, Any], entry_id: str = "1-0", *, ref: str | None = None) -> Entry:
    """An Entry as the timeline returns it (``ref`` first when it replaces another)."""
    body = dict(doc)
    if ref is not None:
        body = {"ref": ref, **body}
    return Entry(
        id=entry_id,
        key=f"k-{entry_id}",
        kind=doc["kind"],
        prefs=tuple(sorted(set(doc["prefs"]))),
        payload=orjson.dumps(body),
    )


def envelope(doc: dict[str, Any], key: str, replaces: str | None = None) -> Envelope:
    """What ingest appends for ``doc``."""
    return Envelope(key, doc["kind"], tuple(doc["prefs"]), orjson.dumps(doc), replaces)
