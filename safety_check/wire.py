"""The JSON edge of safety_check: request bodies in, response and timeline objects out.

This is the one module where ``Any`` appears: it turns decoded JSON into the typed drafts of
:mod:`safety_check.model` (validating with :mod:`safety_check.text`) and typed values back
into JSON objects. Field meanings are documented in docs/api.md. User text is passed through
as data: never HTML-escaped, so a client inserting it as text shows exactly what was typed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson

from yure.ingest.event import Kind
from yure.safety_check import text
from yure.safety_check.errors import InvalidInput
from yure.safety_check.felt import FeltBurst
from yure.safety_check.model import CheckIn, CheckinDraft, CheckinStatus, Post, PostDraft

#: Caps on request bodies, per route family. A check-in or post is far smaller.
MAX_BODY_BYTES = 8 * 1024
#: Longest token field accepted in a body (tokens are 43 characters).
MAX_TOKEN_CHARS = 64
#: Opted-in check-in coordinates are kept to 4 decimals (≈ 11 m), enough to find someone.
CHECKIN_COORD_DECIMALS = 4


def iso(ts: float) -> str:
    """POSIX seconds as ISO 8601 in UTC, milliseconds: ``2024-01-01T07:10:00.000+00:00``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def parse_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object.

    Raises:
        InvalidInput: not JSON, or not an object.
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise InvalidInput("body is not valid JSON") from err
    if not isinstance(value, dict):
        raise InvalidInput("body must be a JSON object")
    return value


def _opt_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    return value


def _req_str(obj: dict[str, Any], name: str) -> str:
    value = _opt_str(obj, name)
    if value is None:
        raise InvalidInput(f"{name} is required")
    return value


def _opt_float(obj: dict[str, Any], name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    # bool is an int in Python; JSON true is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be a number")
    try:
        result = float(value)
    except OverflowError as err:
        raise InvalidInput(f"{name} is out of range") from err
    if not math.isfinite(result):
        raise InvalidInput(f"{name} must be finite")
    return result


def _opt_bool(obj: dict[str, Any], name: str) -> bool:
    value = obj.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false")
    return value


def _opt_pref(obj: dict[str, Any]) -> str | None:
    raw = _opt_str(obj, "pref")
    return None if raw is None else text.validate_pref(raw)


def _opt_point(obj: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = _opt_float(obj, "lat"), _opt_float(obj, "lon")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise InvalidInput("lat and lon go together")
    return text.validate_coordinates(lat, lon)


def parse_credentials(obj: dict[str, Any]) -> tuple[str, str]:
    """``{handle, password}`` of a new account → (canonical handle, password).

    Raises:
        InvalidInput: a missing field or one breaking the handle rules or the rules for
            new passwords (safety_check.passwords).
    """
    handle = text.normalize_handle(_req_str(obj, "handle"))
    password = text.validate_new_password(_req_str(obj, "password"), handle)
    return handle, password


def parse_login(obj: dict[str, Any]) -> tuple[str, str]:
    """``{handle, password}`` of a login → (canonical handle, password). Only the shape is
    checked: the password rules are for new passwords, an old one may predate them.

    Raises:
        InvalidInput: a missing field, a malformed handle, an over-long password.
    """
    handle = text.normalize_handle(_req_str(obj, "handle"))
    password = _req_str(obj, "password")
    if len(password) > text.MAX_PASSWORD_CHARS:
        raise InvalidInput(f"password must be at most {text.MAX_PASSWORD_CHARS} characters")
    return handle, password


def parse_recovery(obj: dict[str, Any]) -> tuple[str, str, str]:
    """``{handle, code, new_password}`` → (canonical handle, code as sent, new password).

    Raises:
        InvalidInput: a missing field, a malformed handle, an over-long code, or a new
            password that breaks the rules (safety_check.passwords).
    """
    handle = text.normalize_handle(_req_str(obj, "handle"))
    code = _req_str(obj, "code")
    if len(code) > MAX_TOKEN_CHARS:
        raise InvalidInput("code is too long")
    password = text.validate_new_password(_req_str(obj, "new_password"), handle)
    return handle, code, password


def parse_handle(obj: dict[str, Any]) -> str:
    """``{handle}`` → canonical handle.

    Raises:
        InvalidInput: missing or malformed.
    """
    return text.normalize_handle(_req_str(obj, "handle"))


def parse_token(obj: dict[str, Any]) -> str:
    """``{token}`` → the invite token as sent (its shape is checked where it is looked up).

    Raises:
        InvalidInput: missing, not a string, or longer than any token.
    """
    token = _req_str(obj, "token")
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidInput("token is too long")
    return token


def parse_checkin(obj: dict[str, Any]) -> tuple[CheckinDraft, tuple[float, float] | None]:
    """``{status, note?, pref?, event_id?, lat?, lon?, share_location?}`` → the draft and the
    point given (used to find the prefecture when ``pref`` is absent). The draft keeps
    coordinates only when ``share_location`` is true.

    Raises:
        InvalidInput: unknown status, note over 100 characters, bad pref/event_id/point.
    """
    raw_status = _req_str(obj, "status")
    try:
        status = CheckinStatus(raw_status)
    except ValueError as err:
        raise InvalidInput("status must be one of safe, need_help, unknown") from err
    note = text.clean_note(_opt_str(obj, "note") or "")
    event_id = _opt_str(obj, "event_id")
    point = _opt_point(obj)
    share = _opt_bool(obj, "share_location")
    if share and point is None:
        raise InvalidInput("share_location needs lat and lon")
    lat = lon = None
    if share and point is not None:
        lat = round(point[0], CHECKIN_COORD_DECIMALS)
        lon = round(point[1], CHECKIN_COORD_DECIMALS)
    draft = CheckinDraft(
        status=status,
        note=note,
        pref=_opt_pref(obj),
        event_id=None if event_id is None else text.validate_event_id(event_id),
        lat=lat,
        lon=lon,
    )
    return draft, point


def parse_post(obj: dict[str, Any]) -> PostDraft:
    """``{text, lat?, lon?, pref?}`` → a draft with cleaned text.

    Raises:
        InvalidInput: empty or over-long text, bad pref or point.
    """
    point = _opt_point(obj)
    return PostDraft(
        text=text.clean_post_text(_req_str(obj, "text")),
        pref=_opt_pref(obj),
        lat=None if point is None else point[0],
        lon=None if point is None else point[1],
    )


def parse_felt(obj: dict[str, Any]) -> tuple[str | None, tuple[float, float] | None]:
    """``{pref?}`` or ``{lat, lon}`` → (pref, point); one of them is required.

    Raises:
        InvalidInput: neither given, or a bad value.
    """
    pref, point = _opt_pref(obj), _opt_point(obj)
    if pref is None and point is None:
        raise InvalidInput("felt needs pref or lat/lon")
    return pref, point


def checkin_json(checkin: CheckIn, handle: str) -> dict[str, Any]:
    """A check-in as its owner and the owner's friends see it."""
    out: dict[str, Any] = {
        "id": checkin.id,
        "handle": handle,
        "status": checkin.status.value,
        "note": checkin.note,
        "pref": checkin.pref,
        "event_id": checkin.event_id,
        "created_at": iso(checkin.created_at),
        "expires_at": iso(checkin.expires_at),
    }
    if checkin.lat is not None and checkin.lon is not None:
        out["lat"] = checkin.lat
        out["lon"] = checkin.lon
    return out


def post_json(post: Post) -> dict[str, Any]:
    """A post as published on the public timeline (no author: posts are anonymous)."""
    return {
        "kind": Kind.POST.value,
        "official": False,
        "source": "user",
        "id": post.id,
        "text": post.text,
        "prefs": [] if post.pref is None else [post.pref],
        "lat": post.lat,
        "lon": post.lon,
        "created_at": iso(post.created_at),
        "hidden": post.hidden,
    }


def post_hidden_json(post: Post) -> dict[str, Any]:
    """The retraction of a hidden post: the same id, no text and no place but the
    prefecture."""
    return {**post_json(post), "text": None, "lat": None, "lon": None, "hidden": True}


def felt_json(burst: FeltBurst, event_id: str | None) -> dict[str, Any]:
    """The aggregate of one felt burst in one prefecture."""
    return {
        "kind": Kind.FELT.value,
        "official": False,
        "source": "user",
        "id": burst.key,
        "prefs": [burst.pref],
        "created_at": iso(burst.started_at),
        "started_at": iso(burst.started_at),
        "updated_at": iso(burst.last_at),
        "counts": felt_counts(burst),
        "event_id": event_id,
    }


def felt_counts(burst: FeltBurst) -> dict[str, int]:
    """The reports of a burst by source, and their sum."""
    return {"user": burst.user_count, "p2p": burst.p2p_count, "total": burst.total}


def dumps(obj: Any) -> bytes:
    """orjson bytes of a JSON value (UTF-8, no HTML escaping)."""
    return orjson.dumps(obj)
