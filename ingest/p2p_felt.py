"""P2P地震情報 felt reports (561 地震感知情報) and their evaluations (9611) as typed
records (core module). Unofficial and unverified: they go to the felt-report feature,
never to the official timeline. Area codes are EPSP's (epsp-area.csv), mapped to
prefectures through :class:`~ingest.p2p_wire.Places`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from yure.ingest.p2p_wire import (
    MAX_P2P_LIST_ITEMS,
    P2PError,
    Places,
    as_int,
    as_number,
    as_str,
    as_time,
    get_field,
)

#: 9611 ``confidence`` values of P2P地震情報 Beta3 levels 1–4 (0 = not shown).
_LEVEL_OF_CONFIDENCE: tuple[tuple[float, int], ...] = (
    (0.0, 0),
    (0.97015, 1),
    (0.96774, 2),
    (0.97024, 3),
    (0.98052, 4),
)
_CONFIDENCE_TOLERANCE = 1e-6


@dataclasses.dataclass(frozen=True, slots=True)
class FeltReport:
    """561: one P2P user pressed "揺れた". Unofficial, unverified."""

    p2p_id: str
    #: EPSP area code (epsp-area.csv: 900 未設定, 901 不明, 905 外国).
    area_code: int
    #: The area's prefecture (JIS code), None when it has none or is unknown.
    pref: str | None
    received_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class AreaConfidence:
    """9611 ``area_confidences[area]``. ``confidence`` < 0 is display F."""

    area_code: int
    pref: str | None
    confidence: float
    count: int
    display: str


@dataclasses.dataclass(frozen=True, slots=True)
class FeltEvaluation:
    """9611: P2P's evaluation of a burst of felt reports. Unofficial."""

    p2p_id: str
    #: ``started_at``: identifies the burst; later evaluations of it share this.
    started_at: datetime
    updated_at: datetime | None
    evaluated_at: datetime
    count: int
    confidence: float
    #: Beta3 level 1–4, 0 when not shown, None for a confidence outside the table.
    level: int | None
    areas: tuple[AreaConfidence, ...]


def parse_felt_report(raw: Any, p2p_id: str, places: Places) -> FeltReport:
    """A 561 item (decoded JSON object with id ``p2p_id``).

    Raises:
        P2PError: ``area`` or ``time`` missing or malformed.
    """
    area = as_int(get_field(raw, "area", p2p_id), "area", p2p_id)
    return FeltReport(
        p2p_id=p2p_id,
        area_code=area,
        pref=places.pref_of_epsp_area(area),
        received_at=as_time(get_field(raw, "time", p2p_id), "time", p2p_id),
    )


def level_of(confidence: float) -> int | None:
    """P2P地震情報 Beta3 display level of a 9611 ``confidence`` (None when off the table)."""
    for value, level in _LEVEL_OF_CONFIDENCE:
        if abs(confidence - value) <= _CONFIDENCE_TOLERANCE:
            return level
    return None


def parse_evaluation(raw: Any, p2p_id: str, places: Places) -> FeltEvaluation:
    """A 9611 item (decoded JSON object with id ``p2p_id``).

    Raises:
        P2PError: a field missing or malformed.
    """
    areas_raw = get_field(raw, "area_confidences", p2p_id) or {}
    if not isinstance(areas_raw, dict) or len(areas_raw) > MAX_P2P_LIST_ITEMS:
        raise P2PError("area_confidences is not a bounded object", p2p_id)
    areas: list[AreaConfidence] = []
    for code_text, value in areas_raw.items():
        if not str(code_text).isdigit():
            raise P2PError(f"area code {code_text!r} is not a number", p2p_id)
        areas.append(
            AreaConfidence(
                area_code=int(code_text),
                pref=places.pref_of_epsp_area(int(code_text)),
                confidence=as_number(get_field(value, "confidence", p2p_id), "confidence", p2p_id),
                count=as_int(get_field(value, "count", p2p_id), "count", p2p_id),
                display=as_str(get_field(value, "display", p2p_id) or "", "display", p2p_id),
            )
        )
    updated = get_field(raw, "updated_at", p2p_id)
    confidence = as_number(get_field(raw, "confidence", p2p_id), "confidence", p2p_id)
    return FeltEvaluation(
        p2p_id=p2p_id,
        started_at=as_time(get_field(raw, "started_at", p2p_id), "started_at", p2p_id),
        updated_at=None if updated is None else as_time(updated, "updated_at", p2p_id),
        evaluated_at=as_time(get_field(raw, "time", p2p_id), "time", p2p_id),
        count=as_int(get_field(raw, "count", p2p_id), "count", p2p_id),
        confidence=confidence,
        level=level_of(confidence),
        areas=tuple(sorted(areas, key=lambda a: a.area_code)),
    )
