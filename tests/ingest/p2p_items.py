"""yure's own P2P地震情報 JSON API v2 test items (shapes per json-api-v2.yaml 2.3.0 and
the real payloads; values invented)."""

from __future__ import annotations

from typing import Any

import orjson

Point = tuple[str, str, bool, int]  # pref, addr, isArea, scale


def hypocenter(
    name: str = "福島県沖",
    lat: float = 37.6,
    lon: float = 141.6,
    depth: float = 50,
    magnitude: float = 4.5,
) -> dict[str, Any]:
    return {"name": name, "latitude": lat, "longitude": lon, "depth": depth, "magnitude": magnitude}


NO_HYPOCENTER = hypocenter("", -200, -200, -1, -1)


def quake(
    p2p_id: str,
    *,
    issue_type: str,
    issue_time: str,
    quake_time: str = "2024/04/17 23:17:00",
    hypo: dict[str, Any] | None = None,
    max_scale: int = 30,
    points: list[Point] | None = None,
    correct: str = "None",
    agent_key: str = "user-agent",
) -> dict[str, Any]:
    return {
        "code": 551,
        "id": p2p_id,
        "time": "2024/04/17 23:20:12.345",
        "created_at": "2024/04/17 23:20:12.351",
        agent_key: "jmaxml-seis-parser-go, relay, register-api",
        "ver": "20231023",
        "issue": {"source": "気象庁", "time": issue_time, "type": issue_type, "correct": correct},
        "earthquake": {
            "time": quake_time,
            "hypocenter": hypo if hypo is not None else hypocenter(),
            "maxScale": max_scale,
            "domesticTsunami": "None",
            "foreignTsunami": "Unknown",
        },
        "points": [
            {"pref": pref, "addr": addr, "isArea": is_area, "scale": scale}
            for pref, addr, is_area, scale in (points or [])
        ],
        "comments": {"freeFormComment": ""},
    }


def tsunami(
    p2p_id: str,
    *,
    issue_time: str,
    areas: list[tuple[str, str]],
    cancelled: bool = False,
) -> dict[str, Any]:
    return {
        "code": 552,
        "id": p2p_id,
        "time": "2024/04/17 23:30:01.2",
        "cancelled": cancelled,
        "issue": {"source": "気象庁", "time": issue_time, "type": "Focus"},
        "areas": [
            {
                "grade": grade,
                "immediate": False,
                "name": name,
                "firstHeight": {"condition": "津波到達中と推測"},
                "maxHeight": {"description": "１ｍ", "value": 1},
            }
            for name, grade in areas
        ],
    }


def eew(
    p2p_id: str,
    *,
    event_id: str = "20240417231454",
    serial: str = "1",
    issue_time: str = "2024/04/17 23:14:59",
    cancelled: bool = False,
    test: bool = False,
    areas: list[tuple[str, float, float]] | None = None,
) -> dict[str, Any]:
    area_list = [
        {
            "pref": pref,
            "name": "細分区域",
            "scaleFrom": scale_from,
            "scaleTo": scale_to,
            "kindCode": "10",
            "arrivalTime": None,
        }
        for pref, scale_from, scale_to in (areas or [("愛媛", 45.0, 99.0), ("高知", 40.0, 40.0)])
    ]
    return {
        "code": 556,
        "id": p2p_id,
        "time": "2024/04/17 23:14:59.981",
        "test": test,
        "cancelled": cancelled,
        "issue": {"time": issue_time, "eventId": event_id, "serial": serial},
        "earthquake": None
        if cancelled
        else {
            "originTime": "2024/04/17 23:14:48",
            "arrivalTime": "2024/04/17 23:14:54",
            "condition": "",
            "hypocenter": dict(hypocenter("豊後水道", 33.2, 132.4, 40.0, 6.4), reduceName="愛媛県"),
        },
        "areas": None if cancelled else area_list,
        "user_agent": "jmaxml-seis-parser-go, relay, register-api",
    }


def userquake(
    p2p_id: str, *, area: int = 250, time: str = "2024/04/17 23:15:02.12"
) -> dict[str, Any]:
    return {"code": 561, "id": p2p_id, "time": time, "area": area, "hop": 1, "uid": "x", "ver": "1"}


def evaluation(p2p_id: str, *, confidence: float = 0.97015) -> dict[str, Any]:
    return {
        "code": 9611,
        "id": p2p_id,
        "time": "2024/04/17 23:15:30.5",
        "count": 12,
        "confidence": confidence,
        "started_at": "2024/04/17 23:15:01.9",
        "updated_at": "2024/04/17 23:15:29.1",
        "area_confidences": {
            "250": {"confidence": 0.5, "count": 8, "display": "C"},
            "10": {"confidence": -1, "count": 4, "display": "F"},
        },
        "user-agent": "userquake-aggregator 20200713",
    }


def encode(item: dict[str, Any]) -> bytes:
    return orjson.dumps(item)
