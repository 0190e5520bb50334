"""One person cannot speak as many (issue 10 #6): felt bursts and post reports count
distinct networks, new accounts and accounts made together from one network count once,
and sign-ups are limited per network."""

from __future__ import annotations

import dataclasses

from tests.safety_check.addresses import call_as, signup_from
from tests.safety_check.conftest import GENEROUS, Api, AppFactory, FakeClock, fast_config
from yure.safety_check.config import Limits
from yure.safety_check.services import SERVICES

HOUR_S = 3600.0


def net(n: int) -> str:
    """An address in the n-th /24 of 127.0.0.0/8 (another network for each n)."""
    return f"127.0.{n}.1"


async def test_thirty_accounts_from_one_address_are_one_felt_report(make_api: AppFactory) -> None:
    """Regression: 30 accounts made from one address in 24 s made a felt burst of 30."""
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(clock=clock)
    for n in range(30):
        await signup_from(api, f"sock{n}", net(7))
    clock.advance(2 * HOUR_S)  # old enough: the network alone must fold them
    counts = None
    for n in range(30):
        status, body = await call_as(
            api, f"sock{n}", net(7), "POST", "/api/felt", json={"pref": "47"}
        )
        assert status == 202
        counts = body["counts"]
    assert counts == {"user": 1, "p2p": 0, "total": 1}


async def test_accounts_made_together_count_once_from_any_network(
    make_api: AppFactory,
) -> None:
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(clock=clock)
    for n in range(3):
        await signup_from(api, f"batch{n}", net(8))
    clock.advance(2 * HOUR_S)
    for n in range(3):
        status, body = await call_as(
            api, f"batch{n}", net(20 + n), "POST", "/api/felt", json={"pref": "47"}
        )
        assert status == 202
    assert body["counts"]["user"] == 1


async def test_new_accounts_count_once_together(make_api: AppFactory) -> None:
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(clock=clock)
    for n in range(3):
        await signup_from(api, f"fresh{n}", net(30 + n))
    for n in range(3):
        _, body = await call_as(
            api, f"fresh{n}", net(30 + n), "POST", "/api/felt", json={"pref": "13"}
        )
    assert body["counts"]["user"] == 1


async def test_people_on_distinct_networks_count(make_api: AppFactory) -> None:
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(clock=clock)
    for n in range(3):
        await signup_from(api, f"person{n}", net(40 + n))
    clock.advance(2 * HOUR_S)
    for n in range(3):
        _, body = await call_as(
            api, f"person{n}", net(40 + n), "POST", "/api/felt", json={"pref": "13"}
        )
    assert body["counts"]["user"] == 3


async def test_three_fresh_accounts_cannot_hide_a_post(make_api: AppFactory) -> None:
    """Regression: three accounts made a minute ago hid any post."""
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(clock=clock)
    await signup_from(api, "author", net(50))
    clock.advance(2 * HOUR_S)
    _, post = await call_as(
        api, "author", net(50), "POST", "/api/posts", json={"text": "本当の情報"}
    )
    for n in range(3):
        await signup_from(api, f"troll{n}", net(60 + n))
    for n in range(3):
        status, _ = await call_as(
            api, f"troll{n}", net(60 + n), "POST", f"/api/posts/{post['id']}/report"
        )
        assert status == 202
    assert (await api.call("GET", f"/api/posts/{post['id']}"))[0] == 200


async def test_distinct_established_people_hide_a_post_and_the_operator_restores_it(
    make_api: AppFactory,
) -> None:
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(clock=clock)
    for n, who in enumerate(("author", "rep0", "rep1", "rep2")):
        await signup_from(api, who, net(70 + n))
    clock.advance(2 * HOUR_S)
    _, post = await call_as(api, "author", net(70), "POST", "/api/posts", json={"text": "spam"})
    pid = post["id"]
    for n in range(3):
        await call_as(api, f"rep{n}", net(71 + n), "POST", f"/api/posts/{pid}/report")
    assert (await api.call("GET", f"/api/posts/{pid}"))[0] == 404
    posts = api.client.app[SERVICES].posts
    hidden = await posts.hidden()
    assert [(p.id, p.text, p.hidden) for p in hidden] == [(pid, "spam", True)]
    assert await posts.restore(pid)
    assert not await posts.restore(pid)
    assert await posts.hidden() == []
    status, shown = await api.call("GET", f"/api/posts/{pid}")
    assert (status, shown["text"], shown["hidden"]) == (200, "spam", False)


async def test_sign_ups_are_limited_per_network(make_api: AppFactory) -> None:
    limits = dataclasses.replace(GENEROUS, account_net=Limits().account_net)
    api: Api = await make_api(config=fast_config(limits=limits))
    allowed = limits.account_net.max_requests
    for n in range(allowed):
        await signup_from(api, f"many{n}", f"127.0.90.{n + 1}")
    # Another address of the same /24 is the same network...
    async_status = await _signup_status(api, "onemore", "127.0.90.200")
    assert async_status == 429
    # ...another network is not.
    assert await _signup_status(api, "elsewhere", net(91)) == 201


async def _signup_status(api: Api, handle: str, address: str) -> int:
    from tests.safety_check.addresses import call_from, client_from
    from tests.safety_check.conftest import PASSWORD

    async with client_from(address) as session:
        status, _, _ = await call_from(
            session, api, "POST", "/api/accounts", json={"handle": handle, "password": PASSWORD}
        )
    return status


def test_account_tokens() -> None:
    from yure.safety_check.voices import NEW_TOKEN, account_token, cohort_of, counts, voice

    now = 1_900_000_000.0
    cohort = cohort_of("net-a", now - 5 * HOUR_S)
    assert cohort == cohort_of("net-a", now - 5 * HOUR_S + 1)
    assert cohort != cohort_of("net-b", now - 5 * HOUR_S)
    young = account_token("u1", created_at=now - 60, cohort=cohort, cohort_signups=1, now=now)
    assert young == NEW_TOKEN
    old = {"created_at": now - 5 * HOUR_S, "cohort": cohort, "now": now}
    assert account_token("u1", cohort_signups=2, **old) == "acct:u1"  # type: ignore[arg-type]
    assert account_token("u1", cohort_signups=3, **old) == f"cohort:{cohort}"  # type: ignore[arg-type]
    assert (
        account_token("u1", created_at=now - 5 * HOUR_S, cohort="", cohort_signups=9, now=now)
        == "acct:u1"
    )
    assert voice("net-a", "acct:u1") == ("net-a", "acct:u1")
    assert counts(set(), ("net-a", "acct:u1"))
    assert not counts({"net-a"}, ("net-a", "acct:u2"))
    assert not counts({"acct:u1"}, ("net-b", "acct:u1"))
