"""JSON Schemas (2020-12) of everything yure sends and accepts as JSON.

Stream messages (``/ws``, ``/sse``, ``GET /api/live``) are in :data:`STREAM_MESSAGES`,
one schema per message; the HTTP bodies in :data:`BODIES`. :mod:`yure.web.openapi` puts
both under ``components/schemas``; ``python -m yure.web.openapi docs`` writes each
stream message to ``docs/schemas/<name>.json`` (tests check the files are current).
"""

from __future__ import annotations

from typing import Any

from yure.ingest.event import Kind

Schema = dict[str, Any]

REF = "#/components/schemas/"


def ref(name: str) -> Schema:
    """A reference to a schema under ``components/schemas``."""
    return {"$ref": REF + name}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with ``required`` and ``optional`` properties (others allowed: new
    fields are added without a version bump, docs/protocol.md)."""
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def message(kind: str, **fields: Schema) -> Schema:
    """A stream message ``{"type": kind, ...fields}`` (all fields required)."""
    return obj({"type": {"const": kind}, **fields})


STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
NUMBER_OR_NULL: Schema = {"type": ["number", "null"]}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
PREF: Schema = {"type": "string", "pattern": "^(0[1-9]|[1-3][0-9]|4[0-7])$"}
HANDLE: Schema = {"type": "string", "pattern": "^[a-z0-9_]{3,20}$"}
STREAM_ID: Schema = {"type": "string", "pattern": "^[0-9]+-[0-9]+$"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
KINDS = [kind.value for kind in Kind]

#: One timeline item: an official event (ingest's ``event_to_json``), a user post or a
#: felt aggregate (docs/api.md). The fields every item has are required; the rest
#: depend on the kind.
EVENT: Schema = {
    "type": "object",
    "required": ["kind", "official"],
    "properties": {
        "kind": {"enum": KINDS},
        "official": BOOLEAN,
        "type_code": STRING,
        "status": {"enum": ["actual", "exercise", "test"]},
        "info_type": STRING,
        "event_id": NULLABLE_STRING,
        "serial": {"type": ["integer", "null"]},
        "reported_at": TIMESTAMP,
        "title": STRING,
        "headline": STRING,
        "foreign": BOOLEAN,
        "hypocenter": {
            "type": ["object", "null"],
            "properties": {
                "name": STRING,
                "lat": NUMBER_OR_NULL,
                "lon": NUMBER_OR_NULL,
                "depth_km": NUMBER_OR_NULL,
                "magnitude": NUMBER_OR_NULL,
                "magnitude_text": STRING,
            },
        },
        "max_intensity": NULLABLE_STRING,
        "intensity": {"type": "object", "additionalProperties": STRING},
        "tsunami": {"type": "array", "items": {"type": "object"}},
        "prefs": {"type": "array", "items": PREF},
        "source": NULLABLE_STRING,
        "id": STRING,
        "text": NULLABLE_STRING,
        "hidden": BOOLEAN,
        "ref": STRING,
        "counts": {
            "type": "object",
            "required": ["user", "p2p", "total"],
            "properties": {"user": INTEGER, "p2p": INTEGER, "total": INTEGER},
        },
    },
}

CHECKIN: Schema = obj(
    {
        "id": STRING,
        "handle": HANDLE,
        "status": {"enum": ["safe", "need_help", "unknown"]},
        "note": NULLABLE_STRING,
        "pref": {"anyOf": [PREF, {"type": "null"}]},
        "event_id": NULLABLE_STRING,
        "created_at": TIMESTAMP,
        "expires_at": TIMESTAMP,
    },
    {"lat": {"type": "number"}, "lon": {"type": "number"}},
)
FRIEND_CHECKINS: Schema = obj(
    {
        "checkins": {
            "type": "array",
            "items": obj(
                {"handle": HANDLE, "checkin": {"anyOf": [ref("Checkin"), {"type": "null"}]}}
            ),
        }
    }
)

#: Every message the streams carry, server → client unless the name says otherwise.
STREAM_MESSAGES: dict[str, Schema] = {
    # /ws and /sse (docs/protocol.md)
    "event": message("event", id=STREAM_ID, event=ref("Event")),
    "events": message("events", items={"type": "array", "minItems": 2, "items": ref("event")}),
    "ready": message("ready"),
    "heartbeat": message("heartbeat"),
    "cursor_expired": message("cursor_expired", oldest=STREAM_ID),
    "subscribe": {  # client → server (/ws)
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "subscribe"},
            "prefs": {"type": "array", "items": STRING, "maxItems": 64},
            "kinds": {"type": "array", "items": STRING, "maxItems": 16},
            "since": {"anyOf": [STREAM_ID, {"type": "null"}]},
        },
    },
    # GET /api/live (docs/api.md, "Live channel")
    "live_ready": message("ready", handle=HANDLE),
    "live_snapshot": message("snapshot", checkins=FRIEND_CHECKINS["properties"]["checkins"]),
    "live_checkin": message("checkin", checkin=ref("Checkin")),
    "live_checkin_deleted": message("checkin_deleted", id=STRING),
    "live_friend_added": message("friend_added", handle=HANDLE),
    "live_friend_removed": message("friend_removed", handle=HANDLE),
    "live_heartbeat": message("heartbeat"),
    "live_unauthorized": message("unauthorized"),
    "live_unavailable": message("unavailable"),
    "live_auth": message("auth", token=STRING),  # client → server (WebSocket)
}

#: Request and response bodies of the HTTP routes.
BODIES: dict[str, Schema] = {
    "Event": EVENT,
    "Checkin": CHECKIN,
    "FriendCheckins": FRIEND_CHECKINS,
    "MyCheckins": obj({"checkins": {"type": "array", "items": ref("Checkin")}}),
    "TimelinePage": obj(
        {
            "items": {"type": "array", "items": ref("event")},
            "next": {"anyOf": [STREAM_ID, {"type": "null"}]},
            "more": BOOLEAN,
            "cursor_expired": BOOLEAN,
        }
    ),
    "Health": obj(
        {"status": {"enum": ["ok", "unavailable"]}, "redis": BOOLEAN},
        {"pid": INTEGER, "connections": INTEGER, "position": STRING, "feed": {"type": "object"}},
    ),
    "Prefectures": obj(
        {
            "prefectures": {
                "type": "array",
                "items": obj({"code": PREF, "name": STRING, "name_en": STRING, "region": STRING}),
            },
            "regions": {"type": "array", "items": {"type": "object"}},
        }
    ),
    "Credentials": obj({"handle": STRING, "password": STRING}),
    "Session": obj({"token": STRING, "handle": HANDLE}),
    "NewAccount": obj(
        {
            "token": STRING,
            "handle": HANDLE,
            "recovery_codes": {"type": "array", "items": STRING, "minItems": 10, "maxItems": 10},
        }
    ),
    "RecoveryRequest": obj({"handle": STRING, "code": STRING, "new_password": STRING}),
    "Recovered": obj({"token": STRING, "handle": HANDLE, "codes_left": INTEGER}),
    "RecoveryCodes": obj(
        {"recovery_codes": {"type": "array", "items": STRING, "minItems": 10, "maxItems": 10}}
    ),
    "Handle": obj({"handle": HANDLE}),
    "HandleRequest": obj({"handle": STRING}),
    "TokenRequest": obj({"token": STRING}),
    "FriendStatus": obj({"status": {"enum": ["requested", "friends"]}}),
    "Friends": obj(
        {
            "friends": {"type": "array", "items": HANDLE},
            "incoming": {"type": "array", "items": HANDLE},
            "outgoing": {"type": "array", "items": HANDLE},
        }
    ),
    "Invite": obj(
        {"token": STRING, "url": {"type": "string", "format": "uri"}}, {"expires_in_s": INTEGER}
    ),
    "Befriended": obj({"status": {"const": "friends"}, "handle": HANDLE}),
    "CheckinRequest": obj(
        {"status": {"enum": ["safe", "need_help", "unknown"]}},
        {
            "note": STRING,
            "pref": PREF,
            "event_id": STRING,
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "share_location": BOOLEAN,
        },
    ),
    "PostRequest": obj(
        {"text": STRING}, {"pref": PREF, "lat": {"type": "number"}, "lon": {"type": "number"}}
    ),
    "Post": EVENT,
    "Reported": obj({"status": {"const": "reported"}}),
    "FeltRequest": obj({}, {"pref": PREF, "lat": {"type": "number"}, "lon": {"type": "number"}}),
    "FeltCounted": obj(
        {
            "status": {"const": "counted"},
            "pref": PREF,
            "counts": {"anyOf": [EVENT["properties"]["counts"], {"type": "null"}]},
        }
    ),
    # The history archive (docs/api.md, "History").
    "HistorySummary": obj(
        {"event_id": STRING, "time": TIMESTAMP, "kinds": {"type": "array", "items": STRING}},
        {
            "updated": TIMESTAMP,
            "type_code": STRING,
            "title": STRING,
            "headline": STRING,
            "cancelled": BOOLEAN,
            "foreign": BOOLEAN,
            "max_intensity": NULLABLE_STRING,
            "magnitude": NUMBER_OR_NULL,
            "magnitude_text": NULLABLE_STRING,
        },
    ),
    "HistoryPage": obj(
        {"items": {"type": "array", "items": ref("HistorySummary")}, "next": NULLABLE_STRING}
    ),
    "HistoryRecord": obj(
        {
            "event": ref("HistorySummary"),
            "telegrams": {
                "type": "array",
                "items": obj({"key": STRING, "event": ref("Event")}),
            },
        }
    ),
    "HistoryDays": obj(
        {
            "days": {
                "type": "array",
                "items": obj({"date": {"type": "string", "format": "date"}, "count": INTEGER}),
            }
        }
    ),
    "FeatureCollection": obj(
        {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": {"type": "object"}},
        }
    ),
    # Web Push (docs/api.md, "Web Push").
    "PushKey": obj({"public_key": STRING}),
    "PushSubscribeRequest": {"type": "object"},
    "PushSubscribed": obj({"id": STRING, "token": STRING}),
    "PushFilterRequest": obj({"filter": {"type": "object"}}),
    "PushSubscription": obj({"id": STRING, "filter": {"type": "object"}}),
    "Located": obj({"pref": {"anyOf": [PREF, {"type": "null"}]}}),
    # RFC 9457 problem details; older routes still answer {"error", "message"}.
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": STRING,
            "title": STRING,
            "status": INTEGER,
            "detail": STRING,
            "code": STRING,
        },
    },
}
