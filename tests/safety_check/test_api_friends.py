"""Friends through the real API: mutual requests, invites, removal, no discovery."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.safety_check.conftest import Api, AppFactory, fast_config, running_api


async def test_request_then_accept(api: Api) -> None:
    for h in ("amy", "ben"):
        await api.signup(h)
    assert await api.call("POST", "/api/friends", "amy", json={"handle": "BEN"}) == (
        200,
        {"status": "requested"},
    )
    assert (await api.call("GET", "/api/friends", "amy"))[1] == {
        "friends": [],
        "incoming": [],
        "outgoing": ["ben"],
    }
    assert (await api.call("GET", "/api/friends", "ben"))[1] == {
        "friends": [],
        "incoming": ["amy"],
        "outgoing": [],
    }
    # Asking again changes nothing.
    assert (await api.call("POST", "/api/friends", "amy", json={"handle": "ben"}))[1] == {
        "status": "requested"
    }
    assert (await api.call("POST", "/api/friends", "ben", json={"handle": "amy"}))[1] == {
        "status": "friends"
    }
    for me, other in (("amy", "ben"), ("ben", "amy")):
        assert (await api.call("GET", "/api/friends", me))[1] == {
            "friends": [other],
            "incoming": [],
            "outgoing": [],
        }
    assert (await api.call("POST", "/api/friends", "amy", json={"handle": "ben"}))[1] == {
        "status": "friends"
    }


async def test_unknown_handle_answers_like_a_real_one(api: Api) -> None:
    for h in ("cat", "dan"):
        await api.signup(h)
    real = await api.call("POST", "/api/friends", "cat", json={"handle": "dan"})
    ghost = await api.call("POST", "/api/friends", "cat", json={"handle": "ghost_handle"})
    assert real == ghost == (200, {"status": "requested"})
    listing = (await api.call("GET", "/api/friends", "cat"))[1]
    assert listing["outgoing"] == ["dan", "ghost_handle"]
    assert await api.call("DELETE", "/api/friends/dan", "cat") == await api.call(
        "DELETE", "/api/friends/ghost_handle", "cat"
    )
    assert (await api.call("GET", "/api/friends", "cat"))[1]["outgoing"] == []
    # A request to a handle that did not exist never binds to whoever takes it later.
    await api.call("POST", "/api/friends", "cat", json={"handle": "latecomer"})
    await api.signup("latecomer")
    assert (await api.call("GET", "/api/friends", "latecomer"))[1]["incoming"] == []
    assert (await api.call("POST", "/api/friends", "latecomer", json={"handle": "cat"}))[1] == {
        "status": "requested"
    }


async def test_self_request_is_invalid(api: Api) -> None:
    await api.signup("solo")
    status, body = await api.call("POST", "/api/friends", "solo", json={"handle": "SOLO"})
    assert status == 400 and body["code"] == "invalid_input"


async def test_remove_ends_friendship_both_ways(api: Api) -> None:
    for h in ("eve", "fay"):
        await api.signup(h)
    await api.befriend("eve", "fay")
    await api.call("POST", "/api/checkins", "fay", json={"status": "safe"})
    assert (await api.call("GET", "/api/checkins/friends", "eve"))[1]["checkins"][0][
        "handle"
    ] == "fay"
    assert (await api.call("DELETE", "/api/friends/fay", "eve"))[0] == 204
    for me in ("eve", "fay"):
        assert (await api.call("GET", "/api/friends", me))[1]["friends"] == []
    assert (await api.call("GET", "/api/checkins/friends", "eve"))[1] == {"checkins": []}


async def test_invites(api: Api) -> None:
    for h in ("gus", "hal", "ivy"):
        await api.signup(h)
    status, body = await api.call("POST", "/api/invites", "gus")
    assert status == 201 and body["url"].endswith("/safety#invite=" + body["token"])
    token = body["token"]
    accept = {"token": token}
    assert (await api.call("POST", "/api/invites/accept", "gus", json=accept))[0] == 400
    # Looking at an invite names the inviter and changes nothing.
    assert await api.call("POST", "/api/invites/preview", "hal", json=accept) == (
        200,
        {"handle": "gus"},
    )
    assert (await api.call("GET", "/api/friends", "gus"))[1]["friends"] == []
    assert await api.call("POST", "/api/invites/accept", "hal", json=accept) == (
        200,
        {"status": "friends", "handle": "gus"},
    )
    assert (await api.call("GET", "/api/friends", "gus"))[1]["friends"] == ["hal"]
    # Single use; unknown and malformed tokens are simply not found.
    assert (await api.call("POST", "/api/invites/accept", "ivy", json=accept))[0] == 404
    assert (await api.call("POST", "/api/invites/preview", "ivy", json=accept))[0] == 404
    for bad in ("A" * 43, "short", 7):
        assert (await api.call("POST", "/api/invites/accept", "ivy", json={"token": bad}))[0] in (
            400,
            404,
        )


async def test_invite_token_never_travels_in_a_path(api: Api) -> None:
    """Regression (issue 10 #1): the token was accepted from the URL path, which proxies
    log; only a POST body carries it now."""
    for h in ("gus", "hal"):
        await api.signup(h)
    token = (await api.call("POST", "/api/invites", "gus"))[1]["token"]
    status, _ = await api.call("POST", f"/api/invites/{token}/accept", "hal")
    assert status in (404, 405)
    assert (await api.call("GET", "/api/friends", "hal"))[1]["friends"] == []


async def test_invites_expire(make_api: AppFactory) -> None:
    api: Api = await make_api(config=fast_config(invite_ttl_s=0.2))
    for h in ("gus", "hal"):
        await api.signup(h)
    token = (await api.call("POST", "/api/invites", "gus"))[1]["token"]
    # Redis drops the key at its PEXPIRE: poll (bounded) until it is gone.
    for _ in range(100):
        status, _ = await api.call("POST", "/api/invites/preview", "hal", json={"token": token})
        if status == 404:
            break
        await asyncio.sleep(0.05)
    assert status == 404
    assert (await api.call("POST", "/api/invites/accept", "hal", json={"token": token}))[0] == 404


def _oracle(asks: list[tuple[int, int]], removes: list[tuple[int, int]]) -> set[frozenset[int]]:
    """Friends after asks then removes: written independently of safety_check.policy."""
    pending: set[tuple[int, int]] = set()
    friends: set[frozenset[int]] = set()
    for a, b in asks:
        if a == b or frozenset((a, b)) in friends:
            continue
        if (b, a) in pending:
            pending.discard((b, a))
            friends.add(frozenset((a, b)))
        else:
            pending.add((a, b))
    for a, b in removes:
        friends.discard(frozenset((a, b)))
    return friends


USERS = 4
pairs = st.tuples(st.integers(0, USERS - 1), st.integers(0, USERS - 1)).filter(
    lambda p: p[0] != p[1]
)


async def _run_graph(
    redis_url: str, asks: list[tuple[int, int]], removes: list[tuple[int, int]]
) -> None:
    r = redis.asyncio.Redis.from_url(redis_url)
    await r.flushall()
    await r.aclose()
    async with running_api(redis_url) as api:
        await _check_graph(api, asks, removes)


async def _check_graph(
    api: Api, asks: list[tuple[int, int]], removes: list[tuple[int, int]]
) -> None:
    names = [f"user{i}" for i in range(USERS)]
    for name in names:
        await api.signup(name)
    for a, b in asks:
        await api.call("POST", "/api/friends", names[a], json={"handle": names[b]})
    for a, b in removes:
        await api.call("DELETE", f"/api/friends/{names[b]}", names[a])
    ids: dict[int, str] = {}
    for i, name in enumerate(names):
        status, body = await api.call("POST", "/api/checkins", name, json={"status": "safe"})
        assert status == 201
        ids[i] = body["id"]
    expected = _oracle(asks, removes)
    for viewer, name in enumerate(names):
        status, body = await api.call("GET", "/api/checkins/friends", name)
        seen: dict[str, Any] = {item["handle"]: item["checkin"] for item in body["checkins"]}
        should = {names[o] for o in range(USERS) if frozenset((viewer, o)) in expected}
        assert set(seen) == should
        for handle, checkin in seen.items():
            assert checkin["id"] == ids[names.index(handle)]
        for other in range(USERS):
            if other != viewer:
                status, _ = await api.call("DELETE", f"/api/checkins/{ids[other]}", name)
                assert status == 404


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(asks=st.lists(pairs, max_size=10), removes=st.lists(pairs, max_size=3))
@example(asks=[(0, 1), (1, 0), (1, 2), (2, 1), (2, 3)], removes=[])
@example(asks=[(0, 1), (1, 0), (2, 3), (3, 2)], removes=[(3, 2)])
def test_api_visibility_iff_mutual_friends(
    redis_url: str,
    asks: list[tuple[int, int]],
    removes: list[tuple[int, int]],
) -> None:
    """Random friend graphs on a small set of accounts: a viewer sees a check-in through the
    API iff they are friends with its owner, and can never delete it."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_run_graph(redis_url, asks, removes))
    finally:
        loop.close()
