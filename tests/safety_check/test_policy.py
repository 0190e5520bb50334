"""Who may see what (safety_check.policy): tables and random friend graphs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yure.safety_check.policy import (
    MIN_CHECKIN_LIFETIME_S,
    FriendStep,
    Link,
    checkin_expiry,
    csrf_ok,
    friend_request_step,
    may_view_checkin,
    post_hidden,
    websocket_cookie_ok,
)


@pytest.mark.parametrize(
    ("link", "step", "answer"),
    [
        (Link(friends=False, i_asked=False, they_asked=False), FriendStep.REQUESTED, "requested"),
        (Link(False, True, False), FriendStep.ALREADY_REQUESTED, "requested"),
        (Link(False, False, True), FriendStep.ACCEPTED, "friends"),
        (Link(False, True, True), FriendStep.ACCEPTED, "friends"),
        (Link(True, False, False), FriendStep.ALREADY_FRIENDS, "friends"),
        (Link(True, True, True), FriendStep.ALREADY_FRIENDS, "friends"),
    ],
)
def test_friend_request_steps(link: Link, step: FriendStep, answer: str) -> None:
    assert friend_request_step(link) is step
    assert step.answer == answer


def test_may_view_table() -> None:
    assert may_view_checkin("a", "a", frozenset())
    assert may_view_checkin("b", "a", frozenset({"b"}))
    assert not may_view_checkin("c", "a", frozenset({"b"}))


users = st.sampled_from(["u0", "u1", "u2", "u3", "u4", "u5"])


@given(asks=st.lists(st.tuples(users, users), max_size=30), viewer=users)
def test_visibility_iff_friends(asks: list[tuple[str, str]], viewer: str) -> None:
    """Over random directed requests: a viewer sees exactly the check-ins of themselves and
    of those who asked them and whom they asked (mutual), never friends of friends."""
    directed = set(asks)
    all_users = ["u0", "u1", "u2", "u3", "u4", "u5"]

    def friends_of(owner: str) -> frozenset[str]:
        return frozenset(
            o for o in all_users if o != owner and (owner, o) in directed and (o, owner) in directed
        )

    seen = {o for o in all_users if may_view_checkin(viewer, o, friends_of(o))}
    expected = {viewer} | {
        o for o in all_users if o != viewer and (viewer, o) in directed and (o, viewer) in directed
    }
    assert seen == expected


def test_checkin_expiry() -> None:
    day = 86400.0
    assert checkin_expiry(now=1000.0, event_at=None, ttl_s=7 * day) == 1000.0 + 7 * day
    assert checkin_expiry(now=1000.0 + day, event_at=1000.0, ttl_s=7 * day) == 1000.0 + 7 * day
    assert checkin_expiry(now=1000.0, event_at=5000.0, ttl_s=7 * day) == 1000.0 + 7 * day
    old = checkin_expiry(now=100 * day, event_at=0.0, ttl_s=7 * day)
    assert old == 100 * day + MIN_CHECKIN_LIFETIME_S
    assert checkin_expiry(now=10.0, event_at=0.0, ttl_s=2) == 12.0


def test_post_hidden() -> None:
    assert not post_hidden(2, 3) and post_hidden(3, 3) and post_hidden(4, 3)


@pytest.mark.parametrize(
    ("method", "cookie", "header", "origin", "ok"),
    [
        ("GET", True, None, "https://evil.example", True),
        ("POST", False, None, "https://evil.example", True),
        ("POST", True, None, None, False),
        ("POST", True, "0", None, False),
        ("POST", True, "1", None, True),
        ("DELETE", True, "1", "https://yure.example", True),
        ("POST", True, "1", "http://YURE.example", True),
        ("POST", True, "1", "https://evil.example", False),
        ("POST", True, "1", "null", False),
        ("POST", True, "1", "https://yure.example.evil.example", False),
    ],
)
def test_csrf(method: str, cookie: bool, header: str | None, origin: str | None, ok: bool) -> None:
    result = csrf_ok(
        method=method, via_cookie=cookie, csrf_header=header, origin=origin, host="yure.example"
    )
    assert result is ok


def test_websocket_cookie_origin() -> None:
    assert websocket_cookie_ok(origin="https://yure.example", host="yure.example")
    assert not websocket_cookie_ok(origin=None, host="yure.example")
    assert not websocket_cookie_ok(origin="https://evil.example", host="yure.example")
    assert not websocket_cookie_ok(origin="http://[bad", host="yure.example")
