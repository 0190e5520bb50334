"""Password guessing is slowed per address and per account+address, with growing delays;
nobody can lock the owner out from another address (issue 10 #4)."""

from __future__ import annotations

import itertools

from tests.safety_check.addresses import call_from, client_from
from tests.safety_check.conftest import PASSWORD, Api, AppFactory, FakeClock, fast_config
from yure.safety_check.config import Limits

WRONG = "not the password"


def production_limits() -> Limits:
    return Limits()


async def test_guesses_elsewhere_never_refuse_the_owner(make_api: AppFactory) -> None:
    """Regression: ten wrong passwords from one address made the right password from any
    other address answer 429 for five minutes."""
    api: Api = await make_api(config=fast_config(limits=production_limits()))
    await api.signup("hanako")
    creds = {"handle": "hanako", "password": WRONG}
    async with client_from("127.0.1.1") as attacker:
        for _ in range(30):
            status, _, _ = await call_from(attacker, api, "POST", "/api/sessions", json=creds)
            assert status in (401, 429)
    async with client_from("127.0.2.1") as owner:
        good = {"handle": "hanako", "password": PASSWORD}
        status, body, _ = await call_from(owner, api, "POST", "/api/sessions", json=good)
    assert status == 200, body


async def test_guessing_address_meets_growing_delays(make_api: AppFactory) -> None:
    clock = FakeClock(1_900_000_000.0)
    api: Api = await make_api(config=fast_config(limits=production_limits()), clock=clock)
    await api.signup("hanako")
    creds = {"handle": "hanako", "password": WRONG}
    delays: list[int] = []
    async with client_from("127.0.3.1") as guesser:
        for _ in range(16):
            status, _, headers = await call_from(guesser, api, "POST", "/api/sessions", json=creds)
            if status == 429:
                retry = int(headers["Retry-After"])
                delays.append(retry)
                # Even the right password waits out the delay from this address...
                good = {"handle": "hanako", "password": PASSWORD}
                assert (await call_from(guesser, api, "POST", "/api/sessions", json=good))[0] == 429
                clock.advance(retry)
            else:
                assert status == 401
        # Each guess past the free ones doubles the wait.
        assert len(delays) >= 4
        assert all(later == 2 * earlier for earlier, later in itertools.pairwise(delays)), delays
        # ...and gets in once the delay is over.
        good = {"handle": "hanako", "password": PASSWORD}
        clock.advance(delays[-1] * 2)
        assert (await call_from(guesser, api, "POST", "/api/sessions", json=good))[0] == 200
