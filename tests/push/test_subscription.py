"""subscription: request bodies and the stored record."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.push.pushservice import BrowserKeys
from yure.push.errors import SubscriptionError
from yure.push.prefs import PushFilter
from yure.push.subscription import (
    Subscription,
    hash_token,
    new_token,
    parse_filter_request,
    parse_subscribe_request,
    record_from_json,
    record_to_json,
    token_matches,
)


def test_record_round_trip() -> None:
    keys = BrowserKeys.generate()
    token, token_hash = new_token()
    sub = Subscription(
        "id1",
        "https://push.example/x",
        keys.p256dh,
        keys.auth,
        PushFilter(prefs=frozenset({"13"})),
        token_hash,
        "192.0.2.1",
        1.5,
    )
    assert record_from_json("id1", record_to_json(sub)) == sub
    assert sub.receiver().auth_secret
    assert token_matches(token, token_hash)
    assert not token_matches(None, token_hash)
    assert not token_matches(token + "x", token_hash)
    assert hash_token(token) == token_hash
    with pytest.raises(SubscriptionError, match="unreadable"):
        record_from_json("id1", b'{"endpoint": 1}')


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b"{}", "filter is missing"),
        (b'{"filter": {}, "x": 1}', "unknown field 'x'"),
        (b'{"filter": {"eew": "no"}}', "eew"),
    ],
)
def test_filter_request_errors(body: bytes, reason: str) -> None:
    with pytest.raises(SubscriptionError, match=reason):
        parse_filter_request(body)


def test_filter_request() -> None:
    assert parse_filter_request(b'{"filter": {"prefs": ["13"]}}').prefs == frozenset({"13"})


def test_subscribe_request_limits_key_lengths() -> None:
    keys = BrowserKeys.generate()
    body: dict[str, Any] = {
        "subscription": {
            "endpoint": "https://push.example/x",
            "keys": {"p256dh": keys.p256dh + "A" * 200, "auth": keys.auth},
        }
    }
    with pytest.raises(SubscriptionError, match="too long"):
        parse_subscribe_request(orjson.dumps(body), allow_local=False)
    body["subscription"]["keys"]["p256dh"] = keys.p256dh
    body["subscription"]["expirationTime"] = None
    assert parse_subscribe_request(orjson.dumps(body), allow_local=False).p256dh == keys.p256dh
    body["subscription"]["extra"] = 1
    with pytest.raises(SubscriptionError, match="unknown field 'extra'"):
        parse_subscribe_request(orjson.dumps(body), allow_local=False)
