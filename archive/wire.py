"""The archive's answers as bytes: JSON summaries, CSV rows, GeoJSON features.

Core module: values in, JSON objects / strings out. One owner for the summary's wire
form (:func:`summary_to_json`), used by ``/api/history``, the exports and the pages.
Times are ISO 8601 in JST (+09:00), as JMA writes them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import orjson

from yure.archive.facts import EventSummary
from yure.archive.store import EventRecord
from yure.ingest.merge import JST

#: The page of one event (the permalink the feeds and notifications link to).
EVENT_PAGE_PREFIX = "/events/"
#: Columns of ``/api/history.csv``, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "event_id",
    "time",
    "updated",
    "kinds",
    "type_code",
    "title",
    "headline",
    "cancelled",
    "max_intensity",
    "magnitude",
    "depth_km",
    "lat",
    "lon",
    "hypocenter",
    "tsunami_grade",
    "prefs",
    "telegrams",
    "url",
)
#: Excel opens UTF-8 CSV as Shift_JIS unless it starts with a byte-order mark.
CSV_BOM = "\ufeff"


def iso_jst(stamp: int) -> str:
    """POSIX seconds as ISO 8601 in JST."""
    return datetime.fromtimestamp(stamp, JST).isoformat()


def event_path(event_id: str) -> str:
    """The permalink path of ``event_id``."""
    return EVENT_PAGE_PREFIX + quote(event_id, safe="")


def summary_to_json(s: EventSummary) -> dict[str, Any]:
    """The wire form of an event summary (the wire edge: ``Any`` is allowed here)."""
    return {
        "event_id": s.event_id,
        "time": iso_jst(s.first_at),
        "updated": iso_jst(s.last_at),
        "kinds": [kind.value for kind in s.kinds],
        "type_code": s.type_code,
        "title": s.title,
        "headline": s.headline,
        "cancelled": s.cancelled,
        "foreign": s.foreign,
        "max_intensity": None if s.max_intensity is None else s.max_intensity.value,
        "magnitude": s.magnitude,
        "magnitude_text": s.magnitude_text,
        "depth_km": s.depth_km,
        "lat": s.lat,
        "lon": s.lon,
        "hypocenter": s.hypocenter_name,
        "tsunami_grade": None if s.tsunami_grade is None else s.tsunami_grade.value,
        "prefs": list(s.prefs),
        "telegrams": s.telegram_count,
        "url": event_path(s.event_id),
    }


def page_json(items: Sequence[EventSummary], next_token: str | None) -> bytes:
    """``/api/history``'s body."""
    return orjson.dumps({"items": [summary_to_json(s) for s in items], "next": next_token})


def record_json(record: EventRecord) -> bytes:
    """``/api/history/{event_id}``'s body: the summary and every telegram, oldest first
    (each ``event`` is the item format of docs/protocol.md, as archived)."""
    telegrams = b",".join(
        b'{"key":' + orjson.dumps(t.key) + b',"event":' + t.payload + b"}" for t in record.telegrams
    )
    summary = orjson.dumps(summary_to_json(record.summary))
    return b'{"event":' + summary + b',"telegrams":[' + telegrams + b"]}"


def days_json(days: Iterable[tuple[date, int]]) -> bytes:
    """``/api/history/days``' body."""
    return orjson.dumps({"days": [{"date": d.isoformat(), "count": n} for d, n in days]})


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def csv_header() -> str:
    """The first line of the CSV export (with the byte-order mark)."""
    return CSV_BOM + csv_rows([], header=True)


def csv_rows(rows: Iterable[EventSummary], *, header: bool = False) -> str:
    """CSV lines (RFC 4180, CRLF) for ``rows``; the header line alone with ``header``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for summary in rows:
        wire = summary_to_json(summary)
        writer.writerow([_cell(wire[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def geojson_feature(s: EventSummary) -> bytes:
    """One GeoJSON Feature (RFC 7946): the epicentre as a Point ([lon, lat]), or a null
    geometry when the event has none; the summary as properties."""
    geometry = (
        None if s.lat is None or s.lon is None else {"type": "Point", "coordinates": [s.lon, s.lat]}
    )
    return orjson.dumps({"type": "Feature", "geometry": geometry, "properties": summary_to_json(s)})


GEOJSON_OPEN = b'{"type":"FeatureCollection","features":['
GEOJSON_CLOSE = b"]}"
