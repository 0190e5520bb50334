"""A subscription: what the browser gave, the filter, and who manages it. Core module.

:func:`parse_subscribe_request` checks a ``POST``/``PUT`` body; :func:`record_to_json`
and :func:`record_from_json` are the one owner of the stored form.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from typing import Any

import orjson

from yure.broadcast.filter import PrefResolver, codes_as_given
from yure.push.ece import AUTH_SECRET_BYTES, Receiver, parse_receiver
from yure.push.endpoint import check_endpoint
from yure.push.errors import SubscriptionError
from yure.push.prefs import PushFilter, filter_to_json, parse_filter

#: Bytes of randomness in a subscription id and in a management token.
ID_BYTES = 12
TOKEN_BYTES = 32
_REQUEST_FIELDS = frozenset({"subscription", "filter"})
_SUBSCRIPTION_FIELDS = frozenset({"endpoint", "expirationTime", "keys"})


@dataclasses.dataclass(frozen=True, slots=True)
class Subscription:
    """One stored subscription."""

    id: str
    endpoint: str
    p256dh: str
    auth: str
    filter: PushFilter
    #: SHA-256 of the management token (the token itself is never stored).
    token_hash: str
    #: The client address that made it (the per-address cap counts these).
    address: str
    created_at: float

    def receiver(self) -> Receiver:
        """The parsed encryption keys (checked when the subscription was made).

        Raises:
            SubscriptionError: the stored keys are unusable.
        """
        return parse_receiver(self.p256dh, self.auth)


@dataclasses.dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """A checked ``POST /api/push/subscriptions`` body."""

    endpoint: str
    p256dh: str
    auth: str
    filter: PushFilter


def new_id() -> str:
    """A fresh subscription id."""
    return secrets.token_urlsafe(ID_BYTES)


def new_token() -> tuple[str, str]:
    """A fresh management token and its stored hash."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex). Tokens are random, so no salt."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, token_hash: str) -> bool:
    """Whether ``token`` is the one whose hash is ``token_hash`` (constant time)."""
    return token is not None and hmac.compare_digest(hash_token(token), token_hash)


def endpoint_hash(endpoint: str) -> str:
    """The key of an endpoint in the one-subscription-per-endpoint index."""
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


def parse_subscribe_request(
    body: bytes, *, resolve: PrefResolver = codes_as_given, allow_local: bool
) -> SubscribeRequest:
    """Check a subscribe body: ``{"subscription": {...}, "filter": {...}}``.

    Raises:
        SubscriptionError: not JSON, unknown fields, a bad endpoint (see
            :func:`~yure.push.endpoint.check_endpoint`), bad keys or a bad filter.
    """
    obj = _json_object(body)
    unknown = set(obj) - _REQUEST_FIELDS
    if unknown:
        raise SubscriptionError(f"unknown field {sorted(unknown)[0]!r}")
    sub = obj.get("subscription")
    if not isinstance(sub, dict):
        raise SubscriptionError("subscription must be the browser's PushSubscription JSON")
    unknown = set(sub) - _SUBSCRIPTION_FIELDS
    if unknown:
        raise SubscriptionError(f"subscription: unknown field {sorted(unknown)[0]!r}")
    endpoint = check_endpoint(sub.get("endpoint"), allow_local=allow_local)
    keys = sub.get("keys")
    if not isinstance(keys, dict):
        raise SubscriptionError("subscription.keys must hold p256dh and auth")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise SubscriptionError("subscription.keys.p256dh and .auth must be strings")
    if len(p256dh) > 200 or len(auth) > 4 * AUTH_SECRET_BYTES:
        raise SubscriptionError("subscription.keys are too long")
    parse_receiver(p256dh, auth)
    return SubscribeRequest(endpoint.url, p256dh, auth, parse_filter(obj.get("filter"), resolve))


def parse_filter_request(body: bytes, *, resolve: PrefResolver = codes_as_given) -> PushFilter:
    """Check a ``PUT`` body: ``{"filter": {...}}``.

    Raises:
        SubscriptionError: not JSON, other fields, or a bad filter.
    """
    obj = _json_object(body)
    unknown = set(obj) - {"filter"}
    if unknown:
        raise SubscriptionError(f"unknown field {sorted(unknown)[0]!r}")
    if "filter" not in obj:
        raise SubscriptionError("filter is missing")
    return parse_filter(obj["filter"], resolve)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise SubscriptionError("body is not JSON") from err
    if not isinstance(obj, dict):
        raise SubscriptionError("body must be a JSON object")
    return obj


def record_to_json(sub: Subscription) -> bytes:
    """The stored form of ``sub``."""
    flt = filter_to_json(sub.filter)
    return orjson.dumps(
        {
            "endpoint": sub.endpoint,
            "p256dh": sub.p256dh,
            "auth": sub.auth,
            "filter": flt,
            # The index keys the stored scripts maintain ("all" = nationwide).
            "index": flt["prefs"] or ["all"],
            "token": sub.token_hash,
            "address": sub.address,
            "eh": endpoint_hash(sub.endpoint),
            "created": sub.created_at,
        }
    )


def record_from_json(sub_id: str, data: bytes) -> Subscription:
    """Read a stored record back.

    Raises:
        SubscriptionError: not a record written by :func:`record_to_json`.
    """
    try:
        obj = orjson.loads(data)
        return Subscription(
            id=sub_id,
            endpoint=str(obj["endpoint"]),
            p256dh=str(obj["p256dh"]),
            auth=str(obj["auth"]),
            filter=parse_filter(obj["filter"]),
            token_hash=str(obj["token"]),
            address=str(obj["address"]),
            created_at=float(obj["created"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise SubscriptionError(f"stored subscription {sub_id} is unreadable") from err
