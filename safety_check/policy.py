"""Who may see what, and how friendship changes (pure: values in, decisions out).

Friendship is mutual: A asks for B, B asks for A (or A accepts B's invite link) and only
then are they friends. A check-in is shown to its owner and to the owner's friends, never to
friends of friends and never publicly. Drivers read the state from Redis, ask this module
what to do, and write the answer.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from urllib.parse import urlsplit

#: Methods that never change state (RFC 9110 §9.2.1); CSRF checks skip them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The header a page must send with cookie-authenticated writes. Browsers do not let another
#: origin set a custom header without a CORS preflight, which yure never grants (OWASP CSRF
#: Prevention Cheat Sheet, "Custom Request Headers").
CSRF_HEADER = "X-Yure-CSRF"
CSRF_HEADER_VALUE = "1"
#: A check-in lives at least this long (or its whole TTL when that is shorter), even when the
#: event it refers to is old.
MIN_CHECKIN_LIFETIME_S = 3600.0


class FriendStep(StrEnum):
    """What a friend request by handle does."""

    REQUESTED = "requested"  # a new pending request (or a handle nobody holds)
    ACCEPTED = "friends"  # the other side had asked: now mutual friends
    ALREADY_REQUESTED = "already_requested"
    ALREADY_FRIENDS = "already_friends"

    @property
    def answer(self) -> str:
        """What the requester is told: "requested" or "friends". A request to a handle that
        does not exist answers exactly like a fresh request to one that does."""
        return (
            "friends"
            if self in (FriendStep.ACCEPTED, FriendStep.ALREADY_FRIENDS)
            else ("requested")
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Link:
    """The state between a requester and a target, seen from the requester."""

    friends: bool
    i_asked: bool
    they_asked: bool


def friend_request_step(link: Link) -> FriendStep:
    """Decide what "I ask for them" does given the current link."""
    if link.friends:
        return FriendStep.ALREADY_FRIENDS
    if link.they_asked:
        return FriendStep.ACCEPTED
    if link.i_asked:
        return FriendStep.ALREADY_REQUESTED
    return FriendStep.REQUESTED


def may_view_checkin(viewer: str, owner: str, owner_friends: frozenset[str]) -> bool:
    """True iff ``viewer`` is the owner or one of the owner's (mutual) friends."""
    return viewer == owner or viewer in owner_friends


def checkin_expiry(*, now: float, event_at: float | None, ttl_s: float) -> float:
    """When a check-in is deleted: ``ttl_s`` after the event it refers to (or after now
    when there is none or its time is in the future), but never sooner than
    ``min(ttl_s, MIN_CHECKIN_LIFETIME_S)`` from now."""
    base = now if event_at is None or event_at > now else event_at
    return max(base + ttl_s, now + min(ttl_s, MIN_CHECKIN_LIFETIME_S))


def post_hidden(distinct_reporters: int, threshold: int) -> bool:
    """A post is hidden once ``threshold`` distinct accounts (not its author) reported it."""
    return distinct_reporters >= threshold


def _host_of(origin: str) -> str | None:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def csrf_ok(
    *, method: str, via_cookie: bool, csrf_header: str | None, origin: str | None, host: str
) -> bool:
    """May this request proceed? Bearer-token requests and safe methods always may; a
    cookie-authenticated write needs ``X-Yure-CSRF: 1`` and, when the browser sent an
    ``Origin``, one whose host is ours (host only: a TLS-terminating proxy changes the
    scheme we see)."""
    if method.upper() in SAFE_METHODS or not via_cookie:
        return True
    if csrf_header != CSRF_HEADER_VALUE:
        return False
    return origin is None or _host_of(origin) == host.lower()


def websocket_cookie_ok(*, origin: str | None, host: str) -> bool:
    """A WebSocket authenticated by cookie must come from our own pages: browsers always send
    ``Origin`` on the handshake (RFC 6455 §4.1, item 8), and a foreign one is
    cross-site WebSocket hijacking."""
    return origin is not None and _host_of(origin) == host.lower()
