"""Token shapes and bearer parsing (safety_check.tokens), rate-limit arithmetic
(safety_check.ratelimit)."""

from __future__ import annotations

import hashlib

import pytest

from yure.safety_check.errors import Unauthorized
from yure.safety_check.ratelimit import Limit, decide, retry_after_s, window_index
from yure.safety_check.tokens import bearer_token, hash_token, is_id, is_token, new_id, new_token


def test_tokens() -> None:
    token = new_token()
    assert is_token(token) and len(token) == 43 and token != new_token()
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert is_id(new_id()) and not is_id("short") and not is_token(token + "x")


@pytest.mark.parametrize(
    ("header", "result"),
    [(None, None), ("Bearer " + "a" * 43, "a" * 43), ("bearer   " + "b" * 43 + " ", "b" * 43)],
)
def test_bearer(header: str | None, result: str | None) -> None:
    assert bearer_token(header) == result


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Basic abc", "Bearer " + "a" * 42, "Bearer " + "a" * 300, "Token x"]
)
def test_bad_bearer(header: str) -> None:
    with pytest.raises(Unauthorized):
        bearer_token(header)


def test_fixed_windows() -> None:
    limit = Limit("x", 3, 60)
    assert window_index(limit, 119.9) == 1 and window_index(limit, 120.0) == 2
    assert [decide(limit, n, 100.0) for n in (1, 2, 3)] == [None, None, None]
    assert decide(limit, 4, 100.0) == 20
    assert retry_after_s(limit, 119.99) == 1  # never 0
    with pytest.raises(ValueError):
        Limit("bad", 0, 60)
