"""The values safety_check stores and serves (pure: frozen dataclasses, no I/O).

Times are POSIX seconds (float) from the injectable clock; the wire form (ISO 8601) is
made in :mod:`safety_check.wire`.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from yure.ingest.event import Kind


class CheckinStatus(StrEnum):
    """The one-tap answer to "are you safe?"."""

    SAFE = "safe"
    NEED_HELP = "need_help"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, slots=True)
class Account:
    """A pseudonymous account: a handle and an argon2id hash, nothing else about the person."""

    uid: str
    handle: str
    password_hash: str
    created_at: float
    #: The sign-up cohort (keyed hash of the network, hour window; :mod:`.voices`);
    #: empty for accounts made before cohorts were kept.
    cohort: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, and how it proved it."""

    uid: str
    handle: str
    token_hash: str
    #: True when the session came from the cookie (CSRF rules apply), False for Bearer.
    via_cookie: bool


@dataclasses.dataclass(frozen=True, slots=True)
class CheckIn:
    """One "I'm safe" check-in. Visible to its owner's friends only (see :mod:`.policy`)."""

    id: str
    owner: str
    status: CheckinStatus
    note: str
    pref: str | None
    event_id: str | None
    created_at: float
    expires_at: float
    #: Only when the owner opted in (``share_location``); otherwise None.
    lat: float | None = None
    lon: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CheckinDraft:
    """A validated check-in request, before the server gives it an id and times."""

    status: CheckinStatus
    note: str
    pref: str | None
    event_id: str | None
    lat: float | None
    lon: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class PostDraft:
    """A validated post request. ``lat``/``lon`` are still precise here: the post store
    tags and coarsens them and never keeps the precise values."""

    text: str
    pref: str | None
    lat: float | None
    lon: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class Post:
    """A public user post as stored (coordinates already coarsened)."""

    id: str
    author: str
    text: str
    pref: str | None
    lat: float | None
    lon: float | None
    created_at: float
    hidden: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CurrentEvent:
    """The latest official quake/tsunami event, as read from the public timeline."""

    event_id: str
    kind: Kind
    #: Unix seconds of the event's report (``reported_at``).
    occurred_at: float
