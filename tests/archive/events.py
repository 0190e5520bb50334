"""Events for archive tests, parsed from yure's own JMA-format documents."""

from __future__ import annotations

from datetime import datetime

from tests.ingest import telegrams as jma
from yure.ingest.event import Event
from yure.ingest.merge import item_key
from yure.ingest.telegram import parse_telegram


def quake(
    type_code: str,
    event_id: str,
    at: datetime,
    *,
    serial: int | None = None,
    max_int: str = "3",
    prefs: tuple[jma.PrefIntensity, ...] = (jma.MIYAGI, jma.FUKUSHIMA),
    epicenter: jma.Epicenter | None = None,
) -> tuple[str, Event]:
    """A parsed VXSE51/52/53 telegram and its publication key."""
    event = parse_telegram(
        jma.quake(
            type_code,
            event_id=event_id,
            report_time=at,
            serial=serial,
            max_int=max_int,
            prefs=prefs,
            epicenter=epicenter,
        )
    )
    return item_key(event), event


def cancel(type_code: str, event_id: str, at: datetime, serial: int | None) -> tuple[str, Event]:
    """A parsed 取消 and its key."""
    event = parse_telegram(
        jma.cancellation(type_code, event_id=event_id, report_time=at, serial=serial)
    )
    return item_key(event), event
