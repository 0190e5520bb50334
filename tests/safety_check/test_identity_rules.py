"""New passwords follow NIST SP 800-63B; handles are unique by their confusable skeleton;
zero-width and bidi controls never reach a handle, a post or a note (issue 10 #9)."""

from __future__ import annotations

import pytest

from tests.safety_check.conftest import Api
from yure.safety_check import text
from yure.safety_check.errors import InvalidInput


@pytest.mark.parametrize(
    ("handle", "password"),
    [
        ("hanako", " " * 8),  # only spaces
        ("hanako", "password"),  # the most common password there is
        ("hanako", "Password"),  # …whatever its case
        ("hanako", "iloveyou"),
        ("hanako", "hanako2024"),  # the handle plus digits
        ("hanako", "my HANAKO pass"),  # the handle anywhere, any case
        ("hanako", "aaaaaaaaaaaa"),  # one repeated character
        ("hanako", "abababababab"),  # two characters repeated
        ("hanako", "23456789"),  # a run
        ("hanako", "zyxwvutsrq"),  # a run downwards
    ],
)
async def test_weak_passwords_are_refused_at_sign_up(api: Api, handle: str, password: str) -> None:
    """Regression: 8 spaces, "password" and the handle plus digits were accepted."""
    status, body = await api.call(
        "POST", "/api/accounts", json={"handle": handle, "password": password}
    )
    assert status == 400, body
    assert body["code"] == "invalid_input" and "password" in body["detail"]


def test_password_rules() -> None:
    assert text.validate_new_password("correct horse", "hanako") == "correct horse"
    assert text.validate_new_password("😀🙂🌊😀🙂🌊😀🙂", "hanako")  # any Unicode
    assert text.is_common_password("PASSWORD1")
    assert not text.is_common_password("correct horse battery")
    with pytest.raises(InvalidInput, match="common"):
        text.validate_new_password("baseball", "hanako")
    with pytest.raises(InvalidInput, match="handle"):
        text.validate_new_password("xxhanakoxx", "hanako")
    with pytest.raises(InvalidInput):
        text.validate_new_password("short", "hanako")


@pytest.mark.parametrize(
    ("a", "b"),
    [("alice1", "al1ce1"), ("alice1", "aIice1"), ("bob0", "bobo"), ("emma", "ernrna")],
)
def test_confusable_handles_share_a_skeleton(a: str, b: str) -> None:
    assert text.handle_skeleton(text.normalize_handle(a)) == text.handle_skeleton(
        text.normalize_handle(b)
    )


def test_distinct_handles_keep_distinct_skeletons() -> None:
    assert text.handle_skeleton("alice1") != text.handle_skeleton("alice2")
    assert text.handle_skeleton("bob_1") != text.handle_skeleton("bob1")


async def test_confusable_handles_cannot_sit_beside_each_other(api: Api) -> None:
    """Regression: al1ce1 and aIice1 could sign up beside alice1."""
    await api.signup("alice1")
    for lookalike in ("al1ce1", "aIice1", "ALICEL"):
        status, body = await api.call(
            "POST", "/api/accounts", json={"handle": lookalike, "password": "correct horse"}
        )
        assert status == 409, (lookalike, body)
    await api.signup("alice2")


@pytest.mark.parametrize(
    "raw",
    ["ali\u200bce", "ali\u200dce", "\u202ealice", "alice\u2066", "\ufeffalice", "ali\u00adce"],
)
def test_invisible_characters_are_refused_in_handles(raw: str) -> None:
    with pytest.raises(InvalidInput):
        text.normalize_handle(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\u200bb\u200cc\u2060d\ufeffe", "abcde"),  # zero-width space/non-joiner, WJ, BOM
        ("a\u200eb\u200fc\u061cd", "abcd"),  # LRM, RLM, ALM
        ("pay\u00adpal", "paypal"),  # soft hyphen
        ("a\u200db", "ab"),  # a ZWJ outside an emoji
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # inside an emoji sequence: kept
        ("🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"),  # after a variation selector: kept
        ("👍🏽\u200d", "👍🏽"),  # trailing ZWJ: dropped
    ],
)
def test_zero_width_characters_are_stripped_from_posts_and_notes(raw: str, clean: str) -> None:
    """Regression: zero-width characters passed through into posts and notes."""
    assert text.clean_post_text(raw) == clean
    assert text.clean_note(raw) == clean


async def test_handles_made_before_skeletons_are_backfilled(api: Api) -> None:
    """Accounts from before skeletons were kept get theirs at start-up, once."""
    from yure.safety_check import keys
    from yure.safety_check.services import SERVICES

    await api.signup("alice1")
    await api.redis.delete(keys.skeleton(text.handle_skeleton("alice1")), keys.SKELETONS_DONE)
    status, _ = await api.call(
        "POST", "/api/accounts", json={"handle": "al1ce1", "password": "correct horse"}
    )
    assert status == 201  # the hole the backfill closes
    await api.redis.delete(keys.skeleton(text.handle_skeleton("alice1")), keys.SKELETONS_DONE)
    # alice1 and al1ce1 share one skeleton: one key, held by whichever came first.
    assert await api.client.app[SERVICES].accounts.backfill_skeletons() == 1
    assert await api.client.app[SERVICES].accounts.backfill_skeletons() == 0  # done once
    status, _ = await api.call(
        "POST", "/api/accounts", json={"handle": "aiice1", "password": "correct horse"}
    )
    assert status == 409
