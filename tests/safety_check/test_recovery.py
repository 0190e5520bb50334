"""Account recovery without e-mail (issue 15): ten one-time recovery codes at sign-up,
stored hashed; a code sets a new password, ends every session and is burnt."""

from __future__ import annotations

from tests.safety_check.conftest import PASSWORD, Api, AppFactory, fast_config, redis_dump
from yure.safety_check.guesses import GuessPolicy

NEW_PASSWORD = "a brand new passphrase"


async def _signup(api: Api, handle: str) -> list[str]:
    resp = await api.client.post("/api/accounts", json={"handle": handle, "password": PASSWORD})
    assert resp.status == 201
    body = await resp.json()
    api.client.session.cookie_jar.clear()
    api.tokens[handle] = body["token"]
    codes: list[str] = body["recovery_codes"]
    return codes


async def _recover(
    api: Api, handle: str, code: str, password: str = NEW_PASSWORD
) -> tuple[int, dict[str, object]]:
    status, body = await api.call(
        "POST",
        "/api/accounts/recover",
        json={"handle": handle, "code": code, "new_password": password},
    )
    return status, body


async def test_codes_are_given_once_and_stored_hashed(api: Api) -> None:
    codes = await _signup(api, "hanako")
    assert len(codes) == 10 and len(set(codes)) == 10
    dump = await redis_dump(api.redis)
    for code in codes:
        assert code.encode() not in dump and code.replace("-", "").encode() not in dump


async def test_a_code_resets_the_password_ends_sessions_and_is_burnt(api: Api) -> None:
    codes = await _signup(api, "hanako")
    old_token = api.tokens["hanako"]
    assert (await api.call("GET", "/api/sessions/current", "hanako"))[0] == 200
    status, body = await _recover(api, "hanako", codes[3].upper().replace("-", " "))
    assert status == 200, body
    assert body["handle"] == "hanako" and body["codes_left"] == 9
    # Every earlier session is gone; the answer's own token works.
    api.tokens["old"] = old_token
    assert (await api.call("GET", "/api/sessions/current", "old"))[0] == 401
    api.tokens["hanako"] = str(body["token"])
    assert (await api.call("GET", "/api/sessions/current", "hanako"))[0] == 200
    old_login = {"handle": "hanako", "password": PASSWORD}
    assert (await api.call("POST", "/api/sessions", json=old_login))[0] == 401
    new_login = {"handle": "hanako", "password": NEW_PASSWORD}
    assert (await api.call("POST", "/api/sessions", json=new_login))[0] == 200
    # Used once: the same code again is refused.
    assert (await _recover(api, "hanako", codes[3], "yet another passphrase"))[0] == 401


async def test_wrong_code_and_unknown_handle_answer_alike(api: Api) -> None:
    codes = await _signup(api, "hanako")
    await _signup(api, "taro")
    wrong = await _recover(api, "hanako", "aaaa-bbbb-cccc")
    nobody = await _recover(api, "nobody_here", codes[0])
    other = await _recover(api, "taro", codes[0])  # hanako's code is not taro's
    assert wrong == nobody == other
    assert wrong[0] == 401 and wrong[1]["code"] == "unauthorized"
    # Nothing was burnt by the failures.
    assert (await _recover(api, "hanako", codes[0]))[0] == 200


async def test_new_password_rules_and_fresh_codes(api: Api) -> None:
    codes = await _signup(api, "hanako")
    assert (await _recover(api, "hanako", codes[0], "password"))[0] == 400
    assert (await _recover(api, "hanako", codes[0], "hanako123"))[0] == 400
    status, body = await api.call("POST", "/api/recovery-codes", "hanako")
    assert status == 201 and len(body["recovery_codes"]) == 10
    assert (await _recover(api, "hanako", codes[0]))[0] == 401  # the old set is gone
    assert (await _recover(api, "hanako", body["recovery_codes"][0]))[0] == 200
    api.client.session.cookie_jar.clear()
    assert (await api.call("POST", "/api/recovery-codes"))[0] == 401


async def test_recovery_is_throttled_like_login(make_api: AppFactory) -> None:
    api: Api = await make_api(
        config=fast_config(pair_guesses=GuessPolicy("pair", 2, 60.0, 900.0, 3600.0))
    )
    codes = await _signup(api, "hanako")
    answers = [(await _recover(api, "hanako", f"zzzz-zzzz-zzz{n}"))[0] for n in range(4)]
    assert answers == [401, 401, 401, 429]
    # Even a right code waits out the delay from this address.
    assert (await _recover(api, "hanako", codes[0]))[0] == 429
